package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/internal/testenv"
)

// s3Secret is the S3 secret the tests set: no answer may contain it.
const s3Secret = "s3-secret-xyz-1"

// newPlainFakeS3 is gofakes3 over plain HTTP: settings cannot carry a
// custom TLS root, and an http:// endpoint needs none.
func newPlainFakeS3(t *testing.T, buckets ...string) (*s3mem.Backend, string) {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewUnstartedServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return backend, srv.URL
}

// bucketKeys lists a fake bucket's keys.
func bucketKeys(t *testing.T, backend *s3mem.Backend, bucket string) []string {
	t.Helper()
	list, err := backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	return keys
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestSettingsS3 switches the file storage through PATCH /api/settings, as
// PocketBase's dashboard does, on both databases: a bucket that does not
// answer is refused with nothing changed; a good one takes the next
// uploads while files stored before stay readable; the secret is stored
// sealed and never returned; the GET answer patched back is accepted;
// disabling returns to the local directory.
func TestSettingsS3(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		backend, endpoint := newPlainFakeS3(t, "files")
		ta := setup(t, b)
		cid := docsCollection(ta)
		upload := func(content string) (id, name string) {
			t.Helper()
			rec := ta.mustMultipart("POST", "/api/collections/docs/records", "", 200, filePart("any", "f.txt", []byte(content)))
			return rec["id"].(string), rec["any"].(string)
		}
		download := func(id, name string) (int, string) {
			t.Helper()
			res, data := ta.fetch("GET", "/api/files/docs/"+id+"/"+name)
			return res.StatusCode, string(data)
		}
		good := map[string]any{"enabled": true, "bucket": "files", "region": "us-east-1", "endpoint": endpoint,
			"accessKey": "AKIATEST", "secret": s3Secret, "forcePathStyle": true}
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for k, v := range good {
				m[k] = v
			}
			m[k] = v
			return m
		}
		noSecret := []string{s3Secret, `"secret"`}

		oldID, oldName := upload("before the switch")
		ta.run(t, []scenario{
			{name: "s3 in the settings, off", method: "GET", path: "/api/settings", as: "su", status: 200,
				want:    []string{`"s3":{"enabled":false,"bucket":"","region":"","endpoint":"","accessKey":"","forcePathStyle":false}`, `"backups":{"cron":"","cronMaxKeep":3,"s3":{"enabled":false`},
				notWant: []string{`"secret"`}},
			{name: "bucket and endpoint required", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"s3": map[string]any{"enabled": true}}, status: 400,
				want: []string{`"bucket":{"code":"validation_required"`, `"endpoint":{"code":"validation_required"`}},
			{name: "an unknown s3 key", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"s3": map[string]any{"prefix": "x"}}, status: 400,
				want: []string{`"prefix":{"code":"validation_unknown_field"`}},
			{name: "an endpoint nothing listens on", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"s3": with("endpoint", "http://"+closedPort(t))}, status: 400,
				want: []string{`"s3":{"bucket":{"code":"validation_s3_unreachable"`}, notWant: noSecret},
			{name: "a bucket that does not exist", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"s3": with("bucket", "missing")}, status: 400,
				want: []string{`"s3":{"bucket":{"code":"validation_s3_unreachable"`, `missing`}, notWant: noSecret},
			{name: "a malformed endpoint", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"s3": with("endpoint", "ftp://x")}, status: 400,
				want: []string{`"s3":{"endpoint":{"code":"validation_invalid_value"`}, notWant: noSecret},
			{name: "nothing changed", method: "GET", path: "/api/settings", as: "su", status: 200, want: []string{`"s3":{"enabled":false,"bucket":""`}},
		})
		if id, name := upload("still local"); len(bucketKeys(t, backend, "files")) != 0 || !ta.stored(cid, id, name) {
			t.Fatalf("a refused PATCH changed the storage: bucket %v", bucketKeys(t, backend, "files"))
		}

		ta.run(t, []scenario{
			{name: "enable S3", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"s3": good}, status: 200,
				want: []string{`"s3":{"enabled":true,"bucket":"files","region":"us-east-1","endpoint":"` + endpoint + `","accessKey":"AKIATEST","forcePathStyle":true}`}, notWant: noSecret},
			{name: "the secret is not returned", method: "GET", path: "/api/settings", as: "su", status: 200, want: []string{`"enabled":true,"bucket":"files"`}, notWant: noSecret},
			{name: "the storage test writes to the bucket", method: "POST", path: "/api/settings/test/s3", as: "su", body: map[string]any{"filesystem": "storage"}, status: 204},
			{name: "backups go to the file storage", method: "POST", path: "/api/settings/test/s3", as: "su", body: map[string]any{"filesystem": "backups"}, status: 204},
		})
		stored, err := ta.app.Store().Param(context.Background(), "settings")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, s3Secret) || !strings.Contains(stored, `"secret":"sealed:`) {
			t.Fatalf("stored settings: %s", stored)
		}

		newID, newName := upload("after the switch")
		key := cid + "/" + newID + "/" + newName
		if keys := bucketKeys(t, backend, "files"); !slices.Contains(keys, key) {
			t.Fatalf("the upload after the switch is not in the bucket: %v", keys)
		}
		if status, body := download(newID, newName); status != 200 || body != "after the switch" {
			t.Errorf("file on S3: %d %q", status, body)
		}
		// Files are not moved: the old one is read from the local
		// directory, still the fallback.
		if status, body := download(oldID, oldName); status != 200 || body != "before the switch" {
			t.Errorf("file stored before the switch: %d %q", status, body)
		}
		if slices.Contains(bucketKeys(t, backend, "files"), cid+"/"+oldID+"/"+oldName) {
			t.Error("the old file was copied to the bucket")
		}

		// The GET answer patched back unchanged is accepted and keeps the
		// secret (the bucket still takes uploads).
		var cur map[string]any
		ta.mustJSON("GET", "/api/settings", nil, ta.su, 200, &cur)
		status, body := ta.do("PATCH", "/api/settings", cur, ta.su)
		if status != 200 || strings.Contains(string(body), s3Secret) {
			t.Fatalf("round trip: %d %s", status, body)
		}
		if stored2, _ := ta.app.Store().Param(context.Background(), "settings"); !strings.Contains(stored2, `"secret":"sealed:`) {
			t.Fatalf("the round trip lost the secret: %s", stored2)
		}
		id3, name3 := upload("after the round trip")
		if !slices.Contains(bucketKeys(t, backend, "files"), cid+"/"+id3+"/"+name3) {
			t.Error("after the round trip uploads no longer go to the bucket")
		}
		// Deleting a record removes its file wherever it is.
		ta.mustJSON("DELETE", "/api/collections/docs/records/"+oldID, nil, "", 204, nil)
		ta.waitGone(cid + "/" + oldID)

		// Disabled: back to the local directory; the bucket's files are
		// not moved back, so they are no longer found.
		ta.run(t, []scenario{
			{name: "disable S3", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"s3": map[string]any{"enabled": false}}, status: 200,
				want: []string{`"s3":{"enabled":false,"bucket":"files"`}, notWant: noSecret},
		})
		before := bucketKeys(t, backend, "files")
		id4, name4 := upload("local again")
		if !ta.stored(cid, id4, name4) || !slices.Equal(before, bucketKeys(t, backend, "files")) {
			t.Error("after disabling, an upload did not go to the local directory")
		}
		if status, _ := download(newID, newName); status != 404 {
			t.Errorf("a file left in the bucket after disabling: %d, want 404", status)
		}
	})
}

