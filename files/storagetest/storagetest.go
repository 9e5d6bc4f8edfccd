// Package storagetest is the conformance suite every files.Storage passes,
// and a helper that runs a real MinIO server for tests.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/plinthdev/plinth/files"
)

// Run runs the conformance suite. newStore must return an empty store,
// independent of the stores returned by other calls (a new directory, a
// new bucket or a new key prefix); the suite runs subtests in parallel,
// each on its own store, and closes them.
func Run(t *testing.T, newStore func(t *testing.T) files.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st files.Storage)
	}{
		{"PutOpen", testPutOpen},
		{"Missing", testMissing},
		{"Seek", testSeek},
		{"Overwrite", testOverwrite},
		{"Empty", testEmpty},
		{"UnknownSize", testUnknownSize},
		{"SizeMismatch", testSizeMismatch},
		{"DefaultContentType", testDefaultContentType},
		{"Delete", testDelete},
		{"DeletePrefix", testDeletePrefix},
		{"List", testList},
		{"InvalidKeys", testInvalidKeys},
		{"Concurrent", testConcurrent},
		{"Cancelled", testCancelled},
		{"Serve", testServe},
		{"Thumb", testThumb},
		{"DeleteFile", testDeleteFile},
		{"Large", testLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			t.Cleanup(func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, st)
		})
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func put(t *testing.T, st files.Storage, key string, data []byte, ct string) {
	t.Helper()
	if err := st.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), ct); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func readAll(t *testing.T, st files.Storage, key string) ([]byte, files.Attributes) {
	t.Helper()
	obj, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return data, obj.Attributes
}

func listKeys(t *testing.T, st files.Storage, prefix string) []string {
	t.Helper()
	var keys []string
	err := st.List(context.Background(), prefix, func(a files.Attributes) error {
		keys = append(keys, a.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	slices.Sort(keys)
	return keys
}

func testPutOpen(t *testing.T, st files.Storage) {
	ctx := context.Background()
	key := "pbc_123/rec1/photo_ab12cd34ef.png"
	data := randomBytes(4000)
	before := time.Now().Add(-time.Minute)
	put(t, st, key, data, "image/png")
	got, attrs := readAll(t, st, key)
	if !bytes.Equal(got, data) {
		t.Fatalf("content differs: got %d bytes", len(got))
	}
	if attrs.Key != key || attrs.Size != int64(len(data)) || attrs.ContentType != "image/png" || attrs.ETag == "" {
		t.Errorf("Open attributes = %+v", attrs)
	}
	if attrs.ModTime.Before(before) || attrs.ModTime.After(time.Now().Add(time.Minute)) {
		t.Errorf("ModTime %v is not about now", attrs.ModTime)
	}
	a2, err := st.Attributes(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if a2.Size != attrs.Size || a2.ContentType != attrs.ContentType || a2.ETag != attrs.ETag || !a2.ModTime.Equal(attrs.ModTime) {
		t.Errorf("Attributes = %+v, Open gave %+v", a2, attrs)
	}
	if ok, err := st.Exists(ctx, key); err != nil || !ok {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	// A single-segment key works (nothing above it to create).
	put(t, st, "single", []byte("1"), "text/plain")
	if got, _ := readAll(t, st, "single"); string(got) != "1" {
		t.Errorf("single-segment key: %q", got)
	}
	if err := st.Delete(ctx, "single"); err != nil {
		t.Error(err)
	}
	// A key with spaces and non-ASCII letters (names imported from
	// elsewhere) works as well.
	odd := "pbc_123/rec1/Été photo (1).txt"
	put(t, st, odd, []byte("x"), "text/plain; charset=utf-8")
	if got, a := readAll(t, st, odd); string(got) != "x" || a.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("odd key: %q %+v", got, a)
	}
}

func testMissing(t *testing.T, st files.Storage) {
	ctx := context.Background()
	put(t, st, "c/r/file.txt", []byte("x"), "text/plain")
	for _, key := range []string{"c/r/missing.txt", "nothing/here/at_all", "c/r/file.txt/below", "c/r"} {
		if _, err := st.Open(ctx, key); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", key, err)
		}
		if _, err := st.Attributes(ctx, key); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("Attributes(%q) = %v, want ErrNotFound", key, err)
		}
		if ok, err := st.Exists(ctx, key); ok || err != nil {
			t.Errorf("Exists(%q) = %v, %v", key, ok, err)
		}
		if err := st.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) = %v", key, err)
		}
	}
	if ok, _ := st.Exists(ctx, "c/r/file.txt"); !ok {
		t.Error("Delete of a missing sibling removed the file")
	}
}

