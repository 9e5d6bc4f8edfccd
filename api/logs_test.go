package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestRequestLog checks PocketBase's logs API on both databases: requests
// are logged asynchronously with their status, method, URL (secrets
// redacted), auth and timing; superusers list, filter, sort, view and
// count them; maxDays 0 turns the log off.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.do("GET", "/api/health", nil, "")
		ta.do("GET", "/api/collections/nope/records", nil, "")
		ta.do("GET", "/api/files/c/r/f.png?token=s3cr3t-file-token&thumb=10x10", nil, "")
		ta.do("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": "admin@example.com", "password": "wrong-password-9"}, "")
		ta.do("GET", "/api/collections", nil, ta.su)

		type page struct {
			TotalItems int
			Items      []struct {
				ID      string
				Level   int
				Message string
				Data    map[string]any
			}
		}
		list := func(query string) page {
			var p page
			ta.mustJSON("GET", "/api/logs?"+query, nil, ta.su, 200, &p)
			return p
		}
		// Entries are written in batches: wait for the last request's.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && list("filter="+url.QueryEscape(`data.url = "/api/collections"`)).TotalItems == 0 {
			time.Sleep(50 * time.Millisecond)
		}
		all := list("perPage=100&filter=" + url.QueryEscape(`data.type = "request"`))
		if all.TotalItems < 5 {
			t.Fatalf("%d request entries, want at least 5", all.TotalItems)
		}
		raw, _ := json.Marshal(all)
		for _, secret := range []string{"s3cr3t-file-token", "wrong-password-9"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("the log holds the secret %q: %s", secret, raw)
			}
		}
		if !strings.Contains(string(raw), `token=%2A%2A%2A`) {
			t.Errorf("the file URL is not in the log, redacted: %s", raw)
		}
		errs := list("filter=" + url.QueryEscape("data.status >= 400") + "&sort=-data.status")
		if errs.TotalItems < 3 {
			t.Errorf("%d entries with status >= 400, want 3 or more", errs.TotalItems)
		}
		for _, it := range errs.Items {
			if st, _ := it.Data["status"].(float64); st < 400 || it.Level < 4 {
				t.Errorf("filtered entry %v", it)
			}
		}
		su := list("filter=" + url.QueryEscape(`data.auth = "_superusers" && data.url = "/api/collections"`))
		if su.TotalItems != 1 || su.Items[0].Data["method"] != "GET" || su.Items[0].Data["userIP"] == nil {
			t.Errorf("superuser request entry: %+v", su)
		}
		ta.run(t, []scenario{
			{name: "one entry", method: "GET", path: "/api/logs/" + su.Items[0].ID, as: "su", status: 200, want: []string{`"message":"GET /api/collections"`}},
			{name: "unknown entry", method: "GET", path: "/api/logs/nope", as: "su", status: 404},
			{name: "stats", method: "GET", path: "/api/logs/stats?filter=" + url.QueryEscape("data.status >= 400"), as: "su", status: 200, want: []string{`"total":`, `"date":"`}},
			{name: "guests may not read the log", method: "GET", path: "/api/logs", status: 401},
			{name: "bad filter", method: "GET", path: "/api/logs?filter=" + url.QueryEscape("nope ="), as: "su", status: 400},
		})
		// maxDays 0 turns the log off.
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"logs": map[string]any{"maxDays": 0}}, ta.su, 200, nil)
		before := list("filter=" + url.QueryEscape(`data.url = "/api/health?off=1"`)).TotalItems
		ta.do("GET", "/api/health?off=1", nil, "")
		time.Sleep(400 * time.Millisecond)
		if after := list("filter=" + url.QueryEscape(`data.url = "/api/health?off=1"`)).TotalItems; after != before {
			t.Errorf("logged with maxDays 0: %d -> %d", before, after)
		}
	})
}
