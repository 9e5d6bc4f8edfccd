package authflow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
	"github.com/plinthdev/plinth/totp"
)

// TOTP as a second factor (beyond PocketBase). An auth record enrols
// (secret, otpauth:// URI and QR code), confirms with a first code (and
// receives its one-time recovery codes, shown once), and from then on
// every login needs a second factor: TOTPLogin with the mfaId and a
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
func (s *Service) totpRow(ctx context.Context, c *schema.Collection, id string) (*schema.Record, error) {
	rows, err := s.Store.FindBy(ctx, s.systemCollection(totpsCollection), 1, refInfo(c, id, nil), refFilter)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
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
func (s *Service) openSecret(c *schema.Collection, id string, row *schema.Record) (string, error) {
	plain, err := s.Sealer.Open(row.GetString("secret"), totpAAD(c, id))
	if err != nil {
		return "", errors.New("open TOTP secret (was the encryption key changed?): " + err.Error())
	}
	return string(plain), nil
}

// Enrollment is a new, unconfirmed TOTP enrolment: the secret, its
// otpauth:// URI and the URI as a QR code (a data: URL of a PNG).
type Enrollment struct {
	Secret string
	URI    string
	QR     string
}

// EnrollTOTP starts (or restarts) the TOTP enrolment of the caller's own
// record.
func (s *Service) EnrollTOTP(ctx context.Context, caller *record.Caller, c *schema.Collection) (*Enrollment, error) {
	if err := SelfAuth(caller, c); err != nil {
		return nil, err
	}
	rec := caller.Auth
	row, err := s.totpRow(ctx, c, rec.ID())
	if err != nil {
		return nil, err
	}
	if row != nil && row.Get("confirmed") == true {
		return nil, fieldError("totp", "validation_totp_enabled", "TOTP is already enabled; disable it first.")
	}
	account := rec.GetString("email")
	if account == "" {
		account = rec.ID()
	}
	key, err := totp.Generate(label(s.Live().Settings.Meta.AppName), label(account))
	if err != nil {
		return nil, err
	}
	sealed, err := s.Sealer.Seal([]byte(key.Secret), totpAAD(c, rec.ID()))
	if err != nil {
		return nil, err
	}
	png, err := key.PNG(totpQRSize)
	if err != nil {
		return nil, err
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
	err = s.Store.Tx(ctx, func(tx *store.Tx) error {
		if creating {
			return tx.Insert(ctx, row)
		}
		return tx.UpdateIf(ctx, row, "confirmed", false)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, fieldError("totp", "validation_totp_enabled", "TOTP is already enabled; disable it first.")
	}
	if err != nil {
		return nil, err
	}
	return &Enrollment{Secret: key.Secret, URI: key.URI, QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}, nil
}

// ConfirmTOTP confirms the caller's pending enrolment with a first code
// and returns the recovery codes (shown once).
func (s *Service) ConfirmTOTP(ctx context.Context, caller *record.Caller, c *schema.Collection, code string) ([]string, error) {
	if err := SelfAuth(caller, c); err != nil {
		return nil, err
	}
	rec := caller.Auth
	if err := Required("code", code); err != nil {
		return nil, err
	}
	row, err := s.totpRow(ctx, c, rec.ID())
	if err != nil {
		return nil, err
	}
	switch {
	case row == nil:
		return nil, fieldError("totp", "validation_totp_not_enrolled", "There is no TOTP enrolment to confirm; call totp/enroll first.")
	case row.Get("confirmed") == true:
		return nil, fieldError("totp", "validation_totp_enabled", "TOTP is already enabled.")
	}
	secret, err := s.openSecret(c, rec.ID(), row)
	if err != nil {
		return nil, err
	}
	last, _ := row.Get("lastStep").(float64)
	step, ok := totp.Verify(secret, code, time.Now(), int64(last))
	if !ok {
		return nil, fieldError("code", "validation_invalid_code", "Invalid or expired code.")
	}
	plain, hashed := totp.NewRecoveryCodes(0)
	codes, err := json.Marshal(hashed)
	if err != nil {
		return nil, err
	}
	row.Set("confirmed", true)
	row.Set("lastStep", float64(step))
	row.Set("recoveryCodes", json.RawMessage(codes))
	schema.Prepare(row, false, time.Now())
	err = s.Store.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateIf(ctx, row, "lastStep", last) })
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return nil, fieldError("code", "validation_invalid_code", "Invalid or expired code.")
	}
	if err != nil {
		return nil, err
	}
	return plain, nil
}

