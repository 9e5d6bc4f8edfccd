package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

func TestDocumentValidatesAndDescribesResponses(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		defer func() { srv.Close(); app.Close() }()
		if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
			t.Fatal(err)
		}
		call := func(method, path string, body any, token string) []byte {
			t.Helper()
			var rd io.Reader
			if body != nil {
				data, _ := json.Marshal(body)
				rd = bytes.NewReader(data)
			}
			req, _ := http.NewRequest(method, srv.URL+path, rd)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 {
				t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
			}
			return data
		}
		var auth struct{ Token string }
		json.Unmarshal(call("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": "admin@example.com", "password": "secret-pass-1"}, ""), &auth)
		call("POST", "/api/collections", map[string]any{"name": "posts", "listRule": "", "viewRule": "", "createRule": "", "fields": []map[string]any{
			{"name": "title", "type": "text", "required": true}, {"name": "score", "type": "number"},
			{"name": "tags", "type": "select", "values": []string{"go", "sql"}, "maxSelect": 2}, {"name": "meta", "type": "json"},
			{"name": "secret", "type": "text", "hidden": true},
		}}, auth.Token)
		created := call("POST", "/api/collections/posts/records", map[string]any{"title": "Hello", "score": 4, "tags": []string{"go"}, "meta": map[string]any{"a": 1}}, "")
		list := call("GET", "/api/collections/posts/records", nil, "")

		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(call("GET", "/api/openapi.json", nil, ""))
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(ctx); err != nil {
			t.Fatalf("document invalid: %v", err)
		}
		if !doc.IsOpenAPI31OrLater() {
			t.Fatalf("version %s", doc.OpenAPI)
		}
		rec := doc.Components.Schemas["postsRecord"]
		if rec == nil || rec.Value.Properties["title"] == nil || rec.Value.Properties["secret"] != nil {
			t.Fatalf("posts record schema: %+v", rec)
		}
		for name, data := range map[string][]byte{"postsRecord": created, "postsListResult": list} {
			var v any
			json.Unmarshal(data, &v)
			if err := doc.Components.Schemas[name].Value.VisitJSON(v); err != nil {
				t.Errorf("%s does not describe %s: %v", name, data, err)
			}
		}
		for _, p := range []string{"/api/collections/posts/records/{id}", "/api/collections/users/auth-with-password", "/api/batch", "/api/realtime", "/api/settings",
			"/api/files/{collection}/{recordId}/{filename}", "/api/graphql", "/api/collections/{collection}/records", "/api/collections/{collection}/request-otp",
			"/api/backups/{key}", "/api/logs", "/api/api-keys", "/api/jobs/{id}", "/api/webhooks/{id}", "/api/openapi.json"} {
			if doc.Paths.Find(p) == nil {
				t.Errorf("no path %s", p)
			}
		}
	})
}
