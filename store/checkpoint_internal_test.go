package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestWALCheckpointedInBackground: the writer leaves checkpoints to the
// background connection, and under a steady stream of writes the WAL still
// starts over (the writer finishes a checkpoint once it has grown past the
// limit) instead of growing with every write; when the writes stop,
// everything is copied into data.db.
func TestWALCheckpointedInBackground(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := s.checkpointer
	c.restartPages = 200 // the writer finishes a checkpoint past 800 KiB
	users := s.Schema().Lookup("users")
	walPath := filepath.Join(dir, "data.db-wal")
	var mu sync.Mutex
	maxWAL := int64(0)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1500 {
				r := newTestUser(users, fmt.Sprintf("w%dx%011d", w, i))
				if err := s.Tx(ctx, func(tx *Tx) error { return tx.Insert(ctx, r) }); err != nil {
					t.Error(err)
					return
				}
				if fi, err := os.Stat(walPath); err == nil {
					mu.Lock()
					maxWAL = max(maxWAL, fi.Size())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	var walPages, copied int
	deadline := time.Now().Add(10 * time.Second)
	for {
		if walPages, copied, err = walCheckpoint(ctx, s.read); err != nil {
			t.Fatal(err)
		}
		if copied == walPages || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("background checkpoints %d, finished by the writer %d, largest WAL %d KiB, now %d pages (%d copied)",
		c.runs.Load(), c.finishes.Load(), maxWAL>>10, walPages, copied)
	if c.runs.Load() == 0 || c.finishes.Load() == 0 {
		t.Fatalf("checkpoints: %d in the background, %d by the writer", c.runs.Load(), c.finishes.Load())
	}
	// The 12,000 inserts append some 52,000 pages (200 MiB) to a WAL that
	// never starts over; one that does stays at a few thousand, however
	// slow the machine (the slower the writes, the more checkpoints
	// between them).
	if limit := int64(64 << 20); maxWAL > limit {
		t.Fatalf("the WAL grew to %d KiB (limit %d KiB): it did not start over", maxWAL>>10, limit>>10)
	}
	if copied != walPages {
		t.Fatalf("after the writes stopped, %d of %d WAL pages copied", copied, walPages)
	}
}
