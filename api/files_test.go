package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/record"
)

// docsCollection creates "docs": a single image field with thumbs, a
// multi-file field with a small size cap, and an unrestricted one.
func docsCollection(ta *testApp) string {
	c := ta.createCollection(map[string]any{"name": "docs", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
		"fields": []map[string]any{
			{"name": "title", "type": "text"},
			{"name": "cover", "type": "file", "maxSelect": 1, "maxSize": 200000, "mimeTypes": []string{"image/png", "image/jpeg"},
				"thumbs": []string{"50x50", "50x50t", "50x50b", "70x70f", "0x50", "80x0"}},
			{"name": "attachments", "type": "file", "maxSelect": 3, "maxSize": 2000},
			{"name": "any", "type": "file", "maxSelect": 1},
		}})
	return c["id"].(string)
}

var storedName = regexp.MustCompile(`^[a-z0-9_]+_[a-z0-9]{10}\.[a-z0-9]+$`)

// TestFileUploads covers multipart create and update: names, modifiers,
// removal by value, @jsonPayload, and the field limits.
func TestFileUploads(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		cid := docsCollection(ta)
		cover := pngBytes(300, 200)
		rec := ta.mustMultipart("POST", "/api/collections/docs/records", "", 200,
			valuePart("title", "one"),
			filePart("cover", "My Photo.PNG", cover),
			filePart("attachments", "alpha.txt", []byte("alpha")),
			filePart("attachments", "beta.txt", []byte("beta")),
		)
		id := rec["id"].(string)
		coverName := rec["cover"].(string)
		atts := strs(rec["attachments"])
		if rec["title"] != "one" || !strings.HasPrefix(coverName, "my_photo_") || !storedName.MatchString(coverName) || !strings.HasSuffix(coverName, ".png") {
			t.Fatalf("create: %v", rec)
		}
		if len(atts) != 2 || !strings.HasPrefix(atts[0], "alpha_") || !strings.HasPrefix(atts[1], "beta_") {
			t.Fatalf("attachments %v", atts)
		}
		prefix := cid + "/" + id
		if got := ta.keys(prefix); len(got) != 3 {
			t.Fatalf("stored %v, want 3 files", got)
		}
		res, data := ta.fetch("GET", "/api/files/docs/"+id+"/"+coverName)
		if res.StatusCode != 200 || !bytes.Equal(data, cover) {
			t.Fatalf("download cover: %d, %d bytes", res.StatusCode, len(data))
		}

		// @jsonPayload carries the other values, as the SDK sends them.
		rec2 := ta.mustMultipart("POST", "/api/collections/docs/records", "", 200,
			jsonPart(map[string]any{"title": "two"}), filePart("any", "notes.txt", []byte("hello")))
		if rec2["title"] != "two" || !strings.HasPrefix(rec2["any"].(string), "notes_") {
			t.Fatalf("@jsonPayload create: %v", rec2)
		}

		path := "/api/collections/docs/records/" + id
		// Append.
		rec = ta.mustMultipart("PATCH", path, "", 200, filePart("attachments+", "gamma.txt", []byte("gamma")))
		atts = strs(rec["attachments"])
		if len(atts) != 3 || !strings.HasPrefix(atts[2], "gamma_") {
			t.Fatalf("append: %v", atts)
		}
		// Remove by name with a plain form value.
		rec = ta.mustMultipart("PATCH", path, "", 200, valuePart("attachments-", atts[0]))
		if got := strs(rec["attachments"]); !slices.Equal(got, atts[1:]) {
			t.Fatalf("remove: %v", got)
		}
		if ta.stored(cid, id, atts[0]) {
			t.Errorf("removed file %s still stored", atts[0])
		}
		// Remove by setting a subset (JSON).
		ta.mustJSON("PATCH", path, map[string]any{"attachments": []string{atts[2]}}, "", 200, &rec)
		if got := strs(rec["attachments"]); !slices.Equal(got, atts[2:]) {
			t.Fatalf("subset: %v", got)
		}
		if ta.stored(cid, id, atts[1]) || !ta.stored(cid, id, atts[2]) {
			t.Errorf("subset: %s should be gone, %s kept", atts[1], atts[2])
		}
		// "field-" in JSON too.
		ta.mustJSON("PATCH", path, map[string]any{"attachments-": atts[2]}, "", 200, &rec)
		if got := strs(rec["attachments"]); len(got) != 0 || ta.stored(cid, id, atts[2]) {
			t.Fatalf("JSON remove: %v", got)
		}
		// Replace the single file: the old one goes after the commit.
		newCover := jpegBytes(120, 80)
		rec = ta.mustMultipart("PATCH", path, "", 200, filePart("cover", "new.jpg", newCover))
		if rec["cover"] == coverName || !strings.HasSuffix(rec["cover"].(string), ".jpg") {
			t.Fatalf("replace: %v", rec["cover"])
		}
		if ta.stored(cid, id, coverName) || !ta.stored(cid, id, rec["cover"].(string)) {
			t.Errorf("replace: old cover kept or new missing: %v", ta.keys(prefix))
		}
		coverName = rec["cover"].(string)
		// Clearing the field removes the file.
		ta.mustJSON("PATCH", path, map[string]any{"cover": ""}, "", 200, &rec)
		if rec["cover"] != "" || ta.stored(cid, id, coverName) {
			t.Errorf("clear: %v, stored %v", rec["cover"], ta.keys(prefix))
		}
		// Plain values and files under one key are merged (kept names first).
		rec = ta.mustMultipart("PATCH", path, "", 200, filePart("attachments", "one.txt", []byte("1")))
		kept := strs(rec["attachments"])[0]
		rec = ta.mustMultipart("PATCH", path, "", 200, valuePart("attachments", kept), filePart("attachments", "two.txt", []byte("2")))
		if got := strs(rec["attachments"]); len(got) != 2 || got[0] != kept || !strings.HasPrefix(got[1], "two_") {
			t.Fatalf("merge: %v", got)
		}

		// Violations: 400 with the field's error, nothing stored.
		before := ta.keys(cid)
		big := bytes.Repeat([]byte("x"), 3000)
		for _, tc := range []struct {
			name   string
			method string
			path   string
			parts  []part
			json   map[string]any
			field  string
			code   string
		}{
			{name: "maxSize", method: "POST", path: "/api/collections/docs/records", parts: []part{filePart("attachments", "big.txt", big)},
				field: "attachments", code: files.CodeFileSizeLimit},
			{name: "mime type is sniffed, not the client's", method: "POST", path: "/api/collections/docs/records",
				parts: []part{{field: "cover", name: "evil.png", ctype: "image/png", data: []byte("<html><script>alert(1)</script></html>")}},
				field: "cover", code: files.CodeInvalidMIMEType},
			{name: "maxSelect", method: "POST", path: "/api/collections/docs/records", parts: []part{
				filePart("attachments", "1.txt", []byte("1")), filePart("attachments", "2.txt", []byte("2")),
				filePart("attachments", "3.txt", []byte("3")), filePart("attachments", "4.txt", []byte("4"))},
				field: "attachments", code: record.CodeTooManyFiles},
			{name: "maxSelect with append", method: "PATCH", path: path, parts: []part{
				filePart("attachments+", "3.txt", []byte("3")), filePart("attachments+", "4.txt", []byte("4"))},
				field: "attachments", code: record.CodeTooManyFiles},
			{name: "name not uploaded (create)", method: "POST", path: "/api/collections/docs/records",
				json: map[string]any{"cover": "someone_else_abcdefghij.png"}, field: "cover", code: record.CodeInvalidFile},
			{name: "name of another record", method: "PATCH", path: path,
				json: map[string]any{"any": rec2["any"]}, field: "any", code: record.CodeInvalidFile},
			{name: "file for a text field", method: "POST", path: "/api/collections/docs/records",
				parts: []part{filePart("title", "t.txt", []byte("t"))}, field: "title", code: record.CodeNotFileField},
		} {
			var status int
			var body []byte
			if tc.json != nil {
				status, body = ta.do(tc.method, tc.path, tc.json, "")
			} else {
				status, body = ta.multipart(tc.method, tc.path, "", tc.parts...)
			}
			if status != 400 || errorCode(body, tc.field) != tc.code {
				t.Errorf("%s: %d %s, want 400 with %s.code=%s", tc.name, status, body, tc.field, tc.code)
			}
		}
		if after := ta.keys(cid); !slices.Equal(before, after) {
			t.Errorf("failed writes changed the storage:\nbefore %v\nafter  %v", before, after)
		}
		// Other endpoints still refuse file parts.
		status, body := ta.multipart("POST", "/api/collections/users/auth-with-password", "", filePart("identity", "x.txt", []byte("x")))
		if status != 400 {
			t.Errorf("file part on a non-record endpoint: %d %s", status, body)
		}
	})
}

