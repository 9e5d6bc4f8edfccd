package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/totp"
)

func TestTOTP(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ann, annTok := ta.signUp("ann@example.com")
		_, bobTok := ta.signUp("bob@example.com")
		ta.run(t, []scenario{
			{name: "enrol needs auth", method: "POST", path: "/api/collections/users/totp/enroll", status: 401},
			{name: "enrol in another collection", method: "POST", path: "/api/collections/_superusers/totp/enroll", as: annTok, status: 403},
			{name: "nothing to confirm", method: "POST", path: "/api/collections/users/totp/confirm", as: annTok, body: map[string]any{"code": "123456"}, status: 400, want: []string{`validation_totp_not_enrolled`}},
			{name: "nothing to disable", method: "DELETE", path: "/api/collections/users/totp", as: annTok, body: map[string]any{"password": "user-password-1"}, status: 400},
		})
		var first struct{ Secret, URI, QR string }
		ta.mustJSON("POST", "/api/collections/users/totp/enroll", nil, annTok, 200, &first)
		// Enrolling again before confirming replaces the secret.
		var key struct{ Secret, URI, QR string }
		ta.mustJSON("POST", "/api/collections/users/totp/enroll", nil, annTok, 200, &key)
		if key.Secret == first.Secret || key.Secret == "" {
			t.Fatal("a new enrolment must replace the unconfirmed one")
		}
		if !strings.HasPrefix(key.URI, "otpauth://totp/Plinth:ann%40example.com?secret="+key.Secret) {
			t.Errorf("uri %q", key.URI)
		}
		img, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(key.QR, "data:image/png;base64,"))
		if err != nil || !strings.HasPrefix(key.QR, "data:image/png;base64,") {
			t.Fatalf("qr %q...: %v", key.QR[:min(40, len(key.QR))], err)
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(img)); err != nil || cfg.Width != 256 {
			t.Fatalf("qr png: %v %+v", err, cfg)
		}
		// Sealed at rest: the stored value is not the secret.
		st := ta.app.Store()
		row, err := st.FindFirstBy(context.Background(), st.Schema().Lookup("_totps"), "recordRef", ann)
		if err != nil {
			t.Fatal(err)
		}
		if sealed := row.GetString("secret"); sealed == "" || strings.Contains(sealed, key.Secret) {
			t.Fatalf("stored secret %q is not sealed", sealed)
		}
		ta.run(t, []scenario{{name: "old secret's code", method: "POST", path: "/api/collections/users/totp/confirm", as: annTok, body: map[string]any{"code": code(t, first.Secret, time.Now(), 0)}, status: 400, want: []string{`validation_invalid_code`}}})

		// Without a confirmed enrolment a password login needs no second factor.
		ta.login("users", "ann@example.com", "user-password-1")

		// Codes are computed for fixed times, so that a step boundary
		// passing during the test changes nothing.
		t0 := time.Now()
		var conf struct{ RecoveryCodes []string }
		ta.mustJSON("POST", "/api/collections/users/totp/confirm", map[string]any{"code": code(t, key.Secret, t0, 0)}, annTok, 200, &conf)
		if len(conf.RecoveryCodes) != 10 {
			t.Fatalf("recovery codes: %v", conf.RecoveryCodes)
		}
		ta.run(t, []scenario{
			{name: "enrol again once confirmed", method: "POST", path: "/api/collections/users/totp/enroll", as: annTok, status: 400, want: []string{`validation_totp_enabled`}},
			{name: "confirm again", method: "POST", path: "/api/collections/users/totp/confirm", as: annTok, body: map[string]any{"code": code(t, key.Secret, t0, 0)}, status: 400},
			{name: "others' logins are unaffected", method: "POST", path: "/api/collections/users/auth-with-password", body: map[string]any{"identity": "bob@example.com", "password": "user-password-1"}, status: 200},
		})

		// A confirmed enrolment makes the password a first factor only.
		pw := map[string]any{"identity": "ann@example.com", "password": "user-password-1"}
		mfaID := ta.firstFactor(pw)
		// The confirmation used the current step: its code cannot be replayed.
		ta.run(t, []scenario{
			{name: "the code used to confirm is spent", method: "POST", path: "/api/collections/users/auth-with-totp", body: map[string]any{"mfaId": mfaID, "code": code(t, key.Secret, t0, 0)}, status: 400, want: []string{`validation_invalid_code`}},
			{name: "wrong code", method: "POST", path: "/api/collections/users/auth-with-totp", body: map[string]any{"mfaId": mfaID, "code": "000000"}, status: 400},
			{name: "unknown mfaId", method: "POST", path: "/api/collections/users/auth-with-totp", body: map[string]any{"mfaId": "nosuchmfa000000", "code": code(t, key.Secret, t0, 1)}, status: 400, want: []string{`validation_invalid_mfa`}},
			{name: "fields required", method: "POST", path: "/api/collections/users/auth-with-totp", body: map[string]any{}, status: 400},
		})
		next := code(t, key.Secret, t0, 1) // the next step, within the accepted skew
		var auth struct {
			Token  string
			Record map[string]any
			Meta   map[string]any
		}
		ta.mustJSON("POST", "/api/collections/users/auth-with-totp", map[string]any{"mfaId": mfaID, "code": next}, "", 200, &auth)
		if auth.Record["id"] != ann || auth.Token == "" {
			t.Fatalf("auth-with-totp: %+v", auth)
		}
		mfaID = ta.firstFactor(pw)
		ta.run(t, []scenario{{name: "a code is single use", method: "POST", path: "/api/collections/users/auth-with-totp", body: map[string]any{"mfaId": mfaID, "code": next}, status: 400}})

		// A recovery code works once, in any spelling.
		rc := strings.ToUpper(conf.RecoveryCodes[3])
		ta.mustJSON("POST", "/api/collections/users/auth-with-totp", map[string]any{"mfaId": mfaID, "code": rc}, "", 200, &auth)
		if auth.Meta["recoveryCodesLeft"] != float64(9) {
			t.Errorf("meta %v", auth.Meta)
		}
		mfaID = ta.firstFactor(pw)
		ta.run(t, []scenario{
			{name: "a recovery code is single use", method: "POST", path: "/api/collections/users/auth-with-totp", body: map[string]any{"mfaId": mfaID, "code": conf.RecoveryCodes[3]}, status: 400},
			{name: "bob cannot use ann's session", method: "POST", path: "/api/collections/users/auth-with-totp", as: bobTok, body: map[string]any{"mfaId": "x", "code": "1"}, status: 400},
		})
		ta.mustJSON("POST", "/api/collections/users/auth-with-totp", map[string]any{"mfaId": mfaID, "code": conf.RecoveryCodes[4]}, "", 200, &auth)
		annTok = auth.Token

		// Disabling needs a current code or the password.
		ta.run(t, []scenario{
			{name: "disable needs auth", method: "DELETE", path: "/api/collections/users/totp", body: map[string]any{"password": "user-password-1"}, status: 401},
			{name: "disable needs proof", method: "DELETE", path: "/api/collections/users/totp", as: annTok, body: map[string]any{}, status: 400},
			{name: "wrong password", method: "DELETE", path: "/api/collections/users/totp", as: annTok, body: map[string]any{"password": "nope-nope-1"}, status: 400},
			{name: "wrong code", method: "DELETE", path: "/api/collections/users/totp", as: annTok, body: map[string]any{"code": "000000"}, status: 400},
			{name: "bob cannot disable ann's", method: "DELETE", path: "/api/collections/users/totp", as: bobTok, body: map[string]any{"password": "user-password-1"}, status: 400},
			{name: "disable", method: "DELETE", path: "/api/collections/users/totp", as: annTok, body: map[string]any{"password": "user-password-1"}, status: 204},
		})
		ta.login("users", "ann@example.com", "user-password-1")
	})
}

// code returns secret's TOTP code steps periods after at.
func code(t *testing.T, secret string, at time.Time, steps int) string {
	t.Helper()
	c, err := totp.Code(secret, at.Add(time.Duration(steps)*totp.Period))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
