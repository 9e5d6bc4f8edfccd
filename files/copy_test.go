package files_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/files"
)

// Local → S3 → local keeps keys, bytes and content types (the local
// sidecars are not copied as objects).
func TestCopyBetweenStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newLocal(t)
	objects := map[string]string{
		"c/r/a.png":                    "image/png",
		"c/r/thumbs_a.png/10x10_a.png": "image/png",
		"c/r/page.jpg":                 "text/html; charset=utf-8", // the sniffed type survives the misleading name
		"d/r/x.txt":                    "text/plain; charset=utf-8",
	}
	for k, ct := range objects {
		if err := src.Put(ctx, k, strings.NewReader("content of "+k), int64(len("content of "+k)), ct); err != nil {
			t.Fatal(err)
		}
	}
	s3 := newFakeS3(t).store(t, "", nil)
	stats, err := files.Copy(ctx, s3, src, "")
	if err != nil || stats.Copied != 4 || stats.Skipped != 0 {
		t.Fatalf("copy to S3: %+v, %v", stats, err)
	}
	// Again: nothing to do.
	if stats, err := files.Copy(ctx, s3, src, ""); err != nil || stats.Copied != 0 || stats.Skipped != 4 {
		t.Fatalf("second copy: %+v, %v", stats, err)
	}
	back := newLocal(t)
	if stats, err := files.Copy(ctx, back, s3, "c"); err != nil || stats.Copied != 3 {
		t.Fatalf("copy back: %+v, %v", stats, err)
	}
	if got := keysOf(t, back); !slices.Equal(got, []string{"c/r/a.png", "c/r/page.jpg", "c/r/thumbs_a.png/10x10_a.png"}) {
		t.Errorf("copied keys %v", got)
	}
	for _, k := range keysOf(t, back) {
		obj, err := back.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(obj)
		obj.Close()
		if string(data) != "content of "+k || obj.ContentType != objects[k] {
			t.Errorf("%s: %q, %q", k, data, obj.ContentType)
		}
	}
}
