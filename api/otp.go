package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// One-time passwords, as in PocketBase: request-otp mails a code and
// answers {"otpId"} (a random one for an unknown address, so the answer
// does not tell whether an account exists); auth-with-otp {otpId,
// password} logs in. Codes are stored bcrypt-hashed in _otps, expire after
// otp.duration, are used once and die after maxOTPAttempts wrong guesses.

// maxOTPAttempts is how many wrong codes an OTP survives.
const maxOTPAttempts = 5

// otpCost is the bcrypt cost of OTP hashes: the _otps password field's,
// else 4 (a code lives minutes and guesses are counted).
func otpCost(otps *schema.Collection) int {
	if f := otps.Field("password"); f != nil {
		if po, ok := f.Options.(*schema.PasswordOptions); ok && po.Cost > 0 {
			return po.Cost
		}
	}
	return 4
}

func (s *Server) requestOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	opts := authOptions(c)
	if !opts.OTP.Enabled {
		return forbidden("OTP authentication is not enabled for this collection.")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	rec, err := s.accountByEmail(r.Context(), c, body)
	if err != nil {
		return err
	}
	otps := s.systemCollection(otpsCollection)
	length := opts.OTP.Length
	if length <= 0 {
		length = 8
	}
	code := schema.RandomString(length, "0123456789")
	hash, err := auth.HashPassword(code, otpCost(otps))
	if err != nil {
		return err
	}
	if rec == nil {
		// The same work and answer as for a real account.
		writeJSON(w, http.StatusOK, map[string]string{"otpId": schema.NewID()})
		return nil
	}
	now := time.Now()
	row := schema.NewRecord(otps)
	schema.Prepare(row, true, now)
	row.Set("collectionRef", c.ID)
	row.Set("recordRef", rec.ID())
	row.Set("password", hash)
	row.Set("sentTo", rec.GetString("email"))
	row.Set("attempts", float64(0))
	ctx := r.Context()
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if err := purgeExpired(ctx, tx, otps, c, rec.ID(), now.Add(-seconds(opts.OTP.Duration, 3*time.Minute))); err != nil {
			return err
		}
		return tx.Insert(ctx, row)
	})
	if err != nil {
		return err
	}
	to := rec.GetString("email")
	s.sendMail("otp", rec.ID(), to, func(app mailer.AppInfo) (mailer.Email, error) {
		return mailer.OTPEmail(app, to, code)
	})
	writeJSON(w, http.StatusOK, map[string]string{"otpId": row.ID()})
	return nil
}

// invalidOTP answers every OTP failure alike.
func invalidOTP() *Error {
	return &Error{Status: http.StatusBadRequest, Message: "Invalid or expired OTP.",
		Data: schema.Errors{"otpId": schema.NewFieldError("validation_invalid_otp", "Invalid or expired OTP.")}}
}

func (s *Server) authWithOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	opts := authOptions(c)
	if !opts.OTP.Enabled {
		return forbidden("OTP authentication is not enabled for this collection.")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if err := requireFields(body, "otpId", "password"); err != nil {
		return err
	}
	otpID, code := strings.TrimSpace(bodyString(body, "otpId")), bodyString(body, "password")
	throttleID := "otp:" + c.ID + ":" + otpID
	if err := s.loginThrottle(r, throttleID); err != nil {
		return err
	}
	ctx := r.Context()
	otps := s.systemCollection(otpsCollection)
	// The attempt is counted before the code is compared, so concurrent
	// guesses cannot all read the same count; an unknown id takes the same
	// write and the same bcrypt time (at the cost of real OTP hashes).
	row, err := s.takeOTPAttempt(ctx, otps, c, otpID, seconds(opts.OTP.Duration, 3*time.Minute))
	if err != nil {
		return err
	}
	hash := ""
	if row != nil {
		hash = row.GetString("password")
	}
	if !auth.CheckPassword(hash, code, otpCost(otps)) {
		// A code out of guesses stays until it expires and is purged
		// (purgeExpired), so that no guess takes another write path.
		s.loginFailed(r, throttleID)
		return invalidOTP()
	}
	var rec *schema.Record
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		// One use: of two concurrent logins only one deletes the row.
		if err := tx.Delete(ctx, row); err != nil {
			return err
		}
		rec, err = tx.FindOne(ctx, c, row.GetString("recordRef"), nil)
		if err != nil {
			return err
		}
		// A code sent to the record's address proves the address.
		if rec.Get("verified") != true && strings.EqualFold(row.GetString("sentTo"), rec.GetString("email")) {
			rec, err = s.records.Update(ctx, tx, record.System(), c, rec.ID(), map[string]any{"verified": true})
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return invalidOTP()
	}
	if err != nil {
		return err
	}
	s.loginSucceeded(r, throttleID)
	return s.completeAuth(w, r, c, rec, authMethodOTP, body, nil)
}

// takeOTPAttempt counts one guess against the OTP otpID of collection c
// and returns its row, or nil when there is no such live OTP (unknown,
// another collection's, expired or out of attempts). The count is a
// compare-and-set of attempts from n to n+1 while n < maxOTPAttempts, so
// however many requests race, at most maxOTPAttempts of them get a row to
// compare their code with. An id that names no live OTP runs the same
// UPDATE statement, bound to match no row, so every guess costs one read
// and one write, whatever the id.
func (s *Server) takeOTPAttempt(ctx context.Context, otps, c *schema.Collection, otpID string, ttl time.Duration) (*schema.Record, error) {
	id := otpID
	if !schema.ValidID(id) {
		id = schema.NewID()
	}
	// Each lost race means another request took an attempt; after
	// maxOTPAttempts of those none is left, so the loop ends.
	for range maxOTPAttempts + 2 {
		var taken *schema.Record
		retry := false
		err := s.store.Tx(ctx, func(tx *store.Tx) error {
			taken, retry = nil, false
			row, err := tx.FindOne(ctx, otps, id, nil)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			live := row != nil && row.GetString("collectionRef") == c.ID
			var attempts float64
			if live {
				attempts, _ = row.Get("attempts").(float64)
				live = !expired(row, ttl) && attempts < maxOTPAttempts
			}
			var next *schema.Record
			expect := attempts
			if live {
				next = row.Clone()
			} else {
				// The same statement, bound to match nothing.
				next = schema.NewRecord(otps)
				next.Set("id", id)
				expect = -1
			}
			next.Set("attempts", attempts+1)
			schema.Prepare(next, false, time.Now())
			err = tx.UpdateIf(ctx, next, "attempts", expect)
			switch {
			case errors.Is(err, store.ErrConflict):
				retry = live
				return nil
			case err != nil:
				return err
			}
			taken = next
			return nil
		})
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, nil // deleted meanwhile
			}
			return nil, err
		}
		if !retry {
			return taken, nil
		}
	}
	return nil, nil
}