func testSeek(t *testing.T, st files.Storage) {
	ctx := context.Background()
	key := "c/r/data.bin"
	data := randomBytes(100_000)
	put(t, st, key, data, "application/octet-stream")
	obj, err := st.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	readAt := func(off int64, whence int, n int, wantOff int64) {
		t.Helper()
		pos, err := obj.Seek(off, whence)
		if err != nil || pos != wantOff {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", off, whence, pos, err, wantOff)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(obj, buf); err != nil {
			t.Fatalf("read %d at %d: %v", n, wantOff, err)
		}
		if !bytes.Equal(buf, data[wantOff:wantOff+int64(n)]) {
			t.Fatalf("bytes at %d differ", wantOff)
		}
	}
	if end, err := obj.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("Seek end = %d, %v", end, err)
	}
	readAt(1000, io.SeekStart, 500, 1000)
	readAt(10, io.SeekCurrent, 100, 1510)   // forward from the current offset
	readAt(-10, io.SeekEnd, 10, 99_990)     // the last bytes
	readAt(0, io.SeekStart, 70_000, 0)      // back to the start
	readAt(-100, io.SeekCurrent, 50, 69900) // backwards
	if _, err := obj.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if n, err := obj.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("Read at end = %d, %v", n, err)
	}
	if _, err := obj.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	// iotest.TestReader checks Read, ReadAt-free Seek behaviour and EOF.
	if err := iotest.TestReader(obj, data); err != nil {
		t.Fatal(err)
	}
}

func testOverwrite(t *testing.T, st files.Storage) {
	key := "c/r/f.bin"
	put(t, st, key, []byte("first version"), "text/plain")
	a1, _ := st.Attributes(context.Background(), key)
	time.Sleep(10 * time.Millisecond)
	put(t, st, key, []byte("second"), "application/json")
	got, a2 := readAll(t, st, key)
	if string(got) != "second" || a2.ContentType != "application/json" || a2.Size != 6 {
		t.Errorf("after overwrite: %q %+v", got, a2)
	}
	if a1.ETag == a2.ETag {
		t.Errorf("ETag unchanged after overwrite: %q", a1.ETag)
	}
}

func testEmpty(t *testing.T, st files.Storage) {
	put(t, st, "c/r/empty", nil, "text/plain")
	got, a := readAll(t, st, "c/r/empty")
	if len(got) != 0 || a.Size != 0 {
		t.Errorf("empty object: %d bytes, %+v", len(got), a)
	}
	obj, err := st.Open(context.Background(), "c/r/empty")
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if end, err := obj.Seek(0, io.SeekEnd); end != 0 || err != nil {
		t.Errorf("Seek end of empty = %d, %v", end, err)
	}
}

func testUnknownSize(t *testing.T, st files.Storage) {
	data := randomBytes(300_000)
	// iotest.HalfReader hides any WriterTo/Len a store might use.
	if err := st.Put(context.Background(), "c/r/u.bin", iotest.HalfReader(bytes.NewReader(data)), -1, "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	if got, a := readAll(t, st, "c/r/u.bin"); !bytes.Equal(got, data) || a.Size != int64(len(data)) {
		t.Errorf("unknown size: got %d bytes, %+v", len(got), a)
	}
}

