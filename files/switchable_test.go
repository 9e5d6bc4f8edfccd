package files_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/files/storagetest"
)

// A Switchable with an empty fallback behaves as any store.
func TestSwitchableConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) files.Storage {
		return files.NewSwitchable(newLocal(t), newLocal(t))
	})
}

func swPut(t *testing.T, st files.Storage, key, content string) {
	t.Helper()
	if err := st.Put(context.Background(), key, strings.NewReader(content), int64(len(content)), "text/plain"); err != nil {
		t.Fatal(err)
	}
}

func swRead(t *testing.T, st files.Storage, key string) (string, error) {
	t.Helper()
	obj, err := st.Open(context.Background(), key)
	if err != nil {
		return "", err
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	return string(data), err
}

func swKeys(t *testing.T, st files.Storage) []string {
	t.Helper()
	var keys []string
	if err := st.List(context.Background(), "", func(a files.Attributes) error { keys = append(keys, a.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// After a switch, new files go to the new primary, files stored before are
// still read and deleted through the fallback, and an object opened before
// the switch is read to its end.
func TestSwitchableSwitch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := newLocal(t), newLocal(t)
	sw := files.NewSwitchable(a, nil)
	defer sw.Close()
	swPut(t, sw, "c/r/old.txt", "old content")
	swPut(t, sw, "c/r/gone.txt", "gone")
	inflight, err := sw.Open(ctx, "c/r/old.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer inflight.Close()

	if released := sw.Switch(b, a); len(released) != 0 {
		t.Errorf("released %v, want none (a is kept as the fallback)", released)
	}
	if sw.Current() != b {
		t.Error("Current is not the new primary")
	}
	if data, err := io.ReadAll(inflight); err != nil || string(data) != "old content" {
		t.Errorf("in-flight read: %q %v", data, err)
	}
	swPut(t, sw, "c/r/new.txt", "new content")
	if ok, _ := b.Exists(ctx, "c/r/new.txt"); !ok {
		t.Error("a Put after the switch did not land in the new primary")
	}
	if ok, _ := a.Exists(ctx, "c/r/new.txt"); ok {
		t.Error("a Put after the switch landed in the previous storage")
	}
	if got, err := swRead(t, sw, "c/r/old.txt"); err != nil || got != "old content" {
		t.Errorf("a file stored before the switch: %q %v", got, err)
	}
	if attrs, err := sw.Attributes(ctx, "c/r/old.txt"); err != nil || attrs.Size != int64(len("old content")) {
		t.Errorf("attributes through the fallback: %+v %v", attrs, err)
	}
	if ok, err := sw.Exists(ctx, "c/r/old.txt"); !ok || err != nil {
		t.Errorf("exists through the fallback: %v %v", ok, err)
	}
	if _, err := sw.Open(ctx, "c/r/none.txt"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("a key in neither store: %v", err)
	}
	if _, err := sw.Open(ctx, "../x"); !errors.Is(err, files.ErrInvalidKey) {
		t.Errorf("a bad key: %v", err)
	}
	swPut(t, b, "c/r/gone.txt", "in both")
	if got := swKeys(t, sw); !slices.Equal(got, []string{"c/r/gone.txt", "c/r/new.txt", "c/r/old.txt"}) {
		t.Errorf("List lists both stores, each key once: %v", got)
	}
	if err := sw.Delete(ctx, "c/r/gone.txt"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []files.Storage{a, b} {
		if ok, _ := st.Exists(ctx, "c/r/gone.txt"); ok {
			t.Error("Delete left the file in one of the stores")
		}
	}
	if err := sw.DeletePrefix(ctx, "c/r"); err != nil {
		t.Fatal(err)
	}
	if len(swKeys(t, a)) != 0 || len(swKeys(t, b)) != 0 {
		t.Errorf("DeletePrefix left %v and %v", swKeys(t, a), swKeys(t, b))
	}

	// Back to a alone: b is released for the caller to close.
	if released := sw.Switch(a, nil); len(released) != 1 || released[0] != b {
		t.Errorf("released %v, want [b]", released)
	}
}

// Calls racing with switches each complete on one generation of backends
// (run with -race).
func TestSwitchableConcurrent(t *testing.T) {
	t.Parallel()
	a, b := newLocal(t), newLocal(t)
	sw := files.NewSwitchable(a, nil)
	defer sw.Close()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				key := "c/r/f" + string(rune('a'+i)) + string(rune('a'+j)) + ".txt"
				swPut(t, sw, key, "x")
				if got, err := swRead(t, sw, key); err != nil || got != "x" {
					t.Errorf("%s: %q %v", key, got, err)
				}
			}
		})
	}
	for j := range 20 {
		if j%2 == 0 {
			sw.Switch(b, a)
		} else {
			sw.Switch(a, b)
		}
	}
	wg.Wait()
}
