package authflow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// One-time passwords, as in PocketBase: RequestOTP mails a code and
// returns an otpId (a random one for an unknown address, so the answer
// does not tell whether an account exists); OTPLogin with that id and the
// code logs in. Codes are stored bcrypt-hashed in _otps, expire after
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

// RequestOTP emails a one-time code to the account with email and
// returns the OTP's id; for an address without an account, a random id
// after the same work.
func (s *Service) RequestOTP(ctx context.Context, c *schema.Collection, email string) (string, error) {
	opts := Options(c)
	if !opts.OTP.Enabled {
		return "", forbidden("OTP authentication is not enabled for this collection.")
	}
	rec, err := s.AccountByEmail(ctx, c, email)
	if err != nil {
		return "", err
	}
	otps := s.systemCollection(otpsCollection)
	length := opts.OTP.Length
	if length <= 0 {
		length = 8
	}
	code := schema.RandomString(length, "0123456789")
	hash, err := auth.HashPassword(code, otpCost(otps))
	if err != nil {
		return "", err
	}
	if rec == nil {
		// The same work and answer as for a real account.
		return schema.NewID(), nil
	}
	now := time.Now()
	row := schema.NewRecord(otps)
	schema.Prepare(row, true, now)
	row.Set("collectionRef", c.ID)
	row.Set("recordRef", rec.ID())
	row.Set("password", hash)
	row.Set("sentTo", rec.GetString("email"))
	row.Set("attempts", float64(0))
	err = s.Store.Tx(ctx, func(tx *store.Tx) error {
		if err := purgeExpired(ctx, tx, otps, c, rec.ID(), now.Add(-seconds(opts.OTP.Duration, 3*time.Minute))); err != nil {
			return err
		}
		return tx.Insert(ctx, row)
	})
	if err != nil {
		return "", err
	}
	to := rec.GetString("email")
	s.sendMail("otp", rec.ID(), to, func(app mailer.AppInfo) (mailer.Email, error) {
		return MailTemplates(c).OTPEmail(app, to, code)
	})
	return row.ID(), nil
}

// OTPCheckEnabled refuses (403) when c does not allow OTP logins; the
// REST API checks it before reading the body.
func OTPCheckEnabled(c *schema.Collection) error {
	if !Options(c).OTP.Enabled {
		return forbidden("OTP authentication is not enabled for this collection.")
	}
	return nil
}

// OTPLogin authenticates with an OTP's id and its code.
func (s *Service) OTPLogin(ctx context.Context, caller *record.Caller, c *schema.Collection, otpID, code string, client Client) (*Result, error) {
	opts := Options(c)
	if !opts.OTP.Enabled {
		return nil, forbidden("OTP authentication is not enabled for this collection.")
	}
	if err := Required("otpId", otpID, "password", code); err != nil {
		return nil, err
	}
	otpID = strings.TrimSpace(otpID)
	throttleID := "otp:" + c.ID + ":" + otpID
	if err := s.throttle(ctx, throttleID, client.IP); err != nil {
		return nil, err
	}
	otps := s.systemCollection(otpsCollection)
	// The attempt is counted before the code is compared, so concurrent
	// guesses cannot all read the same count; an unknown id takes the same
	// write and the same bcrypt time (at the cost of real OTP hashes).
	row, err := s.takeOTPAttempt(ctx, otps, c, otpID, seconds(opts.OTP.Duration, 3*time.Minute))
	if err != nil {
		return nil, err
	}
	hash := ""
	if row != nil {
		hash = row.GetString("password")
	}
	if !auth.CheckPassword(hash, code, otpCost(otps)) {
		// A code out of guesses stays until it expires and is purged
		// (purgeExpired), so that no guess takes another write path.
		s.failed(ctx, throttleID, client.IP)
		return nil, invalidOTP()
	}
	var rec *schema.Record
	err = s.Store.Tx(ctx, func(tx *store.Tx) error {
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
			rec, err = s.Records.Update(ctx, tx, record.System(), c, rec.ID(), map[string]any{"verified": true})
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidOTP()
	}
	if err != nil {
		return nil, err
	}
	s.succeeded(ctx, throttleID, client.IP)
	return s.complete(ctx, caller, c, rec, MethodOTP, client, nil)
}

// takeOTPAttempt counts one guess against the OTP otpID of collection c
// and returns its row, or nil when there is no such live OTP (unknown,
// another collection's, expired or out of attempts). The count is a
// compare-and-set of attempts from n to n+1 while n < maxOTPAttempts, so
// however many requests race, at most maxOTPAttempts of them get a row to
// compare their code with. An id that names no live OTP runs the same
// UPDATE statement, bound to match no row, so every guess costs one read
// and one write, whatever the id.
func (s *Service) takeOTPAttempt(ctx context.Context, otps, c *schema.Collection, otpID string, ttl time.Duration) (*schema.Record, error) {
	id := otpID
	if !schema.ValidID(id) {
		id = schema.NewID()
	}
	// Each lost race means another request took an attempt; after
	// maxOTPAttempts of those none is left, so the loop ends.
	for range maxOTPAttempts + 2 {
		var taken *schema.Record
		retry := false
		err := s.Store.Tx(ctx, func(tx *store.Tx) error {
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
