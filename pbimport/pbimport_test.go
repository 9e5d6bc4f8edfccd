package pbimport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/pbimport"
)

// TestImportPocketBase moves testdata/pb_data, made by a real PocketBase
// (see testdata/README.md), into a fresh Plinth and uses it through the
// API: everyone signs in with their PocketBase password, records, rules,
// files and the view come across, and a second run changes nothing.
func TestImportPocketBase(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })

		for run := 1; run <= 2; run++ {
			rep, err := pbimport.Import(ctx, app.Store(), app.Files(), "testdata/pb_data", nil)
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
			if rep.Records["posts"] != 2 || rep.Records["users"] != 2 || rep.Records["_superusers"] != 1 || rep.Files != 1 {
				t.Fatalf("run %d: report %+v", run, rep)
			}
		}

		call := func(method, path, token string, body any, want int) map[string]any {
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
			if res.StatusCode != want {
				t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, data)
			}
			out := map[string]any{}
			json.Unmarshal(data, &out)
			return out
		}
		login := func(coll, email, password string) (string, map[string]any) {
			t.Helper()
			out := call("POST", "/api/collections/"+coll+"/auth-with-password", "", map[string]any{"identity": email, "password": password}, 200)
			return out["token"].(string), out["record"].(map[string]any)
		}
		login("_superusers", "admin@pb.test", "pbadmin-pass-1")
		ann, annRec := login("users", "ann@pb.test", "ann-pass-123")
		bob, _ := login("users", "bob@pb.test", "bob-pass-123")
		call("POST", "/api/collections/users/auth-with-password", "", map[string]any{"identity": "ann@pb.test", "password": "wrong-pass-1"}, 400)
		if annRec["name"] != "ann" {
			t.Errorf("ann's record: %v", annRec)
		}

		// The guest sees the published post only; ann also her draft.
		guest := call("GET", "/api/collections/posts/records?sort=created", "", nil, 200)
		if guest["totalItems"] != 1.0 {
			t.Fatalf("guest sees %v", guest)
		}
		post := guest["items"].([]any)[0].(map[string]any)
		got, _ := json.Marshal(map[string]any{"title": post["title"], "views": post["views"], "published": post["published"],
			"tags": post["tags"], "meta": post["meta"], "author": post["author"], "created": post["created"] != ""})
		want := `{"author":"` + annRec["id"].(string) + `","created":true,"meta":{"lang":"en","n":1},"published":true,"tags":["go","db"],"title":"Hello from PocketBase","views":42}`
		if string(got) != want {
			t.Errorf("the post came across as %s, want %s", got, want)
		}
		if n := call("GET", "/api/collections/posts/records", ann, nil, 200)["totalItems"]; n != 2.0 {
			t.Errorf("ann sees %v posts, want 2", n)
		}
		// Rules came across: bob may not edit ann's post; ann may.
		call("PATCH", "/api/collections/posts/records/"+post["id"].(string), bob, map[string]any{"title": "mine"}, 404)
		call("PATCH", "/api/collections/posts/records/"+post["id"].(string), ann, map[string]any{"views+": 1}, 200)

		// The cover is served, as a PNG.
		res, err := http.Get(srv.URL + "/api/files/" + post["collectionId"].(string) + "/" + post["id"].(string) + "/" + post["cover"].(string))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(string(body), "\x89PNG") || res.Header.Get("Content-Type") != "image/png" {
			t.Errorf("cover: %d %q %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
		// The view works on the imported rows.
		if n := call("GET", "/api/collections/popular/records", "", nil, 200)["totalItems"]; n != 1.0 {
			t.Errorf("the view lists %v rows, want 1", n)
		}
	})
}
