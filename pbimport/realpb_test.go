package pbimport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/pbimport"
)

// pbClient talks to a running PocketBase.
type pbClient struct {
	t     *testing.T
	url   string
	token string
}

func (c *pbClient) send(method, path, contentType string, body io.Reader, out any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, body)
	req.Header.Set("Content-Type", contentType)
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		c.t.Fatalf("PocketBase %s %s: %d %.500s", method, path, res.StatusCode, data)
	}
	if out != nil {
		json.Unmarshal(data, out)
	}
}

func (c *pbClient) json(method, path string, body, out any) {
	c.t.Helper()
	data, _ := json.Marshal(body)
	c.send(method, path, "application/json", bytes.NewReader(data), out)
}

const (
	pbUsers = 60
	pbNotes = 3000
	pbFiles = 20
)

// makePocketBaseData runs the real PocketBase binary, fills it through
// its own API (a superuser, users with passwords, a collection with a
// relation and a file field, thousands of records, files), stops it and
// returns its pb_data.
func makePocketBaseData(t *testing.T, bin string) string {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--dir", dir, "--http", addr)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	defer stop()
	c := &pbClient{t: t, url: "http://" + addr}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(c.url + "/api/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("PocketBase did not start: %s", logs.String())
		}
	}
	if out, err := exec.Command(bin, "superuser", "upsert", "admin@pb.test", "pbadmin-pass-1", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("PocketBase superuser: %v %s", err, out)
	}
	var auth struct{ Token string }
	c.json("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": "admin@pb.test", "password": "pbadmin-pass-1"}, &auth)
	c.token = auth.Token
	c.json("PATCH", "/api/settings", map[string]any{"batch": map[string]any{"enabled": true, "maxRequests": 1000, "timeout": 60}}, nil)
	c.json("POST", "/api/collections", map[string]any{"name": "notes", "type": "base",
		"listRule": "owner = @request.auth.id", "viewRule": "owner = @request.auth.id",
		"fields": []map[string]any{{"name": "title", "type": "text"}, {"name": "n", "type": "number"},
			{"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
			{"name": "att", "type": "file", "maxSelect": 1, "maxSize": 1 << 20}}}, nil)
	batch := func(reqs []map[string]any) {
		var res []struct{ Status int }
		c.json("POST", "/api/batch", map[string]any{"requests": reqs}, &res)
		for i, r := range res {
			if r.Status != 200 {
				t.Fatalf("PocketBase batch item %d: %d", i, r.Status)
			}
		}
	}
	var reqs []map[string]any
	for i := range pbUsers {
		pw := fmt.Sprintf("user-pass-%03d", i)
		reqs = append(reqs, map[string]any{"method": "POST", "url": "/api/collections/users/records",
			"body": map[string]any{"id": fmt.Sprintf("user%011d", i), "email": fmt.Sprintf("user%d@pb.test", i), "password": pw, "passwordConfirm": pw, "name": fmt.Sprintf("User %d", i)}})
	}
	batch(reqs)
	for start := 0; start < pbNotes; start += 1000 {
		reqs = reqs[:0]
		for i := start; i < start+1000; i++ {
			reqs = append(reqs, map[string]any{"method": "POST", "url": "/api/collections/notes/records",
				"body": map[string]any{"id": fmt.Sprintf("note%011d", i), "title": fmt.Sprintf("Note %d", i), "n": i, "owner": fmt.Sprintf("user%011d", i%pbUsers)}})
		}
		batch(reqs)
	}
	for i := range pbFiles {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, _ := w.CreateFormFile("att", fmt.Sprintf("file%d.txt", i))
		fmt.Fprintf(fw, "content of file %d", i)
		w.Close()
		c.send("PATCH", fmt.Sprintf("/api/collections/notes/records/note%011d", i), w.FormDataContentType(), &body, nil)
	}
	stop()
	return dir
}

// TestImportFromRunningPocketBase imports what a real PocketBase binary
// (built from the module proxy by CI, see testenv.PocketBaseVersion) made through
// its own API: a few thousand records, users and files. Every user then
// signs in with their PocketBase password and sees their own notes and
// files, on SQLite and PostgreSQL.
func TestImportFromRunningPocketBase(t *testing.T) {
	t.Parallel()
	bin, ok := testenv.PocketBaseBinary()
	if !ok {
		msg := "no PocketBase binary (set PLINTH_POCKETBASE_BIN, or go install github.com/pocketbase/pocketbase/examples/base@" + testenv.PocketBaseVersion + ")"
		if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := makePocketBaseData(t, bin)
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		var mu sync.Mutex
		last := map[string][2]int{}
		start := time.Now()
		rep, err := pbimport.Import(ctx, app.Store(), app.Files(), dir, func(coll string, done, total int) {
			mu.Lock()
			last[coll] = [2]int{done, total}
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("imported %d users, %d notes and %d files in %s", rep.Records["users"], rep.Records["notes"], rep.Files, time.Since(start).Round(time.Millisecond))
		if rep.Records["notes"] != pbNotes || rep.Records["users"] != pbUsers || rep.Files != pbFiles || last["notes"] != [2]int{pbNotes, pbNotes} {
			t.Fatalf("report %+v, progress %v", rep, last)
		}
		for _, i := range []int{0, 17, pbUsers - 1} {
			var auth struct {
				Token  string
				Record struct{ ID string }
			}
			body, _ := json.Marshal(map[string]any{"identity": fmt.Sprintf("user%d@pb.test", i), "password": fmt.Sprintf("user-pass-%03d", i)})
			res, err := http.Post(srv.URL+"/api/collections/users/auth-with-password", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			json.NewDecoder(res.Body).Decode(&auth)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("user %d cannot sign in with their PocketBase password: %d", i, res.StatusCode)
			}
			req, _ := http.NewRequest("GET", srv.URL+"/api/collections/notes/records?perPage=1", nil)
			req.Header.Set("Authorization", auth.Token)
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var page struct{ TotalItems int }
			json.NewDecoder(res.Body).Decode(&page)
			res.Body.Close()
			if page.TotalItems != pbNotes/pbUsers {
				t.Errorf("user %d sees %d notes, want %d (the owner rule)", i, page.TotalItems, pbNotes/pbUsers)
			}
		}
		// A file, by the name PocketBase gave it, read by the imported
		// superuser.
		body, _ := json.Marshal(map[string]any{"identity": "admin@pb.test", "password": "pbadmin-pass-1"})
		res, err := http.Post(srv.URL+"/api/collections/_superusers/auth-with-password", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var su struct{ Token string }
		json.NewDecoder(res.Body).Decode(&su)
		res.Body.Close()
		req, _ := http.NewRequest("GET", srv.URL+"/api/collections/notes/records/note00000000003", nil)
		req.Header.Set("Authorization", su.Token)
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var note struct{ CollectionID, ID, Att string }
		json.NewDecoder(res.Body).Decode(&note)
		res.Body.Close()
		res, err = http.Get(srv.URL + "/api/files/" + note.CollectionID + "/" + note.ID + "/" + note.Att)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(data) != "content of file 3" {
			t.Errorf("file %q: %d %q", note.Att, res.StatusCode, data)
		}
	})
}
