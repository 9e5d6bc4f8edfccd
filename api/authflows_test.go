package api_test

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/mailer"
)

// noLimits turns rate limits off, for tests that log in more often than
// the default rules allow.
func noLimits(c *plinth.Config) { c.DisableRateLimits = true }

// mailsTo returns the dev mailbox messages to addr, newest first.
func (ta *testApp) mailsTo(addr string) []mailer.StoredMessage {
	var out []mailer.StoredMessage
	for _, m := range ta.app.DevMailbox().List() {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

// waitMail waits until addr has n messages and returns the newest (emails
// are sent in the background, after the response).
func (ta *testApp) waitMail(addr string, n int) mailer.StoredMessage {
	ta.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if list := ta.mailsTo(addr); len(list) >= n {
			return list[0]
		}
		if time.Now().After(deadline) {
			ta.t.Fatalf("no email #%d to %s within 5s (have %d)", n, addr, len(ta.mailsTo(addr)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noMail checks that addr received exactly n messages, after giving a
// background send time to happen.
func (ta *testApp) noMail(addr string, n int) {
	ta.t.Helper()
	time.Sleep(150 * time.Millisecond)
	if got := len(ta.mailsTo(addr)); got != n {
		ta.t.Fatalf("%s has %d emails, want %d", addr, got, n)
	}
}

var tokenInMail = regexp.MustCompile(`/_/#/auth/[a-z-]+/([A-Za-z0-9_.-]+)`)

// mailToken extracts the token of the action link of m.
func mailToken(t *testing.T, m mailer.StoredMessage) string {
	t.Helper()
	sub := tokenInMail.FindStringSubmatch(m.Text)
	if sub == nil {
		t.Fatalf("no action link in email %q: %s", m.Subject, m.Text)
	}
	return sub[1]
}

// login authenticates with a password and returns the token.
func (ta *testApp) login(coll, identity, password string) string {
	ta.t.Helper()
	var out struct{ Token string }
	ta.mustJSON("POST", "/api/collections/"+coll+"/auth-with-password", map[string]any{"identity": identity, "password": password}, "", 200, &out)
	return out.Token
}

// field reads one field of a record as a superuser sees it.
func (ta *testApp) field(coll, id, name string) any {
	ta.t.Helper()
	var rec map[string]any
	ta.mustJSON("GET", "/api/collections/"+coll+"/records/"+id, nil, ta.su, 200, &rec)
	return rec[name]
}

func TestVerification(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ann, annTok := ta.signUp("ann@example.com")
		ta.run(t, []scenario{
			{name: "unknown address: same answer, no email", method: "POST", path: "/api/collections/users/request-verification", body: map[string]any{"email": "nobody@example.com"}, status: 204},
			{name: "email required", method: "POST", path: "/api/collections/users/request-verification", body: map[string]any{}, status: 400, want: []string{`"email":{"code":"validation_required"`}},
			{name: "malformed email", method: "POST", path: "/api/collections/users/request-verification", body: map[string]any{"email": "not-an-email"}, status: 400, want: []string{`validation_is_email`}},
			{name: "not an auth collection", method: "POST", path: "/api/collections/_mfas/request-verification", body: map[string]any{"email": "ann@example.com"}, status: 400},
			{name: "request", method: "POST", path: "/api/collections/users/request-verification", body: map[string]any{"email": "ann@example.com"}, status: 204},
		})
		ta.noMail("nobody@example.com", 0)
		m := ta.waitMail("ann@example.com", 1)
		if !strings.Contains(m.Subject, "Plinth") || !strings.Contains(m.Text, "http://localhost:8090/_/#/auth/confirm-verification/") {
			t.Errorf("verification email: %q %s", m.Subject, m.Text)
		}
		token := mailToken(t, m)
		ta.run(t, []scenario{
			{name: "a verification token is not a reset token", method: "POST", path: "/api/collections/users/confirm-password-reset",
				body: map[string]any{"token": token, "password": "new-password-1", "passwordConfirm": "new-password-1"}, status: 400, want: []string{`validation_invalid_token`}},
			{name: "nor an auth token", method: "POST", path: "/api/collections/users/auth-refresh", as: token, status: 401},
			{name: "another collection", method: "POST", path: "/api/collections/_superusers/confirm-verification", body: map[string]any{"token": token}, status: 400},
			{name: "garbage", method: "POST", path: "/api/collections/users/confirm-verification", body: map[string]any{"token": "x.y.z"}, status: 400, want: []string{`validation_invalid_token`}},
			{name: "token required", method: "POST", path: "/api/collections/users/confirm-verification", body: map[string]any{}, status: 400, want: []string{`"token":{"code":"validation_required"`}},
			{name: "confirm", method: "POST", path: "/api/collections/users/confirm-verification", body: map[string]any{"token": token}, status: 204},
			{name: "confirming again is harmless", method: "POST", path: "/api/collections/users/confirm-verification", body: map[string]any{"token": token}, status: 204},
			{name: "the auth token still works (verification does not rotate the key)", method: "POST", path: "/api/collections/users/auth-refresh", as: annTok, status: 200, want: []string{`"verified":true`}},
		})
		if v := ta.field("users", ann, "verified"); v != true {
			t.Fatalf("verified = %v", v)
		}
		// A verified account gets no new email.
		ta.mustJSON("POST", "/api/collections/users/request-verification", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		ta.noMail("ann@example.com", 1)

		// A token for an address the record no longer has is refused.
		bob, _ := ta.signUp("bob@example.com")
		ta.mustJSON("POST", "/api/collections/users/request-verification", map[string]any{"email": "bob@example.com"}, "", 204, nil)
		old := mailToken(t, ta.waitMail("bob@example.com", 1))
		ta.mustJSON("PATCH", "/api/collections/users/records/"+bob, map[string]any{"email": "bob2@example.com"}, ta.su, 200, nil)
		ta.run(t, []scenario{{name: "token from before an email change", method: "POST", path: "/api/collections/users/confirm-verification", body: map[string]any{"token": old}, status: 400}})
		if v := ta.field("users", bob, "verified"); v != false {
			t.Fatalf("bob verified = %v", v)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ann, annTok := ta.signUp("ann@example.com")
		ta.mustJSON("POST", "/api/collections/users/request-password-reset", map[string]any{"email": "nobody@example.com"}, "", 204, nil)
		ta.mustJSON("POST", "/api/collections/users/request-password-reset", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		ta.noMail("nobody@example.com", 0)
		m := ta.waitMail("ann@example.com", 1)
		if !strings.Contains(m.Text, "/_/#/auth/confirm-password-reset/") {
			t.Fatalf("reset email: %s", m.Text)
		}
		token := mailToken(t, m)
		const path = "/api/collections/users/confirm-password-reset"
		ta.run(t, []scenario{
			{name: "a reset token is not a verification token", method: "POST", path: "/api/collections/users/confirm-verification", body: map[string]any{"token": token}, status: 400},
			{name: "fields required", method: "POST", path: path, body: map[string]any{"token": token}, status: 400, want: []string{`"password":{"code":"validation_required"`, `"passwordConfirm"`}},
			{name: "mismatch", method: "POST", path: path, body: map[string]any{"token": token, "password": "new-password-1", "passwordConfirm": "other-password-1"}, status: 400, want: []string{`"passwordConfirm":{"code":"validation_values_mismatch"`}},
			{name: "too short", method: "POST", path: path, body: map[string]any{"token": token, "password": "short", "passwordConfirm": "short"}, status: 400, want: []string{`"password":{"code":"validation_`}},
			{name: "reset", method: "POST", path: path, body: map[string]any{"token": token, "password": "new-password-1", "passwordConfirm": "new-password-1"}, status: 204},
			{name: "the reset token is single use", method: "POST", path: path, body: map[string]any{"token": token, "password": "new-password-2", "passwordConfirm": "new-password-2"}, status: 400, want: []string{`validation_invalid_token`}},
			{name: "older auth tokens die", method: "POST", path: "/api/collections/users/auth-refresh", as: annTok, status: 401},
			{name: "the old password no longer works", method: "POST", path: "/api/collections/users/auth-with-password", body: map[string]any{"identity": "ann@example.com", "password": "user-password-1"}, status: 400},
		})
		ta.login("users", "ann@example.com", "new-password-1")
		if v := ta.field("users", ann, "verified"); v != true {
			t.Errorf("a reset through the emailed link verifies the address; verified = %v", v)
		}
		// Two requests: the first link dies with the reset made through the second.
		ta.mustJSON("POST", "/api/collections/users/request-password-reset", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		first := mailToken(t, ta.waitMail("ann@example.com", 2))
		ta.mustJSON("POST", "/api/collections/users/request-password-reset", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		second := mailToken(t, ta.waitMail("ann@example.com", 3))
		ta.mustJSON("POST", path, map[string]any{"token": second, "password": "new-password-3", "passwordConfirm": "new-password-3"}, "", 204, nil)
		ta.run(t, []scenario{{name: "an older reset link dies too", method: "POST", path: path, body: map[string]any{"token": first, "password": "new-password-4", "passwordConfirm": "new-password-4"}, status: 400}})
	})
}

func TestEmailChange(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ann, annTok := ta.signUp("ann@example.com")
		ta.signUp("bob@example.com")
		const req = "/api/collections/users/request-email-change"
		ta.run(t, []scenario{
			{name: "needs auth", method: "POST", path: req, body: map[string]any{"newEmail": "ann2@example.com"}, status: 401},
			{name: "a superuser token is another collection's", method: "POST", path: req, as: "su", body: map[string]any{"newEmail": "ann2@example.com"}, status: 403},
			{name: "newEmail required", method: "POST", path: req, as: annTok, body: map[string]any{}, status: 400, want: []string{`"newEmail":{"code":"validation_required"`}},
			{name: "same address", method: "POST", path: req, as: annTok, body: map[string]any{"newEmail": "ann@example.com"}, status: 400},
			{name: "address taken", method: "POST", path: req, as: annTok, body: map[string]any{"newEmail": "bob@example.com"}, status: 400, want: []string{`validation_not_unique`}},
			{name: "request", method: "POST", path: req, as: annTok, body: map[string]any{"newEmail": "ann2@example.com"}, status: 204},
		})
		m := ta.waitMail("ann2@example.com", 1)
		ta.noMail("ann@example.com", 0)
		token := mailToken(t, m)
		// A verification token issued before the change dies with it.
		ta.mustJSON("POST", "/api/collections/users/request-verification", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		verifyToken := mailToken(t, ta.waitMail("ann@example.com", 1))
		const confirm = "/api/collections/users/confirm-email-change"
		ta.run(t, []scenario{
			{name: "password required", method: "POST", path: confirm, body: map[string]any{"token": token}, status: 400, want: []string{`"password":{"code":"validation_required"`}},
			{name: "wrong password", method: "POST", path: confirm, body: map[string]any{"token": token, "password": "wrong-password"}, status: 400, want: []string{`"password":{"code":"validation_invalid_password"`}},
			{name: "an email-change token is not a reset token", method: "POST", path: "/api/collections/users/confirm-password-reset", body: map[string]any{"token": token, "password": "x-password-1", "passwordConfirm": "x-password-1"}, status: 400},
			{name: "confirm", method: "POST", path: confirm, body: map[string]any{"token": token, "password": "user-password-1"}, status: 204},
			{name: "single use", method: "POST", path: confirm, body: map[string]any{"token": token, "password": "user-password-1"}, status: 400},
			{name: "older auth tokens die", method: "POST", path: "/api/collections/users/auth-refresh", as: annTok, status: 401},
			{name: "a verification token for the old address dies", method: "POST", path: "/api/collections/users/confirm-verification", body: map[string]any{"token": verifyToken}, status: 400},
		})
		if got := ta.field("users", ann, "email"); got != "ann2@example.com" {
			t.Fatalf("email = %v", got)
		}
		if v := ta.field("users", ann, "verified"); v != true {
			t.Errorf("confirming the new address verifies it; verified = %v", v)
		}
		ta.login("users", "ann2@example.com", "user-password-1")

		// The address may be taken between the request and the confirmation.
		annTok = ta.login("users", "ann2@example.com", "user-password-1")
		ta.mustJSON("POST", req, map[string]any{"newEmail": "carl@example.com"}, annTok, 204, nil)
		late := mailToken(t, ta.waitMail("carl@example.com", 1))
		ta.signUp("carl@example.com")
		ta.run(t, []scenario{{name: "address taken since", method: "POST", path: confirm, body: map[string]any{"token": late, "password": "user-password-1"}, status: 400, want: []string{`"email":{"code":"validation_not_unique"`}}})
	})
}

func TestImpersonate(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ann, annTok := ta.signUp("ann@example.com")
		path := "/api/collections/users/impersonate/" + ann
		ta.run(t, []scenario{
			{name: "guests cannot", method: "POST", path: path, status: 401},
			{name: "users cannot", method: "POST", path: path, as: annTok, status: 403},
			{name: "negative duration", method: "POST", path: path, as: "su", body: map[string]any{"duration": -1}, status: 400, want: []string{`"duration"`}},
			{name: "missing record", method: "POST", path: "/api/collections/users/impersonate/nosuchrecord123", as: "su", status: 404},
			{name: "not an auth collection", method: "POST", path: "/api/collections/_mfas/impersonate/" + ann, as: "su", status: 400},
		})
		var out struct {
			Token  string
			Record map[string]any
		}
		ta.mustJSON("POST", path, map[string]any{"duration": 60}, ta.su, 200, &out)
		if out.Record["email"] != "ann@example.com" || out.Record["id"] != ann {
			t.Fatalf("impersonate record: %v", out.Record)
		}
		claims := jwtClaims(t, out.Token)
		if claims["refreshable"] != false || claims["type"] != "auth" {
			t.Errorf("impersonation claims: %v", claims)
		}
		if exp := claims["exp"].(float64) - claims["iat"].(float64); exp != 60 {
			t.Errorf("token lifetime %vs, want 60", exp)
		}
		ta.run(t, []scenario{
			{name: "the token acts as the user", method: "GET", path: "/api/collections/users/records/" + ann, as: out.Token, status: 200},
			{name: "but cannot be refreshed", method: "POST", path: "/api/collections/users/auth-refresh", as: out.Token, status: 403},
			{name: "a normal token can", method: "POST", path: "/api/collections/users/auth-refresh", as: annTok, status: 200},
		})
		// duration 0: the collection's auth token duration (7 days for users).
		ta.mustJSON("POST", path, map[string]any{}, ta.su, 200, &out)
		claims = jwtClaims(t, out.Token)
		if exp := claims["exp"].(float64) - claims["iat"].(float64); exp != 604800 {
			t.Errorf("default impersonation lifetime %vs, want 604800", exp)
		}
	})
}

// jwtClaims decodes a token's payload without verifying it, as the SDK does.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