func testSizeMismatch(t *testing.T, st files.Storage) {
	ctx := context.Background()
	data := randomBytes(1000)
	if err := st.Put(ctx, "c/r/short", bytes.NewReader(data), 1001, "text/plain"); err == nil {
		t.Error("Put of a reader shorter than size succeeded")
	}
	if err := st.Put(ctx, "c/r/long", bytes.NewReader(data), 999, "text/plain"); err == nil {
		t.Error("Put of a reader longer than size succeeded")
	}
	for _, k := range []string{"c/r/short", "c/r/long"} {
		if ok, _ := st.Exists(ctx, k); ok {
			t.Errorf("%s was stored despite the size mismatch", k)
		}
	}
	if err := st.Put(ctx, "c/r/fail", iotest.ErrReader(errors.New("boom")), 10, "text/plain"); err == nil {
		t.Error("Put of a failing reader succeeded")
	}
	if keys := listKeys(t, st, ""); len(keys) != 0 {
		t.Errorf("failed Puts left %v", keys)
	}
}

func testDefaultContentType(t *testing.T, st files.Storage) {
	put(t, st, "c/r/x", []byte("<html>"), "")
	if _, a := readAll(t, st, "c/r/x"); a.ContentType != "application/octet-stream" {
		t.Errorf("content type = %q", a.ContentType)
	}
}

func testDelete(t *testing.T, st files.Storage) {
	ctx := context.Background()
	put(t, st, "c/r/a", []byte("a"), "text/plain")
	put(t, st, "c/r/b", []byte("b"), "text/plain")
	if err := st.Delete(ctx, "c/r/a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Exists(ctx, "c/r/a"); ok {
		t.Error("deleted object exists")
	}
	if got := listKeys(t, st, ""); !slices.Equal(got, []string{"c/r/b"}) {
		t.Errorf("List after Delete = %v", got)
	}
	if err := st.Delete(ctx, "c/r/a"); err != nil {
		t.Errorf("second Delete = %v", err)
	}
	if err := st.Delete(ctx, "c/r/b"); err != nil {
		t.Fatal(err)
	}
	// The store is empty again and usable (empty directories pruned on
	// disk must not break a new Put).
	if got := listKeys(t, st, ""); len(got) != 0 {
		t.Errorf("List = %v", got)
	}
	put(t, st, "c/r/c", []byte("c"), "text/plain")
}

