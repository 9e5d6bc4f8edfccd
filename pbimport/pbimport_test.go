package pbimport_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

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

// TestImportLoginsInProgress moves PocketBase's one-time passwords and
// MFA first factors: a code PocketBase sent just before the move still
// signs its user in afterwards, once.
func TestImportLoginsInProgress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/pb_data")); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("73920415"), 4)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format("2006-01-02 15:04:05.000Z")
	db, err := sql.Open("sqlite", filepath.Join(dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO _otps (id, collectionRef, recordRef, password, sentTo, created, updated) VALUES ('pbotp000000001', '_pb_users_auth_', 'valln8ypntugvll', ?, 'ann@pb.test', ?, ?)`,
		`INSERT INTO _mfas (id, collectionRef, recordRef, method, created, updated) VALUES ('pbmfa000000001', '_pb_users_auth_', 'valln8ypntugvll', 'password', ?, ?)`,
	} {
		args := []any{string(hash), now, now}
		if strings.Contains(stmt, "_mfas") {
			args = args[1:]
		}
		if _, err := db.Exec(stmt, args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		rep, err := pbimport.Import(ctx, app.Store(), app.Files(), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Records["_otps"] != 1 || rep.Records["_mfas"] != 1 {
			t.Fatalf("report %+v", rep)
		}
		for _, s := range rep.Skipped {
			if strings.Contains(s, "_otps") || strings.Contains(s, "_mfas") {
				t.Errorf("reported as skipped: %s", s)
			}
		}
		post := func(path, token string, body any) (int, string) {
			data, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(data))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			out, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(out)
		}
		if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
			t.Fatal(err)
		}
		_, body := post("/api/collections/_superusers/auth-with-password", "", map[string]any{"identity": "admin@example.com", "password": "secret-pass-1"})
		var su struct{ Token string }
		json.Unmarshal([]byte(body), &su)
		req, _ := http.NewRequest("PATCH", srv.URL+"/api/collections/users", strings.NewReader(`{"otp":{"enabled":true}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", su.Token)
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
			t.Fatalf("enable OTP: %v %v", res, err)
		}
		if status, body := post("/api/collections/users/auth-with-otp", "", map[string]any{"otpId": "pbotp000000001", "password": "73920415"}); status != 200 || !strings.Contains(body, "ann@pb.test") {
			t.Fatalf("sign in with the PocketBase code: %d %s", status, body)
		}
		if status, _ := post("/api/collections/users/auth-with-otp", "", map[string]any{"otpId": "pbotp000000001", "password": "73920415"}); status != 400 {
			t.Errorf("the code worked twice: %d", status)
		}
		req, _ = http.NewRequest("GET", srv.URL+"/api/collections/_mfas/records/pbmfa000000001", nil)
		req.Header.Set("Authorization", su.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(data), `"method":"password"`) {
			t.Errorf("the MFA first factor: %d %s", res.StatusCode, data)
		}
	})
}
