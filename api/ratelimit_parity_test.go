package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

// statusFrom is status with an X-Forwarded-For header (none when xff is
// empty).
func (ta *testApp) statusFrom(method, path string, body any, token, xff string) (int, []byte) {
	ta.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			ta.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ta.srv.URL+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// TestRateLimitParity checks PocketBase's rate-limit behaviours through the
// settings API: superusers are not limited, excludedIPs are not limited,
// and the client IP comes from a forwarding header only when trustedProxy
// says so (and, with trustedCIDRs, only from those proxies), for request
// limits and failed-login throttling alike.
func TestRateLimitParity(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.signUp("ann@example.com")
		patch := func(name string, body map[string]any) {
			t.Helper()
			if st, data := ta.statusFrom("PATCH", "/api/settings", body, ta.su, ""); st != 200 {
				t.Fatalf("%s: %d %s", name, st, data)
			}
		}
		// Two health checks per minute for everyone.
		patch("rule", map[string]any{"rateLimits": map[string]any{"enabled": true, "rules": []map[string]any{
			{"label": "/api/health", "maxRequests": 2, "duration": 60}}}})
		health := func(token, xff string) int {
			t.Helper()
			st, _ := ta.statusFrom("GET", "/api/health", nil, token, xff)
			return st
		}
		// Superusers are not limited.
		for i := range 5 {
			if st := health(ta.su, ""); st != 200 {
				t.Fatalf("superuser health %d: %d", i, st)
			}
		}
		// Guests are, and a forged X-Forwarded-For changes nothing while
		// trustedProxy is off (the default).
		for i, xff := range []string{"198.51.100.1", "198.51.100.2"} {
			if st := health("", xff); st != 200 {
				t.Fatalf("guest health %d: %d", i, st)
			}
		}
		if st := health("", "198.51.100.3"); st != 429 {
			t.Fatalf("guest over budget with a forged header: %d, want 429", st)
		}

		// excludedIPs: the loopback client is not limited any more.
		patch("excludedIPs", map[string]any{"rateLimits": map[string]any{"excludedIPs": []string{"127.0.0.0/8", "::1"}}})
		for i := range 3 {
			if st := health("", ""); st != 200 {
				t.Fatalf("excluded client %d: %d", i, st)
			}
		}

		// trustedProxy: the header names the client; each gets its own
		// budget, and excludedIPs apply to that client, not to the proxy.
		patch("trustedProxy", map[string]any{
			"rateLimits":   map[string]any{"excludedIPs": []string{"203.0.113.0/24"}},
			"trustedProxy": map[string]any{"headers": []string{"X-Forwarded-For"}, "useLeftmostIP": false}})
		for i := range 2 {
			if st := health("", "6.6.6.6, 192.0.2.10"); st != 200 {
				t.Fatalf("client 192.0.2.10 request %d: %d", i, st)
			}
		}
		if st := health("", "7.7.7.7, 192.0.2.10"); st != 429 {
			t.Fatalf("client 192.0.2.10 over budget (rightmost address): %d, want 429", st)
		}
		if st := health("", "192.0.2.11"); st != 200 {
			t.Fatalf("client 192.0.2.11: %d", st)
		}
		for i := range 3 {
			if st := health("", "203.0.113.5"); st != 200 {
				t.Fatalf("excluded client behind the proxy %d: %d", i, st)
			}
		}

		// Failed-login throttling counts the same client IP: five failures
		// for ann from one client do not throttle her from another.
		const login = "/api/collections/users/auth-with-password"
		patch("rules off", map[string]any{"rateLimits": map[string]any{"enabled": false}})
		for i := range 5 {
			if st, data := ta.statusFrom("POST", login, map[string]any{"identity": "ann@example.com", "password": "wrong-" + strconv.Itoa(i)}, "", "192.0.2.20"); st != 400 {
				t.Fatalf("wrong password %d: %d %s", i, st, data)
			}
		}
		if st, _ := ta.statusFrom("POST", login, map[string]any{"identity": "ann@example.com", "password": "user-password-1"}, "", "192.0.2.20"); st != 429 {
			t.Fatalf("the failing client: %d, want 429", st)
		}
		if st, data := ta.statusFrom("POST", login, map[string]any{"identity": "ann@example.com", "password": "user-password-1"}, "", "192.0.2.21"); st != 200 {
			t.Fatalf("another client: %d %s", st, data)
		}

		// trustedCIDRs: headers from any other peer are ignored, so the
		// loopback test client is itself the client again (a new rule: a
		// fresh budget).
		patch("trustedCIDRs", map[string]any{
			"rateLimits": map[string]any{"enabled": true, "excludedIPs": []string{}, "rules": []map[string]any{
				{"label": "GET /api/health", "maxRequests": 2, "duration": 60}}},
			"trustedProxy": map[string]any{"trustedCIDRs": []string{"10.0.0.0/8"}}})
		for i, xff := range []string{"192.0.2.30", "192.0.2.31"} {
			if st := health("", xff); st != 200 {
				t.Fatalf("untrusted peer request %d: %d", i, st)
			}
		}
		if st := health("", "192.0.2.32"); st != 429 {
			t.Fatalf("untrusted peer over budget: %d, want 429", st)
		}

		ta.run(t, []scenario{
			{name: "the settings read back", method: "GET", path: "/api/settings", as: "su", status: 200, want: []string{
				`"excludedIPs":[]`, `"trustedProxy":{"headers":["X-Forwarded-For"],"useLeftmostIP":false,"trustedCIDRs":["10.0.0.0/8"]}`}},
			{name: "invalid entries", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{
				"rateLimits":   map[string]any{"excludedIPs": []string{"10.0.0.0/33"}},
				"trustedProxy": map[string]any{"headers": []string{"X-Forwarded-For\r\nX"}, "trustedCIDRs": []string{"proxy.example"}}},
				status: 400, want: []string{`"excludedIPs":{"code":"validation_invalid_ip"`, `"headers":{"code":"validation_invalid_header_name"`, `"trustedCIDRs":{"code":"validation_invalid_ip"`}},
		})
	})
}
