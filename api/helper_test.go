package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// testApp is a Plinth instance on one backend behind an httptest server,
// with a superuser token at hand.
type testApp struct {
	t   *testing.T
	srv *httptest.Server
	app *plinth.App
	su  string
	// logs holds what the app logged at error level.
	logs *lockedBuffer
	// openapi is the app's OpenAPI document, against which do and
	// doHeader check every response (openapi_check_test.go).
	openapi openapiDoc
}

func setup(t *testing.T, b testenv.Backend) *testApp {
	t.Helper()
	return setupWith(t, b, nil)
}

// setupWith is setup with the app's configuration adjusted by mod.
func setupWith(t *testing.T, b testenv.Backend, mod func(*plinth.Config)) *testApp {
	t.Helper()
	ctx := context.Background()
	// Errors (500s) land in the test log, so a failure shows its cause.
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(tlog{t, logs}, &slog.HandlerOptions{Level: slog.LevelError}))
	cfg := plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}
	if mod != nil {
		mod(&cfg)
	}
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		t.Fatalf("new app on %s: %v", b.Name, err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); app.Close() })
	if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
		t.Fatal(err)
	}
	ta := &testApp{t: t, srv: srv, app: app, logs: logs}
	var auth struct{ Token string }
	ta.mustJSON("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": "admin@example.com", "password": "secret-pass-1"}, "", 200, &auth)
	ta.su = auth.Token
	return ta
}

// do sends a request; body may be nil, a string (sent raw) or a value
// encoded as JSON.
func (ta *testApp) do(method, path string, body any, token string) (int, []byte) {
	ta.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			ta.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ta.srv.URL+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	ta.checkOpenAPI(req, res, data)
	return res.StatusCode, data
}

// doHeader sends a bodiless request with one extra header.
func (ta *testApp) doHeader(method, path, key, value string) (int, []byte) {
	ta.t.Helper()
	req, err := http.NewRequest(method, ta.srv.URL+path, nil)
	if err != nil {
		ta.t.Fatal(err)
	}
	req.Header.Set(key, value)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	ta.checkOpenAPI(req, res, data)
	return res.StatusCode, data
}

// mustJSON sends a request, requires status, and decodes the body into out.
func (ta *testApp) mustJSON(method, path string, body any, token string, status int, out any) {
	ta.t.Helper()
	got, data := ta.do(method, path, body, token)
	if got != status {
		ta.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			ta.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// scenario is one API call with its expected status and body fragments.
type scenario struct {
	name    string
	method  string
	path    string
	body    any
	as      string // "", "su", or a raw token
	status  int
	want    []string // fragments the body must contain
	notWant []string // fragments it must not contain
}

func (ta *testApp) run(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		token := sc.as
		if token == "su" {
			token = ta.su
		}
		status, body := ta.do(sc.method, sc.path, sc.body, token)
		if status != sc.status {
			t.Errorf("%s: %s %s: status %d, want %d; body %s", sc.name, sc.method, sc.path, status, sc.status, body)
			continue
		}
		for _, w := range sc.want {
			if !bytes.Contains(body, []byte(w)) {
				t.Errorf("%s: body lacks %q: %s", sc.name, w, body)
			}
		}
		for _, w := range sc.notWant {
			if bytes.Contains(body, []byte(w)) {
				t.Errorf("%s: body has %q: %s", sc.name, w, body)
			}
		}
	}
}

// createCollection creates a collection as superuser and returns its JSON.
func (ta *testApp) createCollection(def map[string]any) map[string]any {
	ta.t.Helper()
	var out map[string]any
	ta.mustJSON("POST", "/api/collections", def, ta.su, 200, &out)
	return out
}

// create makes a record as superuser and returns it.
func (ta *testApp) create(coll string, body map[string]any) map[string]any {
	ta.t.Helper()
	var out map[string]any
	ta.mustJSON("POST", "/api/collections/"+coll+"/records", body, ta.su, 200, &out)
	return out
}

type tlog struct {
	t   *testing.T
	buf *lockedBuffer
}

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	w.buf.Write(p)
	return len(p), nil
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