// TestSettingsS3OtherInstance checks that an instance sharing the
// PostgreSQL database switches its storage when another one changes
// settings.s3 (within the settings refresh interval, 10 s).
func TestSettingsS3OtherInstance(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		if b.Name != "postgres" {
			t.Skip("instances share settings through a PostgreSQL database")
		}
		_, endpoint := newPlainFakeS3(t, "files")
		one := setup(t, b)
		two := setup(t, testenv.Backend{Name: b.Name, Dir: t.TempDir(), URL: b.URL})
		// two's setup upserted the superuser again, which ended one's
		// session: both now use two's token (same database, same key).
		one.su = two.su
		sw, ok := two.app.Files().(*files.Switchable)
		if !ok {
			t.Fatalf("storage is %T, want a Switchable", two.app.Files())
		}
		if _, ok := sw.Current().(*files.Local); !ok {
			t.Fatalf("before: %T", sw.Current())
		}
		one.mustJSON("PATCH", "/api/settings", map[string]any{"s3": map[string]any{"enabled": true, "bucket": "files", "endpoint": endpoint,
			"region": "us-east-1", "accessKey": "AKIATEST", "secret": s3Secret, "forcePathStyle": true}}, one.su, 200, nil)
		deadline := time.Now().Add(30 * time.Second)
		for {
			two.app.Settings() // a read starts the refresh of stale settings
			if _, ok := sw.Current().(*files.S3); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other instance still stores in %T", sw.Current())
			}
			time.Sleep(200 * time.Millisecond)
		}
		// An instance started afterwards uses the bucket from the start.
		three := setup(t, testenv.Backend{Name: b.Name, Dir: t.TempDir(), URL: b.URL})
		if sw, ok := three.app.Files().(*files.Switchable); !ok {
			t.Errorf("storage is %T, want a Switchable", three.app.Files())
		} else if _, ok := sw.Current().(*files.S3); !ok {
			t.Errorf("an instance started with settings.s3 enabled stores in %T", sw.Current())
		}
		two.su = three.su
		var got map[string]any
		two.mustJSON("GET", "/api/settings", nil, two.su, 200, &got)
		data, _ := json.Marshal(got["s3"])
		if strings.Contains(string(data), s3Secret) || !strings.Contains(string(data), `"enabled":true`) {
			t.Errorf("s3 on the other instance: %s", data)
		}
	})
}

