package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
	"github.com/plinthdev/plinth/totp"
)

// TOTP as a second factor (beyond PocketBase). An auth record enrols
// (secret, otpauth:// URI and QR code), confirms with a first code (and
// receives its one-time recovery codes, shown once), and from then on
// every login needs a second factor: auth-with-totp {mfaId, code} with a
// current code or a recovery code. The secret is sealed at rest with the
// server's encryption key, bound to the record; a used time step and a
// used recovery code are consumed with a compare-and-set, so neither can
// be replayed, even by two concurrent requests.

// totpQRSize is the side of the enrolment QR code, in pixels.
const totpQRSize = 256

// totpAAD binds a sealed secret to its record.
func totpAAD(c *schema.Collection, id string) []byte {
	return []byte("totp/" + c.ID + "/" + id)
}

// totpRow returns the record's TOTP enrolment, or nil.
func (s *Server) totpRow(ctx context.Context, c *schema.Collection, id string) (*schema.Record, error) {
	rows, err := s.store.FindBy(ctx, s.systemCollection(totpsCollection), 1, refInfo(c, id, nil), refFilter)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// selfAuth returns the request's auth record, which must belong to c.
func selfAuth(r *http.Request, c *schema.Collection) (*schema.Record, error) {
	rec := authRecord(r)
	if rec == nil {
		return nil, unauthorized("The request requires valid record authorization token.")
	}
	if rec.Collection.ID != c.ID {
		return nil, forbidden("The authorized record belongs to another collection.")
	}
	return rec, nil
}

func totpError(key, code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: msg, Data: schema.Errors{key: schema.NewFieldError(code, msg)}}
}

// label makes s usable as a TOTP issuer or account name (no colons).
func label(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, ":", " "))
	if s == "" {
		return "Plinth"
	}
	return s
}

// openSecret decrypts the row's secret.
func (s *Server) openSecret(c *schema.Collection, id string, row *schema.Record) (string, error) {
	plain, err := s.sys.sealer.Open(row.GetString("secret"), totpAAD(c, id))
	if err != nil {
		return "", errors.New("open TOTP secret (was the encryption key changed?): " + err.Error())
	}
	return string(plain), nil
}

func (s *Server) enrollTOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	rec, err := selfAuth(r, c)
	if err != nil {
		return err
	}
	ctx := r.Context()
	row, err := s.totpRow(ctx, c, rec.ID())
	if err != nil {
		return err
	}
	if row != nil && row.Get("confirmed") == true {
		return totpError("totp", "validation_totp_enabled", "TOTP is already enabled; disable it first.")
	}
	account := rec.GetString("email")
	if account == "" {
		account = rec.ID()
	}
	key, err := totp.Generate(label(s.currentSettings().s.Meta.AppName), label(account))
	if err != nil {
		return err
	}
	sealed, err := s.sys.sealer.Seal([]byte(key.Secret), totpAAD(c, rec.ID()))
	if err != nil {
		return err
	}
	png, err := key.PNG(totpQRSize)
	if err != nil {
		return err
	}
	now := time.Now()
	creating := row == nil
	if creating {
		row = schema.NewRecord(s.systemCollection(totpsCollection))
		row.Set("collectionRef", c.ID)
		row.Set("recordRef", rec.ID())
	}
	// A new enrolment replaces an unconfirmed one.
	row.Set("secret", sealed)
	row.Set("confirmed", false)
	row.Set("recoveryCodes", json.RawMessage(nil))
	row.Set("lastStep", float64(0))
	schema.Prepare(row, creating, now)
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if creating {
			return tx.Insert(ctx, row)
		}
		return tx.UpdateIf(ctx, row, "confirmed", false)
	})
	if errors.Is(err, store.ErrConflict) {
		return totpError("totp", "validation_totp_enabled", "TOTP is already enabled; disable it first.")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"secret": key.Secret,
		"uri":    key.URI,
		"qr":     "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
	})
	return nil
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	rec, err := selfAuth(r, c)
	if err != nil {
		return err
	}
	if err := requireFields(body, "code"); err != nil {
		return err
	}
	ctx := r.Context()
	row, err := s.totpRow(ctx, c, rec.ID())
	if err != nil {
		return err
	}
	switch {
	case row == nil:
		return totpError("totp", "validation_totp_not_enrolled", "There is no TOTP enrolment to confirm; call totp/enroll first.")
	case row.Get("confirmed") == true:
		return totpError("totp", "validation_totp_enabled", "TOTP is already enabled.")
	}
	secret, err := s.openSecret(c, rec.ID(), row)
	if err != nil {
		return err
	}
	last, _ := row.Get("lastStep").(float64)
	step, ok := totp.Verify(secret, bodyString(body, "code"), time.Now(), int64(last))
	if !ok {
		return totpError("code", "validation_invalid_code", "Invalid or expired code.")
	}
	plain, hashed := totp.NewRecoveryCodes(0)
	codes, err := json.Marshal(hashed)
	if err != nil {
		return err
	}
	row.Set("confirmed", true)
	row.Set("lastStep", float64(step))
	row.Set("recoveryCodes", json.RawMessage(codes))
	schema.Prepare(row, false, time.Now())
	err = s.store.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateIf(ctx, row, "lastStep", last) })
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return totpError("code", "validation_invalid_code", "Invalid or expired code.")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recoveryCodes": plain})
	return nil
}