// useTOTPCode consumes a current code or a recovery code of a confirmed
// enrolment. It reports false for a wrong, replayed or raced code; left
// is the number of recovery codes remaining when one was used, else -1.
func (s *Service) useTOTPCode(ctx context.Context, c *schema.Collection, id string, row *schema.Record, code string) (ok bool, left int, err error) {
	secret, err := s.openSecret(c, id, row)
	if err != nil {
		// Recovery codes do not need the key: they still let the user in
		// (to disable TOTP and enrol again) after a key was lost.
		s.logger().ErrorContext(ctx, "totp: cannot open a secret", "collection", c.Name, "record", id, "err", err)
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
	err = s.Store.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateIf(ctx, row, field, expected) })
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return false, -1, nil
	}
	return err == nil, left, err
}

// TOTPLogin completes a pending multi-factor session (client.MFAID) with
// a current TOTP code or a recovery code; the result's meta tells
// "recoveryCodesLeft" when a recovery code was used.
func (s *Service) TOTPLogin(ctx context.Context, caller *record.Caller, c *schema.Collection, code string, client Client) (*Result, error) {
	opts := Options(c)
	mfaID := strings.TrimSpace(client.MFAID)
	if err := Required("mfaId", mfaID, "code", code); err != nil {
		return nil, err
	}
	if !schema.ValidID(mfaID) {
		return nil, InvalidMFA()
	}
	session, err := s.Store.FindFirstBy(ctx, s.systemCollection(mfasCollection), "id", mfaID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, InvalidMFA()
	}
	if err != nil {
		return nil, err
	}
	if session.GetString("collectionRef") != c.ID || expired(session, seconds(opts.MFA.Duration, 30*time.Minute)) {
		return nil, InvalidMFA()
	}
	rec, err := s.Store.FindFirstBy(ctx, c, "id", session.GetString("recordRef"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, InvalidMFA()
	}
	if err != nil {
		return nil, err
	}
	throttleID := "totp:" + c.ID + ":" + rec.ID()
	if err := s.throttle(ctx, throttleID, client.IP); err != nil {
		return nil, err
	}
	row, err := s.totpRow(ctx, c, rec.ID())
	if err != nil {
		return nil, err
	}
	if row == nil || row.Get("confirmed") != true {
		return nil, fieldError("code", "validation_totp_not_enabled", "TOTP is not enabled for this account.")
	}
	ok, left, err := s.useTOTPCode(ctx, c, rec.ID(), row, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.failed(ctx, throttleID, client.IP)
		return nil, fieldError("code", "validation_invalid_code", "Invalid or expired code.")
	}
	s.succeeded(ctx, throttleID, client.IP)
	var meta map[string]any
	if left >= 0 {
		meta = map[string]any{"recoveryCodesLeft": left}
	}
	client.MFAID = mfaID
	return s.complete(ctx, caller, c, rec, MethodTOTP, client, meta)
}

// DisableTOTP removes the caller's TOTP enrolment, given a current code
// or the account password.
func (s *Service) DisableTOTP(ctx context.Context, caller *record.Caller, c *schema.Collection, code, password, clientIP string) error {
	if err := SelfAuth(caller, c); err != nil {
		return err
	}
	rec := caller.Auth
	if code == "" && password == "" {
		return &Error{Kind: Invalid, Message: "A current code or the password is required.",
			Data: schema.Errors{"code": schema.ErrRequired(), "password": schema.ErrRequired()}}
	}
	throttleID := "totp:" + c.ID + ":" + rec.ID()
	if err := s.throttle(ctx, throttleID, clientIP); err != nil {
		return err
	}
	row, err := s.totpRow(ctx, c, rec.ID())
	if err != nil {
		return err
	}
	if row == nil {
		return fieldError("totp", "validation_totp_not_enabled", "TOTP is not enabled for this account.")
	}
	var ok bool
	if password != "" {
		ok = auth.CheckPassword(rec.GetString("password"), password, s.Records.PasswordCost(rec.Collection, "password"))
	} else {
		ok, _, err = s.useTOTPCode(ctx, c, rec.ID(), row, code)
		if err != nil {
			return err
		}
	}
	if !ok {
		s.failed(ctx, throttleID, clientIP)
		key := "code"
		if password != "" {
			key = "password"
		}
		return fieldError(key, "validation_invalid_"+key, "Invalid code or password.")
	}
	s.succeeded(ctx, throttleID, clientIP)
	err = s.Store.Tx(ctx, func(tx *store.Tx) error { return tx.Delete(ctx, row) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