// TestFileServing covers GET/HEAD of files: validators, ranges, download,
// thumbnails, script-capable types and hostile paths.
func TestFileServing(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		cid := docsCollection(ta)
		cover := pngBytes(300, 200)
		rec := ta.mustMultipart("POST", "/api/collections/docs/records", "", 200,
			filePart("cover", "photo.png", cover), filePart("any", "page.svg",
				[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)))
		id, name, svg := rec["id"].(string), rec["cover"].(string), rec["any"].(string)
		html := ta.mustMultipart("POST", "/api/collections/docs/records", "", 200,
			filePart("any", "page.html", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")))
		base := "/api/files/docs/" + id + "/" + name

		res, data := ta.fetch("GET", base)
		etag, lastMod := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
		if res.StatusCode != 200 || !bytes.Equal(data, cover) || res.Header.Get("Content-Type") != "image/png" ||
			etag == "" || lastMod == "" || res.Header.Get("Cache-Control") != files.DefaultCacheControl ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "inline") {
			t.Fatalf("GET: %d %v", res.StatusCode, res.Header)
		}
		// By collection id too.
		if res, _ := ta.fetch("GET", "/api/files/"+cid+"/"+id+"/"+name); res.StatusCode != 200 {
			t.Errorf("by collection id: %d", res.StatusCode)
		}
		res, data = ta.fetch("HEAD", base)
		if res.StatusCode != 200 || len(data) != 0 || res.Header.Get("Content-Length") != fmt.Sprint(len(cover)) {
			t.Errorf("HEAD: %d len %s body %d", res.StatusCode, res.Header.Get("Content-Length"), len(data))
		}
		res, data = ta.fetch("GET", base, "Range", "bytes=10-19")
		if res.StatusCode != 206 || !bytes.Equal(data, cover[10:20]) || res.Header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(cover)) {
			t.Errorf("Range: %d %q %v", res.StatusCode, res.Header.Get("Content-Range"), data)
		}
		if res, _ := ta.fetch("GET", base, "If-None-Match", etag); res.StatusCode != 304 {
			t.Errorf("If-None-Match: %d", res.StatusCode)
		}
		if res, _ := ta.fetch("GET", base, "If-Modified-Since", lastMod); res.StatusCode != 304 {
			t.Errorf("If-Modified-Since: %d", res.StatusCode)
		}
		if res, _ := ta.fetch("GET", base, "Range", "bytes=0-9", "If-Range", `"stale"`); res.StatusCode != 200 {
			t.Errorf("If-Range with a stale tag: %d, want the whole file", res.StatusCode)
		}
		res, _ = ta.fetch("GET", base+"?download=1")
		if cd := res.Header.Get("Content-Disposition"); res.StatusCode != 200 || !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, name) {
			t.Errorf("download=1: %d %q", res.StatusCode, cd)
		}

		// Thumbnails: allowed sizes are made (and served as images of that
		// size); any other size gets the original.
		for _, tc := range []struct {
			thumb string
			w, h  []int // accepted widths and heights
		}{
			{"100x100", []int{100}, []int{100}},
			{"50x50", []int{50}, []int{50}},
			{"50x50t", []int{50}, []int{50}},
			{"50x50b", []int{50}, []int{50}},
			{"70x70f", []int{70}, []int{46, 47}},
			{"0x50", []int{75}, []int{50}},
			{"80x0", []int{80}, []int{53, 54}},
			{"20x20", []int{300}, []int{200}},       // not allowed: original
			{"50x50x", []int{300}, []int{200}},      // malformed: original
			{"99999x99999", []int{300}, []int{200}}, // not allowed: original
		} {
			for range 2 { // the second request is served from the cache
				res, data := ta.fetch("GET", base+"?thumb="+url.QueryEscape(tc.thumb))
				if res.StatusCode != 200 {
					t.Fatalf("thumb %s: %d %s", tc.thumb, res.StatusCode, data)
				}
				w, h, _ := imageSize(t, data)
				if !slices.Contains(tc.w, w) || !slices.Contains(tc.h, h) {
					t.Errorf("thumb %s: %dx%d, want %vx%v", tc.thumb, w, h, tc.w, tc.h)
				}
			}
		}
		if got := ta.keys(cid + "/" + id + "/thumbs_" + name); len(got) != 7 {
			t.Errorf("cached thumbnails: %v, want 7", got)
		}
		// A thumbnail of a non-image is the original.
		res, data = ta.fetch("GET", "/api/files/docs/"+id+"/"+svg+"?thumb=100x100")
		if res.StatusCode != 200 || !bytes.Contains(data, []byte("<svg")) {
			t.Errorf("thumb of svg: %d %s", res.StatusCode, data)
		}

		// Files that can run script are attachments in a sandbox.
		for _, tc := range []struct{ path, ctype string }{
			{"/api/files/docs/" + id + "/" + svg, "image/svg+xml"},
			{"/api/files/docs/" + html["id"].(string) + "/" + html["any"].(string), "text/html"},
		} {
			res, _ := ta.fetch("GET", tc.path)
			h := res.Header
			if res.StatusCode != 200 || !strings.HasPrefix(h.Get("Content-Type"), tc.ctype) ||
				!strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || h.Get("Content-Security-Policy") != files.SandboxCSP ||
				h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: %d %v", tc.path, res.StatusCode, h)
			}
		}

		// Missing things and hostile paths are 404s in PocketBase's shape.
		for _, p := range []string{
			"/api/files/docs/" + id + "/nope_abcdefghij.png",
			"/api/files/docs/" + id + "/..%2F..%2Fdata.db",
			"/api/files/docs/" + id + "/%2e%2e",
			"/api/files/docs/" + id + "/.meta." + name,
			"/api/files/docs/" + id + "/" + url.PathEscape(name+"/x"),
			"/api/files/docs/..%2F" + id + "/" + name,
			"/api/files/docs/" + strings.ToUpper(id) + "/" + name,
			"/api/files/nope/" + id + "/" + name,
			"/api/files/docs/aaaaaaaaaaaaaaa/" + name,
			"/api/files/_superusers/" + id + "/" + name,
		} {
			res, data := ta.fetch("GET", p)
			if res.StatusCode != 404 || !hasAll(string(data), `"status":404`, `"message":`, `"data":{}`) {
				t.Errorf("GET %s: %d %s", p, res.StatusCode, data)
			}
		}
		// A file the record names but the storage lost is a 404 too.
		key, _ := files.Key(cid, id, name)
		if err := ta.app.Files().Delete(context.Background(), key); err != nil {
			t.Fatal(err)
		}
		if res, _ := ta.fetch("GET", base); res.StatusCode != 404 {
			t.Errorf("file missing from storage: %d", res.StatusCode)
		}
	})
}

