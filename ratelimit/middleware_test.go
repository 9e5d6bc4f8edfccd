package ratelimit

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func ipKeyFunc(r *http.Request) (string, bool) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	return host, r.Header.Get("Authorization") != ""
}

func pathTagsFunc(r *http.Request) []string { return PathTags(r.Method, r.URL.Path) }

func TestMiddleware(t *testing.T) {
	// 999_999_990s since the epoch starts both a 3s and a 10s window.
	clk := newFakeClock(epoch(999_999_990, 0))
	m := NewMemory(WithClock(clk.Now))
	rules := []Rule{
		{Label: "*:auth", MaxRequests: 2, Duration: 3 * time.Second},
		{Label: "/api/", MaxRequests: 5, Duration: 10 * time.Second},
		{Label: "/api/", MaxRequests: 100, Duration: 10 * time.Second, Audience: "@auth"},
	}
	var onErr int
	h := Middleware(m, rules, ipKeyFunc, pathTagsFunc, func(http.ResponseWriter, *http.Request, error) { onErr++ })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))

	do := func(method, path, ip string, auth bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		r.RemoteAddr = ip + ":1234"
		if auth {
			r.Header.Set("Authorization", "token")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const login = "/api/collections/users/auth-with-password"
	for i := range 2 {
		if w := do("POST", login, "10.0.0.1", false); w.Code != http.StatusNoContent {
			t.Fatalf("login %d: %d", i, w.Code)
		}
	}
	w := do("POST", login, "10.0.0.1", false)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("3rd login: %d, want 429", w.Code)
	}
	// 3s windows: next window in 3s, then prev=2 fades to ≤1 after 1.5s.
	if got := w.Header().Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After = %q, want 5 (4.5s rounded up)", got)
	}
	if got := w.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := strings.TrimSpace(w.Body.String()); got != `{"status":429,"message":"Too Many Requests.","data":{}}` {
		t.Errorf("body = %s", got)
	}
	// Another collection shares the *:auth budget; another IP does not.
	if w := do("POST", "/api/collections/admins/auth-with-password", "10.0.0.1", false); w.Code != http.StatusTooManyRequests {
		t.Errorf("other collection: %d, want 429", w.Code)
	}
	if w := do("POST", login, "10.0.0.2", false); w.Code != http.StatusNoContent {
		t.Errorf("other IP: %d", w.Code)
	}
	// Auth requests did not count against the catch-all.
	for i := range 5 {
		if w := do("GET", "/api/collections/posts/records", "10.0.0.1", false); w.Code != http.StatusNoContent {
			t.Fatalf("list %d: %d", i, w.Code)
		}
	}
	if w := do("GET", "/api/collections/posts/records", "10.0.0.1", false); w.Code != http.StatusTooManyRequests {
		t.Fatalf("6th list: %d, want 429", w.Code)
	}
	// The authenticated client has its own, larger, budget.
	if w := do("GET", "/api/collections/posts/records", "10.0.0.1", true); w.Code != http.StatusNoContent {
		t.Fatalf("authenticated list: %d", w.Code)
	}
	// No rule, no limit.
	for range 10 {
		if w := do("GET", "/_/", "10.0.0.1", false); w.Code != http.StatusNoContent {
			t.Fatalf("unlimited path: %d", w.Code)
		}
	}
	clk.Add(5 * time.Second)
	if w := do("POST", login, "10.0.0.1", false); w.Code != http.StatusNoContent {
		t.Fatalf("after Retry-After: %d", w.Code)
	}
	if onErr != 0 {
		t.Fatalf("onError called %d times", onErr)
	}
}

type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string, int, time.Duration) (bool, time.Duration, error) {
	return false, 0, errors.New("redis down")
}

func TestMiddlewareFailsOpen(t *testing.T) {
	var logged []error
	h := Middleware(failingLimiter{}, DefaultRules(), ipKeyFunc, nil, func(_ http.ResponseWriter, _ *http.Request, err error) {
		logged = append(logged, err)
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	r := httptest.NewRequest("GET", "/api/health", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || len(logged) != 1 {
		t.Fatalf("code %d, %d errors logged; want 200 and 1", w.Code, len(logged))
	}
	// A nil onError is allowed.
	h = Middleware(failingLimiter{}, DefaultRules(), ipKeyFunc, nil, nil)(http.NotFoundHandler())
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/x", nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("code %d", w.Code)
	}
}

func TestMiddlewareRejectsInvalidRules(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for an invalid rule")
		}
	}()
	Middleware(NewMemory(), []Rule{{Label: "/api/"}}, ipKeyFunc, nil, nil)
}

func TestRetrySeconds(t *testing.T) {
	for d, want := range map[time.Duration]int64{0: 1, time.Microsecond: 1, time.Second: 1, time.Second + 1: 2, 4500 * time.Millisecond: 5} {
		if got := retrySeconds(d); got != want {
			t.Errorf("retrySeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
