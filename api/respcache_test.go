package api_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestPublicCache checks the public cache of record reads (on for SQLite,
// off on PostgreSQL, where every expectation but the hits and the ETag
// must hold the same): a repeated guest read is served from memory; every
// write, rule change and record change is seen at once; answers that
// depend on the caller (a token, a rule or filter reading @request) are
// never shared.
func TestPublicCache(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		cached := b.Name == "sqlite"
		get := func(path string, header ...string) (int, string, http.Header) {
			t.Helper()
			req, _ := http.NewRequest("GET", ta.srv.URL+path, nil)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(body), res.Header
		}
		hits := func() int {
			t.Helper()
			_, body := ta.do("GET", "/metrics", nil, ta.su)
			m := regexp.MustCompile(`plinth_response_cache_total\{result="hit"\} (\d+)`).FindStringSubmatch(string(body))
			if m == nil {
				return 0
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		ta.createCollection(map[string]any{"name": "posts", "listRule": "", "viewRule": "",
			"fields": []map[string]any{{"name": "title", "type": "text"}}})
		post := ta.create("posts", map[string]any{"title": "first"})
		view := "/api/collections/posts/records/" + post["id"].(string)

		// A repeated guest view: the second comes from memory, with an
		// ETag a conditional request can use.
		_, first, _ := get(view)
		before := hits()
		status, second, h := get(view)
		if status != 200 || second != first || !strings.Contains(second, `"first"`) {
			t.Fatalf("second view: %d %s", status, second)
		}
		if cached {
			if hits() != before+1 {
				t.Errorf("the repeated view was not a cache hit")
			}
			if status, body, _ := get(view, "If-None-Match", h.Get("ETag")); status != 304 || body != "" {
				t.Errorf("conditional view: %d %q", status, body)
			}
			// Cache-Control: no-cache asks for a fresh answer.
			before = hits()
			get(view, "Cache-Control", "no-cache")
			if hits() != before {
				t.Errorf("a no-cache request was served from the cache")
			}
		}

		// A write is seen by the next read, in a view and a list.
		get("/api/collections/posts/records")
		ta.mustJSON("PATCH", view, map[string]any{"title": "changed"}, ta.su, 200, nil)
		if _, body, _ := get(view); !strings.Contains(body, `"changed"`) {
			t.Errorf("view after an update: %s", body)
		}
		ta.create("posts", map[string]any{"title": "second"})
		if _, body, _ := get("/api/collections/posts/records"); !strings.Contains(body, `"totalItems":2`) {
			t.Errorf("list after a create: %s", body)
		}

		// A rule change is seen at once: a cached public answer is not
		// served once the collection is closed to guests.
		get(view)
		ta.mustJSON("PATCH", "/api/collections/posts", map[string]any{"viewRule": nil}, ta.su, 200, nil)
		if status, body, _ := get(view); status != 403 {
			t.Errorf("view after the rule closed it: %d %s", status, body)
		}

		// A rule reading the request's headers: each guest gets its own
		// answer, whichever came first.
		ta.createCollection(map[string]any{"name": "gated", "listRule": `@request.headers.x_key = "k1"`, "viewRule": `@request.headers.x_key = "k1"`,
			"fields": []map[string]any{{"name": "title", "type": "text"}}})
		gated := "/api/collections/gated/records/" + ta.create("gated", map[string]any{"title": "secret"})["id"].(string)
		for range 2 {
			if status, _, _ := get(gated, "X-Key", "k1"); status != 200 {
				t.Errorf("with the key: %d", status)
			}
			if status, body, _ := get(gated); status != 404 {
				t.Errorf("without the key: %d %s", status, body)
			}
		}
		// A guest's filter may not read @request (PocketBase's rule):
		// refused every time, never answered from the cache.
		ta.mustJSON("PATCH", "/api/collections/posts", map[string]any{"viewRule": ""}, ta.su, 200, nil)
		filtered := "/api/collections/posts/records?filter=" + strings.ReplaceAll(`@request.headers.x_key="k1"`, `"`, "%22")
		for range 2 {
			if status, _, _ := get(filtered, "X-Key", "k1"); status != 403 {
				t.Errorf("a guest's @request filter: %d", status)
			}
		}

		// A public auth record shows its email to itself only: a token
		// is never answered from (nor stored in) the guests' cache.
		ta.mustJSON("PATCH", "/api/collections/users", map[string]any{"viewRule": ""}, ta.su, 200, nil)
		id, token := ta.signUp("ann@example.com")
		self := "/api/collections/users/records/" + id
		for range 2 {
			if _, body, _ := get(self); strings.Contains(body, "ann@example.com") {
				t.Errorf("a guest sees the email: %s", body)
			}
			if _, body, _ := get(self, "Authorization", token); !strings.Contains(body, "ann@example.com") {
				t.Errorf("ann does not see her email: %s", body)
			}
		}
	})
}