func testDeletePrefix(t *testing.T, st files.Storage) {
	ctx := context.Background()
	for _, k := range []string{"c/r1/a", "c/r1/thumbs_a/100x100_a", "c/r10/b", "c/r2/c", "d/r1/a"} {
		put(t, st, k, []byte(k), "text/plain")
	}
	if err := st.DeletePrefix(ctx, "c/r1"); err != nil {
		t.Fatal(err)
	}
	if got, want := listKeys(t, st, ""), []string{"c/r10/b", "c/r2/c", "d/r1/a"}; !slices.Equal(got, want) {
		t.Errorf("after DeletePrefix(c/r1): %v, want %v", got, want)
	}
	// An object's own key is not a prefix of it.
	if err := st.DeletePrefix(ctx, "c/r10/b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Exists(ctx, "c/r10/b"); !ok {
		t.Error("DeletePrefix(key) deleted the object itself")
	}
	if err := st.DeletePrefix(ctx, "c/"); err != nil {
		t.Fatal(err)
	}
	if got, want := listKeys(t, st, ""), []string{"d/r1/a"}; !slices.Equal(got, want) {
		t.Errorf("after DeletePrefix(c/): %v, want %v", got, want)
	}
	if err := st.DeletePrefix(ctx, "nothing/there"); err != nil {
		t.Errorf("DeletePrefix of a missing prefix = %v", err)
	}
	for _, p := range []string{"", "/", "../d"} {
		if err := st.DeletePrefix(ctx, p); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("DeletePrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
	if got := listKeys(t, st, ""); len(got) != 1 {
		t.Errorf("refused DeletePrefix deleted something: %v", got)
	}
}

func testList(t *testing.T, st files.Storage) {
	ctx := context.Background()
	keys := []string{"c/r1/a", "c/r1/thumbs_a/100x100_a", "c/r10/b", "d/r/x"}
	for i, k := range keys {
		put(t, st, k, bytes.Repeat([]byte("z"), i+1), "text/plain")
	}
	if got := listKeys(t, st, ""); !slices.Equal(got, keys) {
		t.Errorf("List() = %v", got)
	}
	for prefix, want := range map[string][]string{
		"c/r1":    {"c/r1/a", "c/r1/thumbs_a/100x100_a"},
		"c/r1/":   {"c/r1/a", "c/r1/thumbs_a/100x100_a"},
		"c":       {"c/r1/a", "c/r1/thumbs_a/100x100_a", "c/r10/b"},
		"c/r10/b": nil, // an object, not a prefix
		"e":       nil,
	} {
		if got := listKeys(t, st, prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %v, want %v", prefix, got, want)
		}
	}
	sizes := map[string]int64{}
	err := st.List(ctx, "", func(a files.Attributes) error {
		sizes[a.Key] = a.Size
		if a.ModTime.IsZero() || time.Since(a.ModTime) > time.Hour {
			t.Errorf("List ModTime of %s = %v", a.Key, a.ModTime)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if sizes[k] != int64(i+1) {
			t.Errorf("List size of %s = %d", k, sizes[k])
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = st.List(ctx, "", func(files.Attributes) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with failing fn = %v after %d calls", err, calls)
	}
}

// BadKeys returns keys every store must refuse.
func BadKeys() []string {
	return []string{
		"", "/", "/abs/path", "a/../b", "..", "../x", "a/..", "./a", "a/./b", "a//b", "a/", "/a",
		`a\b`, `..\x`, "a\x00b", "a/b\x00", ".hidden", "a/.meta.x", "a/.tmp.x", "a\nb", "a/\x7f",
		"\xff\xfe", strings.Repeat("a", 256), strings.Repeat("a/", 600) + "a",
	}
}

func testInvalidKeys(t *testing.T, st files.Storage) {
	ctx := context.Background()
	for _, key := range BadKeys() {
		if err := st.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v", key, err)
		}
		if _, err := st.Open(ctx, key); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("Open(%q) = %v", key, err)
		}
		if _, err := st.Attributes(ctx, key); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("Attributes(%q) = %v", key, err)
		}
		if _, err := st.Exists(ctx, key); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("Exists(%q) = %v", key, err)
		}
		if err := st.Delete(ctx, key); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v", key, err)
		}
		if key == "" || key == "/" || key == "a/" {
			continue // valid prefixes ("" lists everything; DeletePrefix refuses it, tested there)
		}
		if err := st.DeletePrefix(ctx, key); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("DeletePrefix(%q) = %v", key, err)
		}
		if err := st.List(ctx, key, func(files.Attributes) error { return nil }); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("List(%q) = %v", key, err)
		}
	}
	if keys := listKeys(t, st, ""); len(keys) != 0 {
		t.Errorf("refused keys stored %v", keys)
	}
}

func testConcurrent(t *testing.T, st files.Storage) {
	ctx := context.Background()
	const workers, rounds = 6, 8
	errs := make(chan error, workers*rounds*3)
	each := func(fn func(key string)) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					fn(fmt.Sprintf("c/r%d/f%d_%d", i%2, w, i))
				}
			})
		}
		wg.Wait()
	}
	// Writes and reads in shared directories, then deletes. (Writes racing
	// deletes in one prefix are not part of the contract: single-drive
	// MinIO can fail such a Put while it prunes the emptied directory.
	// The local store handles that case; see its own test.)
	each(func(key string) {
		data := []byte(key)
		if err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
			errs <- err
			return
		}
		obj, err := st.Open(ctx, key)
		if err != nil {
			errs <- err
			return
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, data) {
			errs <- fmt.Errorf("read %s: %q, %v", key, got, err)
		}
	})
	if keys := listKeys(t, st, ""); len(keys) != workers*rounds {
		t.Errorf("stored %d keys, want %d", len(keys), workers*rounds)
	}
	each(func(key string) {
		if err := st.Delete(ctx, key); err != nil {
			errs <- err
		}
	})
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if keys := listKeys(t, st, ""); len(keys) != 0 {
		t.Errorf("left %v", keys)
	}
}

