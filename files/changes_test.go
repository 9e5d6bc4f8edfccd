package files_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/files"
)

func keysOf(t *testing.T, st files.Storage) []string {
	t.Helper()
	var keys []string
	if err := st.List(context.Background(), "", func(a files.Attributes) error {
		keys = append(keys, a.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

func putString(t *testing.T, st files.Storage, key, s string) {
	t.Helper()
	if err := st.Put(context.Background(), key, strings.NewReader(s), int64(len(s)), "text/plain"); err != nil {
		t.Fatal(err)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestChangesCommit(t *testing.T) {
	t.Parallel()
	st := newLocal(t)
	putString(t, st, "c/r/old.png", "old")
	putString(t, st, "c/r/thumbs_old.png/100x100_old.png", "thumb")
	putString(t, st, "c/gone/a.txt", "a")
	putString(t, st, "dropped/x/y.txt", "y")
	putString(t, st, "c/r/keep.txt", "keep")

	ch := files.NewChanges(st, quiet)
	u := files.NewUploadBytes("avatar", "new.png", []byte("\x89PNG\r\n\x1a\nnew"))
	key, err := ch.Put(context.Background(), u, "c", "r")
	if err != nil {
		t.Fatal(err)
	}
	if key != "c/r/"+u.Name {
		t.Errorf("key %q", key)
	}
	if err := ch.Remove("c", "r", "old.png"); err != nil {
		t.Fatal(err)
	}
	if err := ch.RemoveRecord("c", "gone"); err != nil {
		t.Fatal(err)
	}
	if err := ch.RemoveCollection("dropped"); err != nil {
		t.Fatal(err)
	}
	// Nothing is deleted before Commit.
	if got := keysOf(t, st); len(got) != 6 {
		t.Fatalf("before commit: %v", got)
	}
	// A cancelled request context does not stop the cleanup.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ch.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(t, st), []string{"c/r/keep.txt", key}; !slices.Equal(got, want) {
		t.Errorf("after commit: %v, want %v", got, want)
	}
	// Final: a later Rollback does nothing, further changes are refused.
	if err := ch.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Exists(context.Background(), key); !ok {
		t.Error("Rollback after Commit deleted the upload")
	}
	if err := ch.Remove("c", "r", "keep.txt"); err == nil {
		t.Error("Remove after Commit accepted")
	}
	if _, err := ch.Put(context.Background(), u, "c", "r"); err == nil {
		t.Error("Put after Commit accepted")
	}
}

func TestChangesRollback(t *testing.T) {
	t.Parallel()
	st := newLocal(t)
	putString(t, st, "c/r/old.png", "old")
	ch := files.NewChanges(st, quiet)
	var added []string
	for _, name := range []string{"a.txt", "b.txt"} {
		key, err := ch.Put(context.Background(), files.NewUploadBytes("f", name, []byte(name)), "c", "r")
		if err != nil {
			t.Fatal(err)
		}
		added = append(added, key)
	}
	putString(t, st, "c/r/thumbs_x.png/100x100_x.png", "t")
	if err := ch.Added("c/r/x.png"); err != nil { // written by other means, with a thumbnail
		t.Fatal(err)
	}
	if err := ch.Added("../x"); err == nil {
		t.Error("Added accepted a bad key")
	}
	if err := ch.Remove("c", "r", "old.png"); err != nil {
		t.Fatal(err)
	}
	a, r, p := ch.Pending()
	if len(a) != 3 || len(r) != 1 || len(p) != 0 {
		t.Errorf("Pending = %v %v %v", a, r, p)
	}
	if err := ch.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, st); !slices.Equal(got, []string{"c/r/old.png"}) {
		t.Errorf("after rollback: %v (added %v)", got, added)
	}
	if err := ch.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Exists(context.Background(), "c/r/old.png"); !ok {
		t.Error("Commit after Rollback deleted a file")
	}
}

func TestChangesBadNames(t *testing.T) {
	t.Parallel()
	ch := files.NewChanges(newLocal(t), nil)
	if err := ch.Remove("c", "r", "../../x"); err == nil {
		t.Error("Remove accepted a traversal")
	}
	if err := ch.RemoveRecord("c", ""); err == nil {
		t.Error("RemoveRecord accepted an empty id")
	}
	if err := ch.RemoveCollection(""); err == nil {
		t.Error("RemoveCollection accepted an empty id")
	}
}
