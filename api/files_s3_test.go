package api_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/files/storagetest"
	"github.com/plinthdev/plinth/internal/testenv"
)

// fakeS3 is gofakes3 (in memory) behind TLS, so the real minio-go client
// runs against it without a server process (as in package files' tests).
type fakeS3 struct {
	backend *s3mem.Backend
	srv     *httptest.Server
	n       atomic.Int64
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewUnstartedServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &fakeS3{backend: backend, srv: srv}
}

// config returns the S3 configuration of a new bucket.
func (f *fakeS3) config(t *testing.T) files.S3Config {
	t.Helper()
	bucket := fmt.Sprintf("bucket-%d", f.n.Add(1))
	if err := f.backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	return files.S3Config{Endpoint: f.srv.URL, Bucket: bucket, Region: "us-east-1", AccessKey: "test", Secret: "test-secret",
		ForcePathStyle: true, Prefix: "app", Transport: f.srv.Client().Transport}
}

// coreFileFlow is the storage-independent heart of the file tests:
// upload, download with a range and a validator, thumbnail, protected
// file with a token, replacement, a rolled-back batch and a delete.
func coreFileFlow(t *testing.T, ta *testApp) {
	t.Helper()
	_, annTok := ta.signUp("ann@example.com")
	cid := docsCollection(ta)
	// Protected files need a viewer the view rule admits.
	ta.patchCollection("docs", map[string]any{"viewRule": "@request.auth.id != ''", "fields": append(ta.collectionFields("docs"),
		map[string]any{"name": "secret", "type": "file", "maxSelect": 1, "protected": true})})
	cover := pngBytes(300, 200)
	rec := ta.mustMultipart("POST", "/api/collections/docs/records", "", 200,
		filePart("cover", "photo.png", cover), filePart("secret", "s.txt", []byte("secret")),
		filePart("attachments", "a1.txt", []byte("a1")))
	id, name := rec["id"].(string), rec["cover"].(string)
	base := "/api/files/docs/" + id + "/" + name

	res, data := ta.fetch("GET", base)
	if res.StatusCode != 200 || !bytes.Equal(data, cover) || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download: %d %v", res.StatusCode, res.Header)
	}
	etag := res.Header.Get("ETag")
	if res, _ := ta.fetch("GET", base, "If-None-Match", etag); etag == "" || res.StatusCode != 304 {
		t.Errorf("If-None-Match %q: %d", etag, res.StatusCode)
	}
	res, data = ta.fetch("GET", base, "Range", "bytes=100-199")
	if res.StatusCode != 206 || !bytes.Equal(data, cover[100:200]) {
		t.Errorf("range: %d, %d bytes", res.StatusCode, len(data))
	}
	for _, spec := range []string{"100x100", "0x50"} {
		res, data = ta.fetch("GET", base+"?thumb="+spec)
		w, h, _ := imageSize(t, data)
		if res.StatusCode != 200 || (spec == "100x100" && (w != 100 || h != 100)) || (spec == "0x50" && (w != 75 || h != 50)) {
			t.Errorf("thumb %s: %d %dx%d", spec, res.StatusCode, w, h)
		}
	}
	secret := "/api/files/docs/" + id + "/" + rec["secret"].(string)
	if res, _ := ta.fetch("GET", secret); res.StatusCode != 404 {
		t.Errorf("protected without token: %d", res.StatusCode)
	}
	var tok struct{ Token string }
	ta.mustJSON("POST", "/api/files/token", nil, annTok, 200, &tok)
	if res, data := ta.fetch("GET", secret+"?token="+tok.Token); res.StatusCode != 200 || string(data) != "secret" {
		t.Errorf("protected with token: %d %s", res.StatusCode, data)
	}

	// A failed batch keeps the old cover and stores nothing new.
	before := ta.keys(cid)
	status, body := ta.multipart("POST", "/api/batch", "",
		jsonPart(map[string]any{"requests": []map[string]any{
			{"method": "PATCH", "url": "/api/collections/docs/records/" + id, "body": map[string]any{}},
			{"method": "PATCH", "url": "/api/collections/docs/records/" + id, "body": map[string]any{"cover": "forged_abcdefghij.png"}},
		}}),
		filePart("requests.0.cover", "next.png", pngBytes(10, 10)))
	if status != 400 {
		t.Fatalf("failing batch: %d %s", status, body)
	}
	if after := ta.keys(cid); !slices.Equal(before, after) || !ta.stored(cid, id, name) {
		t.Errorf("failed batch changed the storage: %v -> %v", before, after)
	}
	// Replacing the cover deletes the old one and its thumbnails.
	rec = ta.mustMultipart("PATCH", "/api/collections/docs/records/"+id, "", 200, filePart("cover", "next.png", pngBytes(10, 10)))
	for _, k := range ta.keys(cid + "/" + id) {
		if strings.Contains(k, name) {
			t.Errorf("replaced cover left %s", k)
		}
	}
	if !ta.stored(cid, id, rec["cover"].(string)) {
		t.Errorf("new cover not stored: %v", ta.keys(cid))
	}
	// Deleting the record deletes all its files.
	ta.mustJSON("DELETE", "/api/collections/docs/records/"+id, nil, "", 204, nil)
	ta.waitGone(cid + "/" + id)
}

