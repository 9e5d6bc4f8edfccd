package api_test

import (
	"archive/zip"
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestBackupsAPI: PocketBase's backups API over archives in the file
// storage: create (named or not), list, download with a superuser file
// token only, upload (archives only), delete; restore in place answers a
// clear 400; nobody but superusers reaches any of it.
func TestBackupsAPI(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		_, user := ta.signUp("ann@example.com")
		ta.createCollection(map[string]any{"name": "notes", "fields": []map[string]any{{"name": "body", "type": "text"}}})
		ta.create("notes", map[string]any{"body": "kept"})
		ta.run(t, []scenario{
			{name: "guest cannot list", method: "GET", path: "/api/backups", status: 401},
			{name: "user cannot list", method: "GET", path: "/api/backups", as: user, status: 403},
			{name: "user cannot create", method: "POST", path: "/api/backups", as: user, body: map[string]any{}, status: 403},
			{name: "empty list", method: "GET", path: "/api/backups", as: "su", status: 200, want: []string{`[]`}},
			{name: "health tells superusers a backup can be made", method: "GET", path: "/api/health", as: "su", status: 200, want: []string{`"canBackup":true`}},
			{name: "create named", method: "POST", path: "/api/backups", as: "su", body: map[string]any{"name": "before_upgrade.zip"}, status: 204},
			{name: "create unnamed", method: "POST", path: "/api/backups", as: "su", body: map[string]any{}, status: 204},
			{name: "same name twice", method: "POST", path: "/api/backups", as: "su", body: map[string]any{"name": "before_upgrade.zip"}, status: 400},
			{name: "bad name", method: "POST", path: "/api/backups", as: "su", body: map[string]any{"name": "../x.zip"}, status: 400},
			{name: "listed", method: "GET", path: "/api/backups", as: "su", status: 200, want: []string{`"key":"before_upgrade.zip"`, `"key":"pb_backup_`, `"size":`, `"modified":"`}},
			{name: "restore of nothing", method: "POST", path: "/api/backups/nope.zip/restore", as: "su", status: 404},
		})

		// Download: with a superuser's file token only.
		var tok struct{ Token string }
		ta.mustJSON("POST", "/api/files/token", nil, ta.su, 200, &tok)
		var userTok struct{ Token string }
		ta.mustJSON("POST", "/api/files/token", nil, user, 200, &userTok)
		ta.run(t, []scenario{
			{name: "no token", method: "GET", path: "/api/backups/before_upgrade.zip", status: 403},
			{name: "a user's file token", method: "GET", path: "/api/backups/before_upgrade.zip?token=" + userTok.Token, status: 403},
			{name: "the auth token is not a file token", method: "GET", path: "/api/backups/before_upgrade.zip?token=" + ta.su, status: 403},
			{name: "missing", method: "GET", path: "/api/backups/nope.zip?token=" + tok.Token, status: 404},
		})
		res, err := http.Get(ta.srv.URL + "/api/backups/before_upgrade.zip?token=" + tok.Token)
		if err != nil {
			t.Fatal(err)
		}
		archive, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download: %d %v", res.StatusCode, res.Header)
		}
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
			if strings.HasPrefix(f.Name, "storage/_backups/") {
				t.Errorf("an archive holds another archive: %s", f.Name)
			}
		}
		if !strings.Contains(strings.Join(names, " "), "manifest.json") {
			t.Errorf("archive entries: %v", names)
		}

		// Upload: the archive under another name; a file that is not one is refused.
		upload := func(name string, content []byte, token string) (int, string) {
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			fw, _ := w.CreateFormFile("file", name)
			fw.Write(content)
			w.Close()
			req, _ := http.NewRequest("POST", ta.srv.URL+"/api/backups/upload", &body)
			req.Header.Set("Content-Type", w.FormDataContentType())
			req.Header.Set("Authorization", token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(data)
		}
		if st, body := upload("copy.zip", archive, ta.su); st != 204 {
			t.Errorf("upload: %d %s", st, body)
		}
		if st, _ := upload("copy2.zip", archive, user); st != 403 {
			t.Errorf("upload by a user: %d", st)
		}
		if st, body := upload("junk.zip", []byte("not a zip"), ta.su); st != 400 || !strings.Contains(body, "not a Plinth backup") {
			t.Errorf("upload of junk: %d %s", st, body)
		}
		if st, _ := upload("copy.zip", archive, ta.su); st != 400 {
			t.Errorf("upload over an existing name: %d", st)
		}
		ta.run(t, []scenario{
			{name: "uploaded is listed", method: "GET", path: "/api/backups", as: "su", status: 200, want: []string{`"key":"copy.zip"`}},
			{name: "user cannot delete", method: "DELETE", path: "/api/backups/copy.zip", as: user, status: 403},
			{name: "delete", method: "DELETE", path: "/api/backups/copy.zip", as: "su", status: 204},
			{name: "deleted", method: "DELETE", path: "/api/backups/copy.zip", as: "su", status: 404},
			{name: "gone from the list", method: "GET", path: "/api/backups", as: "su", status: 200, notWant: []string{`"key":"copy.zip"`}},
		})
	})
}

