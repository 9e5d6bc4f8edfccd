package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// setupFresh is a Plinth instance with no superuser yet.
func setupFresh(t *testing.T, b testenv.Backend) *testApp {
	t.Helper()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(tlog{t, logs}, &slog.HandlerOptions{Level: slog.LevelError}))
	app, err := plinth.New(context.Background(), plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, log)
	if err != nil {
		t.Fatalf("new app on %s: %v", b.Name, err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); app.Close() })
	return &testApp{t: t, srv: srv, app: app, logs: logs}
}

// TestInstaller creates the first superuser through the installer link's
// token: a wrong or empty token is refused, a refused form keeps the token,
// a successful install spends it, and no token is issued or accepted once
// a superuser exists.
func TestInstaller(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		ta := setupFresh(t, b)
		token, err := ta.app.InstallerToken(ctx)
		if err != nil || len(token) < 40 {
			t.Fatalf("installer token %q, err %v", token, err)
		}
		good := map[string]any{"token": token, "email": "first@example.com", "password": "first-pass-123", "passwordConfirm": "first-pass-123"}
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for key, val := range good {
				m[key] = val
			}
			m[k] = v
			return m
		}
		ta.run(t, []scenario{
			{name: "no token", method: "POST", path: "/api/installer", body: with("token", ""), status: 403, want: []string{"invalid or has expired"}},
			{name: "wrong token", method: "POST", path: "/api/installer", body: with("token", token[:len(token)-1]+"x"), status: 403},
			{name: "token of another type", method: "POST", path: "/api/installer", body: with("token", 42), status: 403},
			{name: "passwords differ", method: "POST", path: "/api/installer", body: with("passwordConfirm", "other-pass-123"), status: 400, want: []string{`"passwordConfirm"`}},
			{name: "bad email", method: "POST", path: "/api/installer", body: with("email", "nope"), status: 400, want: []string{`"email"`}},
			{name: "no one can sign in yet", method: "POST", path: "/api/collections/_superusers/auth-with-password", body: map[string]any{"identity": "first@example.com", "password": "first-pass-123"}, status: 400},
			{name: "install", method: "POST", path: "/api/installer", body: good, status: 204},
			{name: "signs in", method: "POST", path: "/api/collections/_superusers/auth-with-password", body: map[string]any{"identity": "first@example.com", "password": "first-pass-123"}, status: 200, want: []string{`"token"`}},
			{name: "spent", method: "POST", path: "/api/installer", body: with("email", "second@example.com"), status: 403},
		})
		again, err := ta.app.InstallerToken(ctx)
		if err != nil || again != "" {
			t.Fatalf("token issued with a superuser present: %q, %v", again, err)
		}
	})
}

// TestInstallerAfterSuperuserUpsert: a link printed before a superuser was
// created some other way (the CLI) no longer works.
func TestInstallerAfterSuperuserUpsert(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		ta := setupFresh(t, b)
		token, err := ta.app.InstallerToken(ctx)
		if err != nil || token == "" {
			t.Fatalf("installer token %q, err %v", token, err)
		}
		if err := ta.app.UpsertSuperuser(ctx, "cli@example.com", "cli-pass-1234"); err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"token": token, "email": "late@example.com", "password": "late-pass-123", "passwordConfirm": "late-pass-123"}
		ta.run(t, []scenario{
			{name: "superuser exists", method: "POST", path: "/api/installer", body: body, status: 403, want: []string{"already exists"}},
			{name: "and the token is gone", method: "POST", path: "/api/installer", body: body, status: 403, want: []string{"invalid or has expired"}},
		})
		status, data := ta.do("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": "late@example.com", "password": "late-pass-123"}, "")
		if status != 400 || !strings.Contains(string(data), "Failed to authenticate") {
			t.Fatalf("late installer account signs in: %d %s", status, data)
		}
	})
}

// TestDashboardServed: /_/ serves the embedded dashboard with its CSP and
// cache headers, unknown client routes fall back to index.html, a missing
// asset is a 404 (not HTML), and /_ and / redirect to /_/.
func TestDashboardServed(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupFresh(t, b)
		noRedirect := *ta.srv.Client()
		noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		get := func(path string, hdr ...string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("GET", ta.srv.URL+path, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res
		}
		for _, p := range []string{"/_", "/"} {
			if res := get(p); res.StatusCode != 302 || res.Header.Get("Location") != "/_/" {
				t.Errorf("GET %s: %d to %q, want 302 to /_/", p, res.StatusCode, res.Header.Get("Location"))
			}
		}
		for _, p := range []string{"/_/", "/_/collections/posts"} {
			res := get(p)
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: %d %s", p, res.StatusCode, res.Header.Get("Content-Type"))
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("GET %s: CSP %q", p, csp)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("GET %s: Cache-Control %q, want no-cache", p, cc)
			}
		}
		if res := get("/_/assets/missing-1234.js"); res.StatusCode != 404 {
			t.Errorf("missing asset: %d, want 404", res.StatusCode)
		}
		// Every asset index.html names is served, immutable, gzipped on request.
		_, page := ta.do("GET", "/_/", nil, "")
		assets := regexp.MustCompile(`/_/assets/[^"]+`).FindAllString(string(page), -1)
		if len(assets) == 0 {
			t.Fatalf("index.html names no asset: %s", page)
		}
		for _, a := range assets {
			res := get(a, "Accept-Encoding", "gzip")
			if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
				t.Errorf("GET %s: %d, Cache-Control %q", a, res.StatusCode, res.Header.Get("Cache-Control"))
			}
			if strings.HasSuffix(a, ".js") && res.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("GET %s: not gzipped", a)
			}
		}
	})
}
