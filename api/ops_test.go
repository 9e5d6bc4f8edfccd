package api_test

import (
	"strings"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

func TestOperations(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "things", "createRule": "", "fields": []map[string]any{{"name": "blob", "type": "json"}}})
		ta.run(t, []scenario{
			{name: "health", method: "GET", path: "/api/health", status: 200, want: []string{`"code":200`, `"message":"API is healthy."`}},
			{name: "health hides details from guests", method: "GET", path: "/api/health", status: 200, notWant: []string{`"database"`}},
			{name: "health details for superusers", method: "GET", path: "/api/health", as: "su", status: 200, want: []string{`"database":"` + b.Name + `"`}},
			{name: "oversize body", method: "POST", path: "/api/collections/things/records", body: `{"blob":"` + strings.Repeat("x", 33<<20) + `"}`, status: 413, want: []string{`"status":413`}},
			{name: "unknown api route", method: "GET", path: "/api/nope", status: 404, want: []string{`"status":404`}},
			{name: "wrong method is a JSON 404", method: "PUT", path: "/api/collections/things/records", status: 404, want: []string{`"status":404`}},
			{name: "bad token is a guest", method: "GET", path: "/api/collections", as: "not-a-token", status: 401},
			{name: "alg none token refused", method: "GET", path: "/api/collections", status: 401,
				as: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpZCI6IngiLCJ0eXBlIjoiYXV0aCIsImNvbGxlY3Rpb25JZCI6InBiY18zMTQyNjM1ODIzIn0."},
			{name: "metrics need a token", method: "GET", path: "/metrics", status: 401, notWant: []string{`plinth_`}},
			{name: "metrics", method: "GET", path: "/metrics", as: "su", status: 200, want: []string{
				`plinth_http_requests_total{route="GET /api/health",status="200"}`,
				`plinth_http_request_duration_seconds_bucket{route="GET /api/health",status="200"`,
				`plinth_db_connections_open`, `go_goroutines`}},
		})
	})
}
