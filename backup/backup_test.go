package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/backup"
	"github.com/plinthdev/plinth/internal/testenv"
)

type instance struct {
	t   *testing.T
	app *plinth.App
	srv *httptest.Server
}

func start(t *testing.T, b testenv.Backend) *instance {
	t.Helper()
	app, err := plinth.New(context.Background(), plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); app.Close() })
	return &instance{t, app, srv}
}

// call sends body as JSON and decodes the answer, which must have
// status want.
func (in *instance) call(method, path, token string, body any, want int) map[string]any {
	in.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	return in.send(method, path, token, "application/json", rd, want)
}

// send sends a body of content type ct.
func (in *instance) send(method, path, token, ct string, body io.Reader, want int) map[string]any {
	in.t.Helper()
	req, _ := http.NewRequest(method, in.srv.URL+path, body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		in.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	out := map[string]any{}
	json.Unmarshal(data, &out)
	return out
}

func (in *instance) login(coll, email, password string) string {
	in.t.Helper()
	return in.call("POST", "/api/collections/"+coll+"/auth-with-password", "", map[string]any{"identity": email, "password": password}, 200)["token"].(string)
}

// TestBackupRestoreAcrossDatabases makes an archive on each database and
// restores it into each, then uses the restored instance: passwords,
// records of every kind of field, rules, files, settings and the view.
func TestBackupRestoreAcrossDatabases(t *testing.T) {
	t.Parallel()
	for _, from := range []string{"sqlite", "postgres"} {
		for _, to := range []string{"sqlite", "postgres"} {
			t.Run(from+"_to_"+to, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				src := start(t, testenv.New(t, from))
				if err := src.app.UpsertSuperuser(ctx, "admin@example.com", "admin-pass-123"); err != nil {
					t.Fatal(err)
				}
				su := src.login("_superusers", "admin@example.com", "admin-pass-123")
				src.call("POST", "/api/collections", su, map[string]any{"name": "posts",
					"listRule": "published = true || author = @request.auth.id", "viewRule": "published = true || author = @request.auth.id",
					"fields": []map[string]any{{"name": "title", "type": "text"}, {"name": "views", "type": "number"},
						{"name": "published", "type": "bool"}, {"name": "tags", "type": "select", "maxSelect": 3, "values": []string{"go", "db", "web"}},
						{"name": "meta", "type": "json"}, {"name": "place", "type": "geoPoint"},
						{"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
						{"name": "cover", "type": "file", "maxSelect": 1}, {"name": "created", "type": "autodate", "onCreate": true}},
					"indexes": []string{"CREATE INDEX idx_posts_views ON posts (views)"}}, 200)
				src.call("POST", "/api/collections", su, map[string]any{"name": "popular", "type": "view", "listRule": "",
					"viewQuery": "SELECT id, title, views FROM posts WHERE views > 10"}, 200)
				ann := src.call("POST", "/api/collections/users/records", "", map[string]any{"email": "ann@example.com", "password": "ann-pass-123", "passwordConfirm": "ann-pass-123", "name": "Ann"}, 200)
				annTok := src.login("users", "ann@example.com", "ann-pass-123")
				var mp bytes.Buffer
				w := multipart.NewWriter(&mp)
				w.WriteField("title", "Hello")
				w.WriteField("views", "42")
				w.WriteField("published", "true")
				w.WriteField("tags", "go")
				w.WriteField("tags", "db")
				w.WriteField("meta", `{"lang":"en","n":1.5}`)
				w.WriteField("place", `{"lon":2.35,"lat":48.85}`)
				w.WriteField("author", ann["id"].(string))
				fw, _ := w.CreateFormFile("cover", "cover.txt")
				fw.Write([]byte("the cover"))
				w.Close()
				hello := src.send("POST", "/api/collections/posts/records", su, w.FormDataContentType(), &mp, 200)
				src.call("POST", "/api/collections/posts/records", su, map[string]any{"title": "Draft", "views": 3, "author": ann["id"]}, 200)
				src.call("PATCH", "/api/settings", su, map[string]any{"meta": map[string]any{"appName": "Restored app"}}, 200)
				hook := src.call("POST", "/api/webhooks", su, map[string]any{"name": "orders", "url": "https://example.com/hook", "collections": []string{"posts"}}, 200)
				src.call("PATCH", "/api/webhooks/"+hook["id"].(string), su, map[string]any{"active": false}, 200)

				var archive bytes.Buffer
				m, err := backup.Write(ctx, src.app.Store(), src.app.Files(), &archive, plinth.Version)
				if err != nil {
					t.Fatal(err)
				}
				if m.Records["posts"] != 2 || m.Records["users"] != 1 || m.Records["_superusers"] != 1 || m.Files != 1 || m.Dialect != from {
					t.Fatalf("manifest %+v", m)
				}

				// Restored as `plinth restore` does (an instance opened on the
				// new target, then closed), then served by a fresh start.
				target := testenv.New(t, to)
				tmp := start(t, target)
				if _, err := backup.Restore(ctx, tmp.app.Store(), tmp.app.Files(), bytes.NewReader(archive.Bytes()), int64(archive.Len())); err != nil {
					t.Fatal(err)
				}
				// A second restore into the now full target is refused.
				if _, err := backup.Restore(ctx, tmp.app.Store(), tmp.app.Files(), bytes.NewReader(archive.Bytes()), int64(archive.Len())); err == nil || !strings.Contains(err.Error(), "already has") {
					t.Errorf("restore into a full target: %v", err)
				}
				tmp.srv.Close()
				tmp.app.Close()
				dst := start(t, target)

				dsu := dst.login("_superusers", "admin@example.com", "admin-pass-123")
				dann := dst.login("users", "ann@example.com", "ann-pass-123")
				// Tokens signed on the source still verify: the token secret came along.
				dst.call("POST", "/api/collections/users/auth-refresh", annTok, nil, 200)
				got := dst.call("GET", "/api/collections/posts/records/"+hello["id"].(string), "", nil, 200)
				for _, k := range []string{"title", "views", "published", "tags", "meta", "place", "author", "cover", "created"} {
					a, _ := json.Marshal(hello[k])
					b, _ := json.Marshal(got[k])
					if string(a) != string(b) {
						t.Errorf("%s: %s before, %s after", k, a, b)
					}
				}
				if n := dst.call("GET", "/api/collections/posts/records", "", nil, 200)["totalItems"]; n != 1.0 {
					t.Errorf("a guest sees %v posts, want 1 (the rule came along)", n)
				}
				if n := dst.call("GET", "/api/collections/posts/records", dann, nil, 200)["totalItems"]; n != 2.0 {
					t.Errorf("ann sees %v posts, want 2", n)
				}
				if n := dst.call("GET", "/api/collections/popular/records", "", nil, 200)["totalItems"]; n != 1.0 {
					t.Errorf("the view lists %v rows, want 1", n)
				}
				res, err := http.Get(dst.srv.URL + "/api/files/" + hello["collectionId"].(string) + "/" + hello["id"].(string) + "/" + hello["cover"].(string))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(body) != "the cover" {
					t.Errorf("the file: %d %q", res.StatusCode, body)
				}
				// The webhook came along, its sealed secret still opens (the
				// sealing key came along), and it stays inactive.
				wh := dst.call("GET", "/api/webhooks/"+hook["id"].(string), dsu, nil, 200)
				if wh["name"] != "orders" || wh["active"] != false {
					t.Errorf("webhook after restore: %v", wh)
				}
				dst.call("PATCH", "/api/webhooks/"+hook["id"].(string), dsu, map[string]any{"name": "orders 2"}, 200)
				settings := dst.call("GET", "/api/settings", dsu, nil, 200)
				if settings["meta"].(map[string]any)["appName"] != "Restored app" {
					t.Errorf("settings: %v", settings["meta"])
				}
			})
		}
	}
}