func testCancelled(t *testing.T, st files.Storage) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.Put(ctx, "c/r/x", strings.NewReader("data"), 4, "text/plain"); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
	if ok, _ := st.Exists(context.Background(), "c/r/x"); ok {
		t.Error("cancelled Put stored the object")
	}
}

func testServe(t *testing.T, st files.Storage) {
	key := "c/r/doc_abcdefghij.txt"
	data := randomBytes(50_000)
	put(t, st, key, data, "text/plain; charset=utf-8")
	req := httptest.NewRequest(http.MethodGet, "/f", nil)
	req.Header.Set("Range", "bytes=1000-1999")
	rec := httptest.NewRecorder()
	if err := files.Serve(rec, req, st, key, files.ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), data[1000:2000]) {
		t.Fatalf("range: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
	etag := rec.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag = %q", etag)
	}
	req = httptest.NewRequest(http.MethodGet, "/f", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	if err := files.Serve(rec, req, st, key, files.ServeOptions{}); err != nil || rec.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d, %v", rec.Code, err)
	}
	rec = httptest.NewRecorder()
	if err := files.Serve(rec, httptest.NewRequest(http.MethodGet, "/f", nil), st, key, files.ServeOptions{}); err != nil || !bytes.Equal(rec.Body.Bytes(), data) {
		t.Fatalf("full GET: %d bytes, %v", rec.Body.Len(), err)
	}
	if err := files.Serve(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/f", nil), st, "c/r/missing", files.ServeOptions{}); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func testThumb(t *testing.T, st files.Storage) {
	ctx := context.Background()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for y := range 20 {
		for x := range 40 {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 12), 0, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	key := "c/r/pic_abcdefghij.png"
	put(t, st, key, buf.Bytes(), "image/png")
	th := files.NewThumbnailer(st, files.ThumbOptions{})
	tk, err := th.Thumb(ctx, key, "10x10")
	if err != nil {
		t.Fatal(err)
	}
	if tk != "c/r/thumbs_pic_abcdefghij.png/10x10_pic_abcdefghij.png" {
		t.Errorf("thumb key = %q", tk)
	}
	data, a := readAll(t, st, tk)
	if a.ContentType != "image/png" {
		t.Errorf("thumb content type %q", a.ContentType)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 10 || cfg.Height != 10 {
		t.Errorf("thumb %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	// A second call finds it cached.
	if tk2, err := th.Thumb(ctx, key, "10x10"); err != nil || tk2 != tk {
		t.Errorf("second Thumb = %q, %v", tk2, err)
	}
	if a2, _ := st.Attributes(ctx, tk); a2.ETag != a.ETag {
		t.Error("cached thumbnail was made again")
	}
}

func testDeleteFile(t *testing.T, st files.Storage) {
	ctx := context.Background()
	for _, k := range []string{"c/r/a.png", "c/r/thumbs_a.png/10x10_a.png", "c/r/thumbs_a.png/0x50_a.png", "c/r/b.png"} {
		put(t, st, k, []byte(k), "image/png")
	}
	if err := files.DeleteFile(ctx, st, "c/r/a.png"); err != nil {
		t.Fatal(err)
	}
	if got := listKeys(t, st, ""); !slices.Equal(got, []string{"c/r/b.png"}) {
		t.Errorf("after DeleteFile: %v", got)
	}
}

func testLarge(t *testing.T, st files.Storage) {
	if testing.Short() {
		t.Skip("large object skipped in -short mode")
	}
	// Over the S3 store's 16 MiB part size, so an unknown-size Put goes
	// through a multipart upload.
	data := randomBytes(17 << 20)
	if err := st.Put(context.Background(), "c/r/big", iotest.HalfReader(bytes.NewReader(data)), -1, "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	obj, err := st.Open(context.Background(), "c/r/big")
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if obj.Size != int64(len(data)) {
		t.Fatalf("size %d", obj.Size)
	}
	if _, err := obj.Seek(16<<20, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(tail, data[16<<20:]) {
		t.Fatalf("tail: %d bytes, %v", len(tail), err)
	}
}
