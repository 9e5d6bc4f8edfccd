package files

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Sweeper defaults.
const (
	DefaultSweepGrace    = time.Hour
	DefaultSweepInterval = 6 * time.Hour
)

// maxRefCache bounds the per-sweep memo of Referenced answers (an
// original and its thumbnails share one lookup).
const maxRefCache = 10_000

// ReferencedFunc reports whether a record still names filename in one of
// its file fields. The caller implements it with a database lookup; it
// must answer false for a missing record or collection, and return an
// error (never false) when it cannot tell, so that nothing is deleted on a
// database hiccup.
type ReferencedFunc func(ctx context.Context, collectionID, recordID, filename string) (bool, error)

// Sweeper deletes stored files that no record references: those left by a
// crash between a file write and the transaction's end, or by a failed
// cleanup in [Changes]. Objects younger than Grace are never touched, since
// they may belong to a transaction still in flight; thumbnails go with
// their original. Objects whose keys are not record files or thumbnails
// are left alone.
//
// Several instances sharing one bucket may sweep at the same time; that is
// wasteful but safe (deletes are idempotent).
type Sweeper struct {
	Storage    Storage
	Referenced ReferencedFunc
	// Grace is the minimum age of a deleted object (default
	// DefaultSweepGrace). It must exceed the longest transaction that
	// writes files.
	Grace time.Duration
	// Interval is the pause between sweeps of Run (default
	// DefaultSweepInterval).
	Interval time.Duration
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
	// Now returns the current time (nil: time.Now); for tests.
	Now func() time.Time
}

// SweepStats count one sweep's objects.
type SweepStats struct {
	Scanned int // objects listed
	Fresh   int // younger than Grace, not looked at
	Skipped int // keys that are neither record files nor thumbnails
	Kept    int // referenced
	Deleted int // unreferenced and deleted
	Errors  int // lookups or deletes that failed (logged)
	Temp    int // stale temporary files removed (local store)
}

// staleTempRemover is implemented by stores that can leave temporary files
// behind (Local).
type staleTempRemover interface {
	RemoveStaleTemp(ctx context.Context, olderThan time.Time) (int, error)
}

// Sweep runs one pass over the whole store. Lookup and delete failures are
// logged and counted, not returned; the error is for a failed listing or
// a cancelled context.
func (s *Sweeper) Sweep(ctx context.Context) (SweepStats, error) {
	var st SweepStats
	if s.Storage == nil || s.Referenced == nil {
		return st, fmt.Errorf("files: sweeper needs Storage and Referenced")
	}
	log := s.logger()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	grace := s.Grace
	if grace <= 0 {
		grace = DefaultSweepGrace
	}
	cutoff := now().Add(-grace)

	refs := make(map[string]bool)
	err := s.Storage.List(ctx, "", func(a Attributes) error {
		st.Scanned++
		if a.ModTime.After(cutoff) {
			st.Fresh++
			return nil
		}
		info, ok := ParseKey(a.Key)
		if !ok {
			st.Skipped++
			return nil
		}
		orig := info.CollectionID + "/" + info.RecordID + "/" + info.Filename
		ref, known := refs[orig]
		if !known {
			var err error
			ref, err = s.Referenced(ctx, info.CollectionID, info.RecordID, info.Filename)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				st.Errors++
				log.Warn("files: sweep: reference lookup failed", "key", a.Key, "err", err)
				return nil
			}
			if len(refs) >= maxRefCache {
				clear(refs)
			}
			refs[orig] = ref
		}
		if ref {
			st.Kept++
			return nil
		}
		if err := s.Storage.Delete(ctx, a.Key); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			st.Errors++
			log.Warn("files: sweep: delete failed", "key", a.Key, "err", err)
			return nil
		}
		st.Deleted++
		log.Debug("files: sweep: deleted unreferenced file", "key", a.Key)
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("files: sweep: %w", err)
	}
	if tr, ok := s.Storage.(staleTempRemover); ok {
		n, err := tr.RemoveStaleTemp(ctx, cutoff)
		st.Temp = n
		if err != nil {
			return st, fmt.Errorf("files: sweep: %w", err)
		}
	}
	return st, nil
}

// Run sweeps now and then every Interval until ctx is done, logging each
// pass; it returns ctx's error.
func (s *Sweeper) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	log := s.logger()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := s.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			log.Error("files: sweep failed", "err", err)
		case st.Deleted > 0 || st.Errors > 0 || st.Temp > 0:
			log.Info("files: sweep", "scanned", st.Scanned, "deleted", st.Deleted, "errors", st.Errors, "temp", st.Temp)
		default:
			log.Debug("files: sweep", "scanned", st.Scanned)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Sweeper) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