// collectionFields returns the fields of a collection as the API shows them.
func (ta *testApp) collectionFields(name string) []any {
	ta.t.Helper()
	var c map[string]any
	ta.mustJSON("GET", "/api/collections/"+name, nil, ta.su, 200, &c)
	return c["fields"].([]any)
}

// TestFilesLocalCore runs the core flow on the local store, both databases.
func TestFilesLocalCore(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		coreFileFlow(t, setup(t, b))
	})
}

// TestFilesS3Fake runs the core flow on an in-process S3 (gofakes3), both
// databases.
func TestFilesS3Fake(t *testing.T) {
	t.Parallel()
	fake := newFakeS3(t)
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		cfg := fake.config(t)
		ta := setupWith(t, b, func(c *plinth.Config) { c.S3 = cfg })
		if _, ok := ta.app.Files().(*files.S3); !ok {
			t.Fatalf("storage is %T, want S3", ta.app.Files())
		}
		coreFileFlow(t, ta)
		// The storage test and the backups go to the bucket too.
		ta.run(t, []scenario{
			{name: "storage test on S3", method: "POST", path: "/api/settings/test/s3", as: "su", body: map[string]any{"filesystem": "backups"}, status: 204},
			{name: "a backup on S3", method: "POST", path: "/api/backups", as: "su", body: map[string]any{"name": "on_s3.zip"}, status: 204},
			{name: "listed from S3", method: "GET", path: "/api/backups", as: "su", status: 200, want: []string{`"key":"on_s3.zip"`}},
		})
	})
}

// TestFilesMinIO runs the core flow on a real MinIO server (skipped
// without a minio binary unless PLINTH_REQUIRE_SERVICES=1).
func TestFilesMinIO(t *testing.T) {
	t.Parallel()
	m := storagetest.StartMinIO(t)
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, func(c *plinth.Config) {
			c.S3 = files.S3Config{Endpoint: m.Endpoint, Bucket: m.CreateBucket(t), Region: "us-east-1",
				AccessKey: m.AccessKey, Secret: m.Secret, ForcePathStyle: true}
		})
		coreFileFlow(t, ta)
	})
}

// TestFilesS3WrongBucket checks that a bad S3 configuration fails the
// start, not the first upload.
func TestFilesS3WrongBucket(t *testing.T) {
	t.Parallel()
	fake := newFakeS3(t)
	cfg := fake.config(t)
	cfg.Bucket = "missing"
	_, err := plinth.New(t.Context(), plinth.Config{DataDir: t.TempDir(), S3: cfg, BcryptCost: 4}, nil)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("start with a missing bucket: %v", err)
	}
}