// TestProtectedFiles checks file tokens and the view rule on protected
// fields.
func TestProtectedFiles(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ann, annTok := ta.signUp("ann@example.com")
		_, bobTok := ta.signUp("bob@example.com")
		ta.createCollection(map[string]any{"name": "vault", "listRule": "owner = @request.auth.id", "viewRule": "owner = @request.auth.id",
			"fields": []map[string]any{
				{"name": "owner", "type": "relation", "collectionId": "users", "maxSelect": 1},
				{"name": "doc", "type": "file", "maxSelect": 1, "protected": true},
				{"name": "pub", "type": "file", "maxSelect": 1},
			}})
		rec := ta.mustMultipart("POST", "/api/collections/vault/records", ta.su, 200, valuePart("owner", ann),
			filePart("doc", "secret.txt", []byte("top secret")), filePart("pub", "public.txt", []byte("public")))
		id := rec["id"].(string)
		doc := "/api/files/vault/" + id + "/" + rec["doc"].(string)

		fileToken := func(authTok string) string {
			t.Helper()
			var out struct{ Token string }
			ta.mustJSON("POST", "/api/files/token", nil, authTok, 200, &out)
			if out.Token == "" {
				t.Fatal("empty file token")
			}
			return out.Token
		}
		annFile, bobFile, suFile := fileToken(annTok), fileToken(bobTok), fileToken(ta.su)
		// The token is a JWT of type "file" that lives 3 minutes by default.
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(annFile, ".")[1])
		var claims struct {
			Type     string `json:"type"`
			Exp, Iat int64
		}
		json.Unmarshal(payload, &claims)
		if claims.Type != "file" || claims.Exp-claims.Iat != 180 {
			t.Errorf("file token claims %s", payload)
		}
		if status, _ := ta.do("POST", "/api/files/token", nil, ""); status != 401 {
			t.Errorf("file token for a guest: %d, want 401", status)
		}

		for _, tc := range []struct {
			name, query, auth string
			status            int
		}{
			{"no token", "", "", 404},
			{"garbage token", "?token=abc", "", 404},
			{"owner's file token", "?token=" + annFile, "", 200},
			{"superuser's file token", "?token=" + suFile, "", 200},
			{"other user's file token", "?token=" + bobFile, "", 404},
			{"an auth token is not a file token", "?token=" + annTok, "", 404},
			{"the owner's Authorization header", "", annTok, 200},
			{"another user's header", "", bobTok, 404},
		} {
			hdr := []string{}
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			res, data := ta.fetch("GET", doc+tc.query, hdr...)
			if res.StatusCode != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, data, tc.status)
				continue
			}
			if tc.status == 200 && (string(data) != "top secret" || res.Header.Get("Cache-Control") != "private, no-store") {
				t.Errorf("%s: body %q, Cache-Control %q", tc.name, data, res.Header.Get("Cache-Control"))
			}
		}
		// Unprotected files are public by URL, as in PocketBase.
		if res, data := ta.fetch("GET", "/api/files/vault/"+id+"/"+rec["pub"].(string)); res.StatusCode != 200 || string(data) != "public" {
			t.Errorf("unprotected file: %d %s", res.StatusCode, data)
		}
		// Rules see the request context "protectedFile".
		ta.createCollection(map[string]any{"name": "ctxfiles", "viewRule": `@request.context = "protectedFile"`,
			"fields": []map[string]any{{"name": "doc", "type": "file", "maxSelect": 1, "protected": true}}})
		cf := ta.mustMultipart("POST", "/api/collections/ctxfiles/records", ta.su, 200, filePart("doc", "ctx.txt", []byte("ctx")))
		if res, _ := ta.fetch("GET", "/api/files/ctxfiles/"+cf["id"].(string)+"/"+cf["doc"].(string)); res.StatusCode != 200 {
			t.Errorf("@request.context rule on a file: %d", res.StatusCode)
		}
		if status, _ := ta.do("GET", "/api/collections/ctxfiles/records/"+cf["id"].(string), nil, ""); status != 404 {
			t.Errorf("@request.context rule on a record view: %d", status)
		}
		// A password change kills the user's file tokens as well.
		ta.mustJSON("PATCH", "/api/collections/users/records/"+ann, map[string]any{"password": "user-password-2", "passwordConfirm": "user-password-2"}, ta.su, 200, nil)
		if res, _ := ta.fetch("GET", doc+"?token="+annFile); res.StatusCode != 404 {
			t.Errorf("file token after a password change: %d", res.StatusCode)
		}
	})
}