// useTOTPCode consumes a current code or a recovery code of a confirmed
// enrolment. It reports false for a wrong, replayed or raced code; left
// is the number of recovery codes remaining when one was used, else -1.
func (s *Server) useTOTPCode(ctx context.Context, c *schema.Collection, id string, row *schema.Record, code string) (ok bool, left int, err error) {
	secret, err := s.openSecret(c, id, row)
	if err != nil {
		// Recovery codes do not need the key: they still let the user in
		// (to disable TOTP and enrol again) after a key was lost.
		s.log.ErrorContext(ctx, "totp: cannot open a secret", "collection", c.Name, "record", id, "err", err)
	}
	last, _ := row.Get("lastStep").(float64)
	field, expected := "lastStep", any(last)
	left = -1
	if step, good := totp.Verify(secret, code, time.Now(), int64(last)); good && secret != "" {
		row.Set("lastStep", float64(step))
	} else {
		raw, _ := row.Get("recoveryCodes").(json.RawMessage)
		var hashes []string
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &hashes); err != nil {
				return false, -1, err
			}
		}
		remaining, good := totp.UseRecoveryCode(hashes, code)
		if !good {
			return false, -1, nil
		}
		next, err := json.Marshal(remaining)
		if err != nil {
			return false, -1, err
		}
		row.Set("recoveryCodes", json.RawMessage(next))
		field, expected, left = "recoveryCodes", raw, len(remaining)
	}
	schema.Prepare(row, false, time.Now())
	err = s.store.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateIf(ctx, row, field, expected) })
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return false, -1, nil
	}
	return err == nil, left, err
}

func (s *Server) authWithTOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	opts := authOptions(c)
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	mfaID := requestMFAID(r, body)
	if mfaID != "" {
		body["mfaId"] = mfaID
	}
	if err := requireFields(body, "mfaId", "code"); err != nil {
		return err
	}
	ctx := r.Context()
	if !schema.ValidID(mfaID) {
		return invalidMFA()
	}
	session, err := s.store.FindFirstBy(ctx, s.systemCollection(mfasCollection), "id", mfaID)
	if errors.Is(err, store.ErrNotFound) {
		return invalidMFA()
	}
	if err != nil {
		return err
	}
	if session.GetString("collectionRef") != c.ID || expired(session, seconds(opts.MFA.Duration, 30*time.Minute)) {
		return invalidMFA()
	}
	rec, err := s.store.FindFirstBy(ctx, c, "id", session.GetString("recordRef"))
	if errors.Is(err, store.ErrNotFound) {
		return invalidMFA()
	}
	if err != nil {
		return err
	}
	throttleID := "totp:" + c.ID + ":" + rec.ID()
	if err := s.loginThrottle(r, throttleID); err != nil {
		return err
	}
	row, err := s.totpRow(ctx, c, rec.ID())
	if err != nil {
		return err
	}
	if row == nil || row.Get("confirmed") != true {
		return totpError("code", "validation_totp_not_enabled", "TOTP is not enabled for this account.")
	}
	ok, left, err := s.useTOTPCode(ctx, c, rec.ID(), row, bodyString(body, "code"))
	if err != nil {
		return err
	}
	if !ok {
		s.loginFailed(r, throttleID)
		return totpError("code", "validation_invalid_code", "Invalid or expired code.")
	}
	s.loginSucceeded(r, throttleID)
	var meta map[string]any
	if left >= 0 {
		meta = map[string]any{"recoveryCodesLeft": left}
	}
	return s.completeAuth(w, r, c, rec, authMethodTOTP, body, meta)
}

// deleteTOTP disables TOTP for the authenticated record, given a current
// code or the account password.
func (s *Server) deleteTOTP(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	rec, err := selfAuth(r, c)
	if err != nil {
		return err
	}
	code, password := bodyString(body, "code"), bodyString(body, "password")
	if code == "" && password == "" {
		return &Error{Status: http.StatusBadRequest, Message: "A current code or the password is required.",
			Data: schema.Errors{"code": schema.ErrRequired(), "password": schema.ErrRequired()}}
	}
	ctx := r.Context()
	throttleID := "totp:" + c.ID + ":" + rec.ID()
	if err := s.loginThrottle(r, throttleID); err != nil {
		return err
	}
	row, err := s.totpRow(ctx, c, rec.ID())
	if err != nil {
		return err
	}
	if row == nil {
		return totpError("totp", "validation_totp_not_enabled", "TOTP is not enabled for this account.")
	}
	var ok bool
	if password != "" {
		ok = auth.CheckPassword(rec.GetString("password"), password, s.records.PasswordCost(rec.Collection, "password"))
	} else {
		ok, _, err = s.useTOTPCode(ctx, c, rec.ID(), row, code)
		if err != nil {
			return err
		}
	}
	if !ok {
		s.loginFailed(r, throttleID)
		key := "code"
		if password != "" {
			key = "password"
		}
		return totpError(key, "validation_invalid_"+key, "Invalid code or password.")
	}
	s.loginSucceeded(r, throttleID)
	err = s.store.Tx(ctx, func(tx *store.Tx) error { return tx.Delete(ctx, row) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
