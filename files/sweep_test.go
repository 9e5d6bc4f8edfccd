package files_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plinthdev/plinth/files"
)

func TestSweeper(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := files.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, k := range []string{
		"c/r1/kept.png", "c/r1/thumbs_kept.png/100x100_kept.png",
		"c/r1/orphan.png", "c/r1/thumbs_orphan.png/100x100_orphan.png", "c/r1/thumbs_orphan.png/0x50_orphan.png",
		"c/r2/ghost.txt",                // record gone
		"c/r3/thumbs_x.png/10x10_x.png", // thumbnail left without its original
		"c/r1/flaky.txt",                // lookup fails
		"other/shape.txt",               // not a record file: left alone
		"c/r1/a/b/c.txt",                // not a record file either
	} {
		putString(t, st, k, k)
	}
	// A stale temporary file from a crashed Put.
	stale := filepath.Join(dir, "c", "r1", ".tmp.crashed")
	if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}

	// And one being written right now, which must survive.
	inflight := filepath.Join(dir, "c", "r1", ".tmp.inflight")
	if err := os.WriteFile(inflight, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	referenced := map[string]bool{"c/r1/kept.png": true}
	var lookups atomic.Int64
	s := &files.Sweeper{
		Storage: st,
		Referenced: func(_ context.Context, c, r, f string) (bool, error) {
			lookups.Add(1)
			if f == "flaky.txt" {
				return false, errors.New("database unavailable")
			}
			return referenced[c+"/"+r+"/"+f], nil
		},
		Logger: quiet,
	}

	// Everything is fresh: nothing is touched, no lookups.
	stats, err := s.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Deleted != 0 || stats.Fresh != 10 || lookups.Load() != 0 {
		t.Errorf("fresh sweep: %+v, %d lookups", stats, lookups.Load())
	}
	// ... except the temporary file, older than the grace period.
	if stats.Temp != 1 {
		t.Errorf("stale temporary files removed: %d", stats.Temp)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary file kept")
	}
	if _, err := os.Stat(inflight); err != nil {
		t.Error("fresh temporary file removed")
	}

	// Two hours later.
	s.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	stats, err = s.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c/r1/a/b/c.txt", "c/r1/flaky.txt", "c/r1/kept.png", "c/r1/thumbs_kept.png/100x100_kept.png", "other/shape.txt"}
	if got := keysOf(t, st); !slices.Equal(got, want) {
		t.Errorf("after sweep: %v, want %v", got, want)
	}
	if stats.Deleted != 5 || stats.Kept != 2 || stats.Errors != 1 || stats.Skipped != 2 || stats.Temp != 1 { // the "in-flight" one is old by now
		t.Errorf("stats %+v", stats)
	}
	// One lookup per original (thumbnails share it): kept, orphan,
	// ghost, x, flaky.
	if n := lookups.Load(); n != 5 {
		t.Errorf("%d lookups", n)
	}
	// Empty directories went with their files.
	if _, err := os.Stat(filepath.Join(dir, "c", "r2")); !os.IsNotExist(err) {
		t.Error("empty record directory kept")
	}
}

func TestSweeperRun(t *testing.T) {
	t.Parallel()
	st := newLocal(t)
	putString(t, st, "c/r/orphan.txt", "x")
	var sweeps atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	s := &files.Sweeper{
		Storage: st,
		Referenced: func(context.Context, string, string, string) (bool, error) {
			if sweeps.Add(1) >= 1 {
				cancel()
			}
			return false, nil
		},
		Grace:    time.Nanosecond,
		Interval: time.Hour,
		Logger:   quiet,
	}
	time.Sleep(time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if sweeps.Load() == 0 {
		t.Error("Run did not sweep")
	}
	if _, err := (&files.Sweeper{}).Sweep(context.Background()); err == nil {
		t.Error("Sweep without Storage succeeded")
	}
}

// The sweeper works the same on S3 (through the fake): listing while
// deleting, thumbnails with their original.
func TestSweeperS3(t *testing.T) {
	t.Parallel()
	st := newFakeS3(t).store(t, "", nil)
	for _, k := range []string{"c/r/a.png", "c/r/thumbs_a.png/10x10_a.png", "c/r/b.png", "c/r/thumbs_b.png/10x10_b.png"} {
		putString(t, st, k, k)
	}
	s := &files.Sweeper{
		Storage: st,
		Referenced: func(_ context.Context, _, _, f string) (bool, error) {
			return f == "a.png", nil
		},
		Now:    func() time.Time { return time.Now().Add(2 * time.Hour) },
		Logger: quiet,
	}
	if _, err := s.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(t, st), []string{"c/r/a.png", "c/r/thumbs_a.png/10x10_a.png"}; !slices.Equal(got, want) {
		t.Errorf("after sweep: %v", got)
	}
}
