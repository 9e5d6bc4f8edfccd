package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
)

// status sends a request and returns its status, Retry-After and body.
func (ta *testApp) status(method, path string, body any, token string) (int, string, []byte) {
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
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Retry-After"), data
}

// checkTooMany asserts a 429 in PocketBase's error shape with a Retry-After
// of at least one second.
func checkTooMany(t *testing.T, status int, retry string, body []byte) {
	t.Helper()
	if status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429; body %s", status, body)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 {
		t.Errorf("Retry-After %q", retry)
	}
	var e struct {
		Status  int
		Message string
		Data    map[string]any
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Status != 429 || e.Message == "" || e.Data == nil {
		t.Errorf("429 body %s", body)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b) // default settings: limits on
		login := map[string]any{"identity": "admin@example.com", "password": "secret-pass-1"}
		const path = "/api/collections/_superusers/auth-with-password"
		// setup logged in once; the default rule allows 10 per minute per IP.
		for i := 2; i <= 10; i++ {
			if st, _, body := ta.status("POST", path, login, ""); st != 200 {
				t.Fatalf("login %d: %d %s", i, st, body)
			}
		}
		st, retry, body := ta.status("POST", path, login, "")
		checkTooMany(t, st, retry, body)
		// Other routes have their own budget.
		ta.run(t, []scenario{{name: "health is not auth", method: "GET", path: "/api/health", status: 200}})

		// Settings turn the rules off, and define others.
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"rateLimits": map[string]any{"enabled": false}}, ta.su, 200, nil)
		if st, _, body := ta.status("POST", path, login, ""); st != 200 {
			t.Fatalf("with rate limits off: %d %s", st, body)
		}
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"rateLimits": map[string]any{"enabled": true, "rules": []map[string]any{
			{"label": "/api/health", "maxRequests": 2, "duration": 60, "audience": "@guest"}}}}, ta.su, 200, nil)
		for range 2 {
			ta.run(t, []scenario{{name: "health within budget", method: "GET", path: "/api/health", status: 200}})
		}
		st, retry, body = ta.status("GET", "/api/health", nil, "")
		checkTooMany(t, st, retry, body)
		ta.run(t, []scenario{{name: "the rule is for guests only", method: "GET", path: "/api/health", as: "su", status: 200}})
	})
}

func TestFailedLoginThrottle(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.signUp("ann@example.com")
		ta.signUp("bob@example.com")
		const path = "/api/collections/users/auth-with-password"
		for i := range 5 {
			if st, _, body := ta.status("POST", path, map[string]any{"identity": "ann@example.com", "password": "wrong-" + strconv.Itoa(i)}, ""); st != 400 {
				t.Fatalf("wrong password %d: %d %s", i, st, body)
			}
		}
		// The identity is throttled, even with the right password.
		st, retry, body := ta.status("POST", path, map[string]any{"identity": "ann@example.com", "password": "user-password-1"}, "")
		checkTooMany(t, st, retry, body)
		if n, _ := strconv.Atoi(retry); n < 60 {
			t.Errorf("Retry-After %s: a failed-login window is 15 minutes", retry)
		}
		// Other identities from the same IP are not (the IP budget is 20).
		ta.login("users", "bob@example.com", "user-password-1")
	})
}

func TestRateLimitsOff(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ta.signUp("ann@example.com")
		for i := range 15 {
			if st, _, body := ta.status("POST", "/api/collections/users/auth-with-password", map[string]any{"identity": "ann@example.com", "password": "wrong"}, ""); st != 400 {
				t.Fatalf("attempt %d: %d %s", i, st, body)
			}
		}
		ta.login("users", "ann@example.com", "user-password-1")
	})
}

// TestRateLimitsSharedRedis runs two instances on the local Redis: they
// share one budget per rule and client, and one failed-login count.
func TestRateLimitsSharedRedis(t *testing.T) {
	t.Parallel()
	url := os.Getenv("PLINTH_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Redis at %s is required (PLINTH_REQUIRE_SERVICES=1): %v", url, err)
		}
		t.Skipf("Redis at %s unreachable, skipping: %v", url, err)
	}
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		prefix := "plinth:test:" + schema.NewID() + ":"
		t.Cleanup(func() {
			keys, _ := client.Keys(context.Background(), prefix+"*").Result()
			if len(keys) > 0 {
				client.Del(context.Background(), keys...)
			}
		})
		shared := func(c *plinth.Config) { c.RedisURL, c.RedisPrefix = url, prefix }
		a := setupWith(t, b, shared)
		other := testenv.New(t, b.Name)
		bb := setupWith(t, other, shared)
		rules := map[string]any{"rateLimits": map[string]any{"enabled": true, "rules": []map[string]any{
			{"label": "/api/health", "maxRequests": 3, "duration": 60}}}}
		a.mustJSON("PATCH", "/api/settings", rules, a.su, 200, nil)
		bb.mustJSON("PATCH", "/api/settings", rules, bb.su, 200, nil)
		for i, ta := range []*testApp{a, bb, a} {
			if st, _, body := ta.status("GET", "/api/health", nil, ""); st != 200 {
				t.Fatalf("request %d: %d %s", i, st, body)
			}
		}
		st, retry, body := bb.status("GET", "/api/health", nil, "")
		checkTooMany(t, st, retry, body)

		// Failed logins add up across instances too (same identity, same IP).
		login := map[string]any{"identity": "admin@example.com", "password": "wrong-password"}
		const path = "/api/collections/_superusers/auth-with-password"
		for i, ta := range []*testApp{a, bb, a, bb, a} {
			if st, _, body := ta.status("POST", path, login, ""); st != 400 {
				t.Fatalf("failure %d: %d %s", i, st, body)
			}
		}
		st, retry, body = bb.status("POST", path, map[string]any{"identity": "admin@example.com", "password": "secret-pass-1"}, "")
		checkTooMany(t, st, retry, body)
	})
}