// TestBackupRestoreInPlace: restoring a stored backup replaces the data in
// one transaction while the instance serves on: what came after the
// backup is gone (records, a collection, a settings change), what was in
// it is back, the superuser's session goes on; an archive that fails
// half-way leaves everything as it was.
func TestBackupRestoreInPlace(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "notes", "listRule": "", "fields": []map[string]any{{"name": "body", "type": "text"}}})
		kept := ta.create("notes", map[string]any{"body": "kept"})["id"].(string)
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"meta": map[string]any{"appName": "Before"}}, ta.su, 200, nil)
		ta.mustJSON("POST", "/api/backups", map[string]any{"name": "snap.zip"}, ta.su, 204, nil)

		ta.create("notes", map[string]any{"body": "added after"})
		ta.createCollection(map[string]any{"name": "extra", "fields": []map[string]any{{"name": "x", "type": "text"}}})
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"meta": map[string]any{"appName": "After"}}, ta.su, 200, nil)

		// A broken copy (a collection with a field type that does not
		// exist) fails and changes nothing.
		var tok struct{ Token string }
		ta.mustJSON("POST", "/api/files/token", nil, ta.su, 200, &tok)
		res, err := http.Get(ta.srv.URL + "/api/backups/snap.zip?token=" + tok.Token)
		if err != nil {
			t.Fatal(err)
		}
		archive, _ := io.ReadAll(res.Body)
		res.Body.Close()
		broken := rewriteEntry(t, archive, "collections.json", func(s string) string {
			return strings.Replace(s, `"type":"text"`, `"type":"bogus"`, 1)
		})
		// And one that fails inside the replacing transaction, after the
		// collections were dropped and made again: a record with an id
		// the store refuses.
		var notes struct{ ID string }
		ta.mustJSON("GET", "/api/collections/notes", nil, ta.su, 200, &notes)
		brokenRow := rewriteEntry(t, archive, "records/"+notes.ID+".jsonl", func(s string) string {
			return strings.Replace(s, `"id":"`+kept+`"`, `"id":"NOT AN ID"`, 1)
		})
		upload := func(name string, content []byte) {
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			fw, _ := w.CreateFormFile("file", name)
			fw.Write(content)
			w.Close()
			req, _ := http.NewRequest("POST", ta.srv.URL+"/api/backups/upload", &body)
			req.Header.Set("Content-Type", w.FormDataContentType())
			req.Header.Set("Authorization", ta.su)
			if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 204 {
				t.Fatalf("upload %s: %v %v", name, res, err)
			}
		}
		upload("broken.zip", broken)
		upload("broken_row.zip", brokenRow)
		ta.run(t, []scenario{
			{name: "the broken one fails", method: "POST", path: "/api/backups/broken.zip/restore", as: "su", status: 400},
			{name: "the one broken half-way fails", method: "POST", path: "/api/backups/broken_row.zip/restore", as: "su", status: 400, want: []string{"left as it was"}},
			{name: "nothing changed: two notes", method: "GET", path: "/api/collections/notes/records", status: 200, want: []string{`"totalItems":2`}},
			{name: "nothing changed: extra", method: "GET", path: "/api/collections/extra", as: "su", status: 200},
			{name: "a user cannot restore", method: "POST", path: "/api/backups/snap.zip/restore", status: 401},
			{name: "restore", method: "POST", path: "/api/backups/snap.zip/restore", as: "su", status: 204},
			{name: "the note made after is gone", method: "GET", path: "/api/collections/notes/records", status: 200, want: []string{`"totalItems":1`, kept}},
			{name: "the collection made after is gone", method: "GET", path: "/api/collections/extra", as: "su", status: 404},
			{name: "the settings are the backup's", method: "GET", path: "/api/settings", as: "su", status: 200, want: []string{`"appName":"Before"`}},
			{name: "the backups are still there", method: "GET", path: "/api/backups", as: "su", status: 200, want: []string{`"key":"snap.zip"`, `"key":"broken.zip"`}},
		})
	})
}

// rewriteEntry returns archive with the entry name changed by edit.
func rewriteEntry(t *testing.T, archive []byte, name string, edit func(string) string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			data = []byte(edit(string(data)))
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	zw.Close()
	return out.Bytes()
}
