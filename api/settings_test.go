package api_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

func TestSettings(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		_, userTok := ta.signUp("ann@example.com")
		ta.run(t, []scenario{
			{name: "guests cannot read", method: "GET", path: "/api/settings", status: 401},
			{name: "users cannot read", method: "GET", path: "/api/settings", as: userTok, status: 403},
			{name: "users cannot write", method: "PATCH", path: "/api/settings", as: userTok, body: map[string]any{}, status: 403},
			{name: "defaults", method: "GET", path: "/api/settings", as: "su", status: 200, want: []string{
				`"meta":{"appName":"Plinth","appURL":"http://localhost:8090","senderName":"Support","senderAddress":"support@example.com"}`,
				`"smtp":{"enabled":false,"host":"smtp.example.com","port":587,"username":"","authMethod":"","tls":false,"localName":""}`,
				`"rateLimits":{"enabled":true,"rules":[{"label":"*:authWithPassword","maxRequests":10,"duration":60,"audience":""}`,
				`"batch":{"enabled":true,"maxRequests":50,"timeout":30,"maxBodySize":0}`}},
			{name: "invalid values", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{
				"meta":       map[string]any{"appName": "", "appURL": "ftp://x", "senderAddress": "not an address"},
				"smtp":       map[string]any{"enabled": true, "host": "", "authMethod": "CRAM-MD5"},
				"rateLimits": map[string]any{"rules": []map[string]any{{"label": "", "maxRequests": 0, "duration": 0, "audience": "@bots"}}},
				"batch":      map[string]any{"maxRequests": 0, "timeout": 0}},
				status: 400, want: []string{`"appName":{"code":"validation_required"`, `"appURL":{"code":"validation_invalid_url"`, `"senderAddress":{"code":"validation_is_email"`,
					`"host":{"code":"validation_required"`, `"authMethod":{"code":"validation_in_invalid"`,
					`"rules":{"0":{"audience":`, `"label":{"code":"validation_required"`, `"maxRequests":{"code":"validation_min_greater_equal_than_required"`, `"timeout"`}},
			{name: "unknown key", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"smtp": map[string]any{"hots": "x"}}, status: 400, want: []string{`"smtp":{"hots":{"code":"validation_unknown_field"`}},
			{name: "wrong type", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"smtp": map[string]any{"port": "587"}}, status: 400, want: []string{`"smtp":{"port":{"code":"validation_invalid_type"`}},
			{name: "not an object", method: "PATCH", path: "/api/settings", as: "su", body: `[1]`, status: 400},
			{name: "nothing was saved", method: "GET", path: "/api/settings", as: "su", status: 200, want: []string{`"appName":"Plinth"`}},
			{name: "set the SMTP password", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"smtp": map[string]any{"username": "mailer", "password": "smtp-secret-1"}}, status: 200,
				want: []string{`"username":"mailer"`}, notWant: []string{`smtp-secret-1`, `"password"`}},
			{name: "the password is never returned", method: "GET", path: "/api/settings", as: "su", status: 200, notWant: []string{`smtp-secret-1`, `"password"`}},
			{name: "a partial patch keeps the rest", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"meta": map[string]any{"appName": "Acme", "appURL": "https://acme.test"}}, status: 200,
				want: []string{`"appName":"Acme"`, `"senderAddress":"support@example.com"`, `"username":"mailer"`}},
		})
		// Stored sealed, kept when a PATCH leaves it out.
		stored, err := ta.app.Store().Param(context.Background(), "settings")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, "smtp-secret-1") || !strings.Contains(stored, `"password":"sealed:`) {
			t.Fatalf("stored settings: %s", stored)
		}
		// Emails carry the new name and URL.
		ta.mustJSON("POST", "/api/collections/users/request-password-reset", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		m := ta.waitMail("ann@example.com", 1)
		if !strings.Contains(m.Subject, "Acme") || !strings.Contains(m.Text, "https://acme.test/_/#/auth/confirm-password-reset/") || m.From.Address != "support@example.com" {
			t.Errorf("email after settings change: %q from %v: %s", m.Subject, m.From, m.Text)
		}
		// The dev mailbox, for superusers.
		var mails []map[string]any
		ta.mustJSON("GET", "/api/dev/mails", nil, ta.su, 200, &mails)
		if len(mails) == 0 || mails[0]["subject"] != m.Subject || mails[0]["to"].([]any)[0] != "ann@example.com" {
			t.Fatalf("dev mails: %v", mails)
		}
		ta.run(t, []scenario{
			{name: "one mail", method: "GET", path: "/api/dev/mails/" + m.ID, as: "su", status: 200, want: []string{`"subject":"Reset your Acme password"`, `"text":"`, `"html":"`}},
			{name: "unknown mail", method: "GET", path: "/api/dev/mails/999999", as: "su", status: 404},
			{name: "users cannot read the mailbox", method: "GET", path: "/api/dev/mails", as: userTok, status: 403},
			{name: "guests cannot read the mailbox", method: "GET", path: "/api/dev/mails", status: 401},
		})
		// Batch settings apply.
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"batch": map[string]any{"maxRequests": 1}}, ta.su, 200, nil)
		two := map[string]any{"requests": []map[string]any{
			{"method": "PATCH", "url": "/api/collections/users/records/x", "body": map[string]any{}},
			{"method": "PATCH", "url": "/api/collections/users/records/y", "body": map[string]any{}}}}
		ta.run(t, []scenario{{name: "batch maxRequests", method: "POST", path: "/api/batch", as: "su", body: two, status: 400, want: []string{`at most 1 requests`}}})
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"batch": map[string]any{"enabled": false}}, ta.su, 200, nil)
		ta.run(t, []scenario{{name: "batch off", method: "POST", path: "/api/batch", as: "su", body: two, status: 403}})
	})
}

// TestMailFailureIsLogged: with SMTP enabled but unreachable, the
// requester still gets 204, the email waits in the queue and each failed
// attempt is logged, without the address or the token.
func TestMailFailureIsLogged(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		if err := ta.app.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		ta.signUp("ann@example.com")
		// A port nothing listens on.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"smtp": map[string]any{"enabled": true, "host": "127.0.0.1", "port": port}}, ta.su, 200, nil)
		ta.mustJSON("POST", "/api/collections/users/request-password-reset", map[string]any{"email": "ann@example.com"}, "", 204, nil)
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(ta.logs.String(), "mail: sending failed") {
			if time.Now().After(deadline) {
				t.Fatalf("no failure logged; logs: %s", ta.logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		logs := ta.logs.String()
		if !strings.Contains(logs, "password") || !strings.Contains(logs, strconv.Itoa(port)) {
			t.Errorf("failure log lacks the subject or cause: %s", logs)
		}
		if strings.Contains(logs, "confirm-password-reset/") || strings.Contains(logs, "ann@example.com") {
			t.Errorf("the failure log leaks the token or the address: %s", logs)
		}
		if n := len(ta.mailsTo("ann@example.com")); n != 0 {
			t.Errorf("with SMTP enabled the dev mailbox stays empty, has %d", n)
		}
	})
}
