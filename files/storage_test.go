package files_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/files/storagetest"
)

func TestLocalConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) files.Storage {
		st, err := files.NewLocal(filepath.Join(t.TempDir(), "storage"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// fakeS3 runs gofakes3 (in-memory) on httptest, so the real minio-go client
// code path is exercised without a server process.
type fakeS3 struct {
	backend *s3mem.Backend
	srv     *httptest.Server
	n       atomic.Int64
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	// TLS as in production: over plain HTTP the client signs streamed
	// uploads chunk by chunk (aws-chunked), which gofakes3 stores
	// undecoded in multipart parts.
	srv := httptest.NewUnstartedServer(faker.Server())
	// gofakes3 writes some error statuses twice; net/http logs that.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &fakeS3{backend: backend, srv: srv}
}

// store returns a store on a new bucket, with a key prefix when prefix is set.
func (f *fakeS3) store(t *testing.T, prefix string, transport http.RoundTripper) *files.S3 {
	t.Helper()
	if transport == nil {
		transport = f.srv.Client().Transport
	}
	bucket := fmt.Sprintf("bucket-%d", f.n.Add(1))
	if err := f.backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	st, err := files.NewS3(files.S3Config{
		Endpoint:       f.srv.URL,
		Bucket:         bucket,
		Region:         "us-east-1",
		AccessKey:      "test",
		Secret:         "test-secret",
		ForcePathStyle: true,
		Prefix:         prefix,
		Transport:      transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestS3FakeConformance(t *testing.T) {
	t.Parallel()
	fake := newFakeS3(t)
	storagetest.Run(t, func(t *testing.T) files.Storage { return fake.store(t, "tenant/app", nil) })
}

func TestS3FakeConformanceNoPrefix(t *testing.T) {
	t.Parallel()
	fake := newFakeS3(t)
	storagetest.Run(t, func(t *testing.T) files.Storage { return fake.store(t, "", nil) })
}

func TestMinIOConformance(t *testing.T) {
	t.Parallel()
	m := storagetest.StartMinIO(t)
	storagetest.Run(t, func(t *testing.T) files.Storage {
		st, err := files.NewS3(files.S3Config{
			Endpoint:       m.Endpoint,
			Bucket:         m.CreateBucket(t),
			Region:         "us-east-1",
			AccessKey:      m.AccessKey,
			Secret:         m.Secret,
			ForcePathStyle: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// countingTransport counts response body bytes the client reads and
// records Range headers.
type countingTransport struct {
	next   http.RoundTripper
	read   atomic.Int64
	ranges atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Range") != "" {
		c.ranges.Add(1)
	}
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.read}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func TestS3RangeDoesNotDownloadWholeObject(t *testing.T) {
	t.Parallel()
	fake := newFakeS3(t)
	ct := &countingTransport{next: fake.srv.Client().Transport}
	st := fake.store(t, "", ct)
	data := bytes.Repeat([]byte("0123456789"), 400_000) // 4 MB
	if err := st.Put(context.Background(), "c/r/big.bin", bytes.NewReader(data), int64(len(data)), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	ct.read.Store(0)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Range", "bytes=3000000-3000099")
	rec := httptest.NewRecorder()
	if err := files.Serve(rec, req, st, "c/r/big.bin", files.ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), data[3000000:3000100]) {
		t.Fatalf("status %d, body %d bytes", rec.Code, rec.Body.Len())
	}
	if ct.ranges.Load() == 0 {
		t.Error("no ranged GET was sent")
	}
	// The GET runs from the offset to the end (1 MB here), but only what
	// is needed is read before the body is closed.
	if n := ct.read.Load(); n > 256<<10 {
		t.Errorf("read %d bytes from S3 for a 100-byte range", n)
	}
}

func TestNewS3Config(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cfg files.S3Config
		ok  bool
	}{
		{files.S3Config{Endpoint: "s3.amazonaws.com", Bucket: "b"}, true},
		{files.S3Config{Endpoint: "https://minio.example.com", Bucket: "b"}, true},
		{files.S3Config{Endpoint: "http://127.0.0.1:9000/", Bucket: "b", ForcePathStyle: true}, true},
		{files.S3Config{Endpoint: "127.0.0.1:9000", Bucket: "b", Prefix: "a/b/"}, true},
		{files.S3Config{Endpoint: "", Bucket: "b"}, false},
		{files.S3Config{Endpoint: "s3.amazonaws.com"}, false},
		{files.S3Config{Endpoint: "ftp://host", Bucket: "b"}, false},
		{files.S3Config{Endpoint: "https://host/path", Bucket: "b"}, false},
		{files.S3Config{Endpoint: "host/path", Bucket: "b"}, false},
		{files.S3Config{Endpoint: "https://user:pw@host", Bucket: "b"}, false},
		{files.S3Config{Endpoint: "host", Bucket: "b", Prefix: "../x"}, false},
	} {
		st, err := files.NewS3(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("NewS3(%+v) = %v", tt.cfg, err)
		}
		if st != nil {
			st.Close()
		}
	}
}

func TestS3CheckMissingBucket(t *testing.T) {
	t.Parallel()
	fake := newFakeS3(t)
	st, err := files.NewS3(files.S3Config{Endpoint: fake.srv.URL, Bucket: "nope", Region: "us-east-1", AccessKey: "a", Secret: "b", ForcePathStyle: true, Transport: fake.srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Check = %v", err)
	}
}

// The local store must stay inside its root even when a symlink inside it
// points elsewhere (os.Root refuses to follow it out).
func TestLocalSymlinkEscape(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "c", "r")); err != nil {
		t.Skip("no symlinks:", err)
	}
	st, err := files.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.Open(ctx, "c/r/secret.txt"); err == nil {
		t.Error("Open followed a symlink out of the root")
	}
	if err := st.Put(ctx, "c/r/new.txt", strings.NewReader("x"), 1, "text/plain"); err == nil {
		t.Error("Put wrote through a symlink out of the root")
	}
	if _, err := os.Stat(filepath.Join(outside, "new.txt")); err == nil {
		t.Error("file created outside the root")
	}
	_ = st.DeletePrefix(ctx, "c/r")
	if _, err := os.Stat(filepath.Join(outside, "secret.txt")); err != nil {
		t.Error("DeletePrefix removed a file outside the root")
	}
}

// A tree copied in by hand has no sidecar files: the type is sniffed.
func TestLocalWithoutSidecar(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "c", "r"), 0o755); err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	if err := os.WriteFile(filepath.Join(root, "c", "r", "a.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := files.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	obj, err := st.Open(context.Background(), "c/r/a.png")
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if obj.ContentType != "image/png" {
		t.Errorf("content type %q", obj.ContentType)
	}
	if got, _ := io.ReadAll(obj); !bytes.Equal(got, png) {
		t.Error("content changed by sniffing")
	}
	if a, err := st.Attributes(context.Background(), "c/r/a.png"); err != nil || a.ContentType != "image/png" {
		t.Errorf("Attributes = %+v, %v", a, err)
	}
}

// Put leaves no temporary or sidecar files visible, and Delete removes
// the sidecar and the emptied directories.
func TestLocalLayout(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	st, err := files.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Put(ctx, "c/r/a.txt", strings.NewReader("hi"), 2, "text/plain"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "c", "r"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != ".meta.a.txt,a.txt" {
		t.Errorf("directory holds %v", names)
	}
	if err := st.Delete(ctx, "c/r/a.txt"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("root not empty after Delete: %v", entries)
	}
}

// Delete prunes directories that become empty; a Put racing it in the same
// directory must still succeed (createTemp retries).
func TestLocalPutRacingDelete(t *testing.T) {
	t.Parallel()
	st, err := files.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("c/r/f%d_%d", w, i)
				if err := st.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); err != nil {
					errs <- err
				}
				if err := st.Delete(ctx, key); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