// TestSettingsS3StartupWins checks that a bucket configured at start-up
// (plinth.Config.S3, PLINTH_S3_*) takes precedence over settings.s3,
// which is still checked, stored and returned.
func TestSettingsS3StartupWins(t *testing.T) {
	t.Parallel()
	fake := newFakeS3(t)
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		cfg := fake.config(t)
		ta := setupWith(t, b, func(c *plinth.Config) { c.S3 = cfg })
		backend, endpoint := newPlainFakeS3(t, "files")
		ta.run(t, []scenario{
			{name: "an unreachable bucket is still refused", method: "PATCH", path: "/api/settings", as: "su",
				body: map[string]any{"s3": map[string]any{"enabled": true, "bucket": "files", "endpoint": "http://" + closedPort(t)}}, status: 400,
				want: []string{`"validation_s3_unreachable"`}},
			{name: "a good one is stored", method: "PATCH", path: "/api/settings", as: "su",
				body: map[string]any{"s3": map[string]any{"enabled": true, "bucket": "files", "endpoint": endpoint, "region": "us-east-1", "secret": s3Secret, "forcePathStyle": true}}, status: 200,
				want: []string{`"s3":{"enabled":true,"bucket":"files"`}, notWant: []string{s3Secret}},
		})
		if _, ok := ta.app.Files().(*files.S3); !ok {
			t.Fatalf("storage is %T, want the start-up S3", ta.app.Files())
		}
		docsCollection(ta)
		ta.mustMultipart("POST", "/api/collections/docs/records", "", 200, filePart("any", "f.txt", []byte("x")))
		if keys := bucketKeys(t, backend, "files"); len(keys) != 0 {
			t.Errorf("an upload went to the bucket of the settings: %v", keys)
		}
	})
}

// TestSettingsBackupsS3 checks backups.s3 on both databases: enabled, the
// archives made afterwards go to its bucket (under _backups/), those made
// before stay listed, downloadable and deletable from the file storage,
// and the storage test of "backups" tests that bucket.
func TestSettingsBackupsS3(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		backend, endpoint := newPlainFakeS3(t, "backups")
		ta := setup(t, b)
		good := map[string]any{"enabled": true, "bucket": "backups", "region": "us-east-1", "endpoint": endpoint,
			"accessKey": "AKIATEST", "secret": s3Secret, "forcePathStyle": true}
		ta.run(t, []scenario{
			{name: "a backup in the file storage", method: "POST", path: "/api/backups", as: "su", body: map[string]any{"name": "before.zip"}, status: 204},
			{name: "an unreachable bucket", method: "PATCH", path: "/api/settings", as: "su",
				body: map[string]any{"backups": map[string]any{"s3": map[string]any{"enabled": true, "bucket": "backups", "endpoint": "http://" + closedPort(t)}}}, status: 400,
				want: []string{`"backups":{"s3":{"bucket":{"code":"validation_s3_unreachable"`}},
			{name: "enable backups.s3", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"backups": map[string]any{"s3": good}}, status: 200,
				want: []string{`"backups":{"cron":"","cronMaxKeep":3,"s3":{"enabled":true,"bucket":"backups"`, `"s3":{"enabled":false`}, notWant: []string{s3Secret, `"secret"`}},
			{name: "the storage test of backups", method: "POST", path: "/api/settings/test/s3", as: "su", body: map[string]any{"filesystem": "backups"}, status: 204},
			{name: "a backup in the bucket", method: "POST", path: "/api/backups", as: "su", body: map[string]any{"name": "after.zip"}, status: 204},
			{name: "both listed", method: "GET", path: "/api/backups", as: "su", status: 200, want: []string{`"key":"before.zip"`, `"key":"after.zip"`}},
		})
		if keys := bucketKeys(t, backend, "backups"); !slices.Equal(keys, []string{"_backups/after.zip"}) {
			t.Fatalf("bucket: %v, want the new archive only", keys)
		}
		if stored, _ := ta.app.Store().Param(context.Background(), "settings"); strings.Contains(stored, s3Secret) {
			t.Fatalf("stored settings hold the secret in clear: %s", stored)
		}
		var tok struct{ Token string }
		ta.mustJSON("POST", "/api/files/token", nil, ta.su, 200, &tok)
		for _, name := range []string{"after.zip", "before.zip"} {
			if res, data := ta.fetch("GET", "/api/backups/"+name+"?token="+tok.Token); res.StatusCode != 200 || len(data) == 0 {
				t.Errorf("download %s: %d", name, res.StatusCode)
			}
		}
		ta.run(t, []scenario{
			{name: "delete the old one", method: "DELETE", path: "/api/backups/before.zip", as: "su", status: 204},
			{name: "disable backups.s3", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"backups": map[string]any{"s3": map[string]any{"enabled": false}}}, status: 200},
			{name: "archives in the bucket are no longer listed", method: "GET", path: "/api/backups", as: "su", status: 200, notWant: []string{`after.zip`, `before.zip`}},
		})
	})
}