// TestFileConsistency checks that files follow their records: deletes
// (cascades, truncation, collections, removed fields) delete them, and a
// failed transaction leaves no new file and keeps every old one.
func TestFileConsistency(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		folders := ta.createCollection(map[string]any{"name": "folders", "listRule": "", "viewRule": "", "createRule": "", "deleteRule": "",
			"fields": []map[string]any{{"name": "name", "type": "text"}}})
		items := ta.createCollection(map[string]any{"name": "items", "listRule": "", "viewRule": "", "createRule": `name != "bad"`, "updateRule": "", "deleteRule": "",
			"fields": []map[string]any{
				{"name": "name", "type": "text"},
				{"name": "folder", "type": "relation", "collectionId": folders["id"], "maxSelect": 1, "cascadeDelete": true},
				{"name": "file", "type": "file", "maxSelect": 1},
				{"name": "extra", "type": "file", "maxSelect": 2},
			}})
		iid := items["id"].(string)
		hasExtra := true
		newItem := func(name, folder string) map[string]any {
			t.Helper()
			parts := []part{valuePart("name", name), valuePart("folder", folder), filePart("file", name+".txt", []byte(name))}
			if hasExtra {
				parts = append(parts, filePart("extra", name+"-x.txt", []byte("x")))
			}
			return ta.mustMultipart("POST", "/api/collections/items/records", "", 200, parts...)
		}

		// Delete: the record's files go.
		it := newItem("one", "")
		ta.mustJSON("DELETE", "/api/collections/items/records/"+it["id"].(string), nil, "", 204, nil)
		ta.waitGone(iid + "/" + it["id"].(string))

		// Cascade: deleting the folder deletes its items and their files.
		f := ta.create("folders", map[string]any{"name": "f"})
		a, b2 := newItem("a", f["id"].(string)), newItem("b", f["id"].(string))
		ta.mustJSON("DELETE", "/api/collections/folders/records/"+f["id"].(string), nil, ta.su, 204, nil)
		ta.waitGone(iid + "/" + a["id"].(string))
		ta.waitGone(iid + "/" + b2["id"].(string))

		// A create rule that fails rolls back: no orphan.
		before := ta.keys(iid)
		status, body := ta.multipart("POST", "/api/collections/items/records", "", valuePart("name", "bad"), filePart("file", "bad.txt", []byte("bad")))
		if status != 400 {
			t.Fatalf("create failing its rule: %d %s", status, body)
		}
		if after := ta.keys(iid); !slices.Equal(before, after) {
			t.Errorf("rolled-back create left files: %v -> %v", before, after)
		}

		// A batch whose second request fails: the first request's new file
		// is gone and the file it replaced is still there.
		keep := newItem("keep", "")
		kid, kfile := keep["id"].(string), keep["file"].(string)
		before = ta.keys(iid)
		status, body = ta.multipart("POST", "/api/batch", "",
			jsonPart(map[string]any{"requests": []map[string]any{
				{"method": "PATCH", "url": "/api/collections/items/records/" + kid, "body": map[string]any{}},
				{"method": "POST", "url": "/api/collections/items/records", "body": map[string]any{"name": "bad"}},
			}}),
			filePart("requests.0.file", "replacement.txt", []byte("new")),
			filePart("requests.1.file", "other.txt", []byte("other")),
		)
		if status != 400 || !strings.Contains(string(body), `"1"`) {
			t.Fatalf("failing batch: %d %s", status, body)
		}
		if after := ta.keys(iid); !slices.Equal(before, after) {
			t.Errorf("failed batch changed the storage: %v -> %v", before, after)
		}
		if got := ta.field("items", kid, "file"); got != kfile || !ta.stored(iid, kid, kfile) {
			t.Errorf("failed batch: record has %v, old file stored %v", got, ta.stored(iid, kid, kfile))
		}
		// The same batch without the failure: replaced after the commit.
		var results []struct {
			Status int
			Body   map[string]any
		}
		status, body = ta.multipart("POST", "/api/batch", "",
			jsonPart(map[string]any{"requests": []map[string]any{
				{"method": "PATCH", "url": "/api/collections/items/records/" + kid, "body": map[string]any{}},
				{"method": "POST", "url": "/api/collections/items/records", "body": map[string]any{"name": "new"}},
			}}),
			filePart("requests.0.file", "replacement.txt", []byte("new")),
			filePart("requests.1.extra+", "other.txt", []byte("other")),
		)
		if status != 200 || json.Unmarshal(body, &results) != nil || len(results) != 2 {
			t.Fatalf("batch: %d %s", status, body)
		}
		repl := results[0].Body["file"].(string)
		if !strings.HasPrefix(repl, "replacement_") || ta.stored(iid, kid, kfile) || !ta.stored(iid, kid, repl) {
			t.Errorf("batch replace: %v; stored %v", repl, ta.keys(iid+"/"+kid))
		}
		created := results[1].Body
		if extra := strs(created["extra"]); len(extra) != 1 || !ta.stored(iid, created["id"].(string), extra[0]) {
			t.Errorf("batch create with file: %v", created)
		}
		// Malformed batch file part names are refused.
		status, body = ta.multipart("POST", "/api/batch", "",
			jsonPart(map[string]any{"requests": []map[string]any{{"method": "POST", "url": "/api/collections/items/records", "body": map[string]any{}}}}),
			filePart("requests.7.file", "x.txt", []byte("x")))
		if status != 400 {
			t.Errorf("batch file for request 7 of 1: %d %s", status, body)
		}

		// Removing a file field deletes its files; the other field's stay.
		rm := newItem("rm", "")
		rid := rm["id"].(string)
		extraName := strs(rm["extra"])[0]
		var coll map[string]any
		ta.mustJSON("GET", "/api/collections/items", nil, ta.su, 200, &coll)
		var fields []any
		for _, fd := range coll["fields"].([]any) {
			if fd.(map[string]any)["name"] != "extra" {
				fields = append(fields, fd)
			}
		}
		ta.mustJSON("PATCH", "/api/collections/items", map[string]any{"fields": fields}, ta.su, 200, nil)
		hasExtra = false
		if ta.stored(iid, rid, extraName) || !ta.stored(iid, rid, rm["file"].(string)) {
			t.Errorf("field removal: stored %v", ta.keys(iid+"/"+rid))
		}

		// Truncate deletes every record's files.
		newItem("t1", "")
		ta.mustJSON("DELETE", "/api/collections/items/truncate", nil, ta.su, 204, nil)
		ta.waitGone(iid)

		// Deleting the collection deletes its files.
		newItem("last", "")
		ta.mustJSON("DELETE", "/api/collections/items", nil, ta.su, 204, nil)
		ta.waitGone(iid)
	})
}

// TestFileSweeper runs the sweeper with the database-backed reference
// lookup: an unreferenced old file goes, a referenced one stays.
func TestFileSweeper(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		cid := docsCollection(ta)
		rec := ta.mustMultipart("POST", "/api/collections/docs/records", "", 200, filePart("any", "kept.txt", []byte("kept")))
		id := rec["id"].(string)
		ctx := context.Background()
		st := ta.app.Files()
		for _, key := range []string{cid + "/" + id + "/orphan_abcdefghij.txt", cid + "/aaaaaaaaaaaaaaa/gone_abcdefghij.txt", "pbc_0000000000/bbbbbbbbbbbbbbb/x_abcdefghij.txt"} {
			if err := st.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); err != nil {
				t.Fatal(err)
			}
		}
		svc := &record.Service{Store: ta.app.Store()}
		sw := &files.Sweeper{Storage: st, Referenced: svc.FileReferenced, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
		stats, err := sw.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{cid + "/" + id + "/" + rec["any"].(string)}
		if got := ta.keys(""); !slices.Equal(got, want) || stats.Deleted != 3 {
			t.Errorf("after sweep: %v (stats %+v), want %v", got, stats, want)
		}
	})
}
