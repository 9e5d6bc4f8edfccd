package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

// loginFrom signs in with a password from a device with userAgent.
func (ta *testApp) loginFrom(email, userAgent string) string {
	ta.t.Helper()
	body, _ := json.Marshal(map[string]string{"identity": email, "password": "user-password-1"})
	req, err := http.NewRequest("POST", ta.srv.URL+"/api/collections/users/auth-with-password", bytes.NewReader(body))
	if err != nil {
		ta.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out struct{ Token string }
	if res.StatusCode != 200 || json.Unmarshal(data, &out) != nil {
		ta.t.Fatalf("login from %s: %d %s", userAgent, res.StatusCode, data)
	}
	return out.Token
}

// TestCollectionEmailTemplates checks that an auth collection's own
// templates (PocketBase's verificationTemplate & co.) are the emails sent,
// with a text part made from the HTML, and that a broken one is refused
// when saved.
func TestCollectionEmailTemplates(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ta.signUp("ann@example.com")
		ta.mustJSON("PATCH", "/api/collections/users", map[string]any{
			"verificationTemplate":  map[string]any{"subject": "Welcome to {APP_NAME}", "body": `<p>Hi {RECORD:email},</p><p><a href="{ACTION_URL}">Confirm</a></p>`},
			"resetPasswordTemplate": map[string]any{"subject": "", "body": ""},
		}, ta.su, 200, nil)
		ta.mustJSON("POST", "/api/collections/users/request-verification", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		m := ta.waitMail("ann@example.com", 1)
		if m.Subject != "Welcome to Plinth" || !strings.Contains(m.HTML, `<a href="http://localhost:8090/_/#/auth/confirm-verification/`) ||
			!strings.HasPrefix(m.Text, "Hi ann@example.com,\n\nConfirm (http://localhost:8090/_/#/auth/confirm-verification/") {
			t.Errorf("custom verification email: subject %q\ntext %q\nhtml %q", m.Subject, m.Text, m.HTML)
		}
		// Empty templates keep the built-in email.
		ta.mustJSON("POST", "/api/collections/users/request-password-reset", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		if m := ta.waitMail("ann@example.com", 2); !strings.Contains(m.Subject, "Reset your Plinth password") {
			t.Errorf("built-in reset email: %q", m.Subject)
		}
		ta.run(t, []scenario{
			{name: "a template that does not parse", method: "PATCH", path: "/api/collections/users", as: "su", status: 400,
				body: map[string]any{"otp": map[string]any{"emailTemplate": map[string]any{"subject": "{{.Nope", "body": ""}}}, want: []string{`"otp":{"code":"validation_invalid_template"`}},
			{name: "templates round-trip", method: "GET", path: "/api/collections/users", as: "su", status: 200,
				want: []string{`"verificationTemplate":{"subject":"Welcome to {APP_NAME}"`, `"authAlert":{"enabled":true`}},
		})
	})
}

// TestAuthAlert checks new-device login alerts: the first device is only
// noted, the same device again sends nothing, another device emails the
// owner, the owner sees its devices in _authOrigins, and a collection
// with authAlert off sends nothing.
func TestAuthAlert(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ta.mustJSON("POST", "/api/collections/users/records", map[string]any{
			"email": "bo@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1"}, "", 200, nil)
		ta.loginFrom("bo@example.com", "laptop")
		ta.loginFrom("bo@example.com", "laptop")
		ta.noMail("bo@example.com", 0)
		tok := ta.loginFrom("bo@example.com", "phone")
		m := ta.waitMail("bo@example.com", 1)
		if !strings.Contains(m.Subject, "New sign-in") || !strings.Contains(m.Text, "phone") || !strings.Contains(m.Text, "password") {
			t.Errorf("alert: %q %q", m.Subject, m.Text)
		}
		ta.run(t, []scenario{
			{name: "the owner lists its devices", method: "GET", path: "/api/collections/_authOrigins/records", as: tok, status: 200, want: []string{`"totalItems":2`, `"fingerprint":`}},
			{name: "a guest sees none", method: "GET", path: "/api/collections/_authOrigins/records", status: 200, want: []string{`"totalItems":0`}},
		})
		ta.mustJSON("PATCH", "/api/collections/users", map[string]any{"authAlert": map[string]any{"enabled": false}}, ta.su, 200, nil)
		ta.loginFrom("bo@example.com", "tablet")
		ta.noMail("bo@example.com", 1)
	})
}
