package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// WAL checkpoints (SQLite). A commit appends pages to data.db-wal; a
// checkpoint copies them into data.db so that the WAL can start over.
// SQLite's default runs the checkpoint inside the commit that takes the
// WAL past 1,000 pages, on the writer's connection: every few hundred
// writes one request, and every request queued behind the writer, waited
// for thousands of page copies (measured: 40% of the writer's time went
// to commits, most of it the checkpoints; without them create and update
// ran 30-55% faster). Here the writer does not checkpoint by itself; a
// reader connection copies the pages in the background (PASSIVE: it never
// blocks the writer or another reader), shortly after commits.
//
// A passive checkpoint running beside the writer seldom finds the WAL
// fully copied at the moment a write begins, which is when SQLite starts
// the WAL over; under a steady load it would then grow without end. So
// when it has grown past walRestartPages, the writer runs one passive
// checkpoint itself after its next commit: the background has copied
// nearly everything, so that one copies only the last few pages, and the
// write after it starts the WAL over (as SQLite's own checkpoint does).
const (
	// checkpointDelay lets commits gather before a background checkpoint,
	// so that a page written many times is copied once.
	checkpointDelay = 50 * time.Millisecond
	// checkpointIdle is how often the checkpointer looks without being
	// told of a commit (writes made outside record transactions, such as
	// the job queue's).
	checkpointIdle = 2 * time.Second
	// walRestartPages is the WAL length past which the writer finishes
	// the checkpoint itself (16 MiB of 4 KiB pages).
	walRestartPages = 4096
)

// walCheckpointer runs the background checkpoints of a SQLite store.
type walCheckpointer struct {
	// db is the readers' pool: a checkpoint needs no connection of its
	// own (which would cost its memory, idle or not).
	db *sql.DB
	// onIdleWriter runs fn with the writer's connection if no write
	// transaction holds or waits for it: a server that writes now and
	// then checkpoints there and never opens a reader for it.
	onIdleWriter func(fn func(q querier)) bool
	// kick is signalled after a commit.
	kick chan struct{}
	// restartPages is walRestartPages except in tests.
	restartPages int
	// restartDue asks the writer to finish a checkpoint after its next
	// commit.
	restartDue atomic.Bool
	cancel     context.CancelFunc
	done       chan struct{}
	// runs counts background checkpoints, finishes the writer's.
	runs, finishes atomic.Uint64
}

func startCheckpointer(db *sql.DB, onIdleWriter func(fn func(q querier)) bool) *walCheckpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &walCheckpointer{db: db, onIdleWriter: onIdleWriter, kick: make(chan struct{}, 1),
		restartPages: walRestartPages, cancel: cancel, done: make(chan struct{})}
	go c.loop(ctx)
	return c
}

// committed tells the checkpointer of a commit; it never blocks.
func (c *walCheckpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *walCheckpointer) loop(ctx context.Context) {
	defer close(c.done)
	idle := time.NewTicker(checkpointIdle)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
		case <-c.kick:
			select {
			case <-ctx.Done():
				return
			case <-time.After(checkpointDelay):
			}
		}
		var walPages int
		var err error
		run := func(q querier) { walPages, _, err = walCheckpoint(ctx, q) }
		if !c.onIdleWriter(run) {
			run(c.db)
		}
		if err != nil {
			// The writer tries after its next commit, as SQLite's own
			// checkpoint would have.
			c.restartDue.Store(ctx.Err() == nil)
			continue
		}
		c.runs.Add(1)
		if walPages >= c.restartPages {
			c.restartDue.Store(true)
		}
	}
}

// finishIfDue runs the writer's checkpoint on conn, right after a commit,
// when the WAL has grown past walRestartPages.
func (c *walCheckpointer) finishIfDue(ctx context.Context, conn *sql.Conn) {
	if !c.restartDue.CompareAndSwap(true, false) {
		return
	}
	c.finishes.Add(1)
	walCheckpoint(ctx, conn) // a failure leaves the WAL long; the next pass asks again
}

// close stops the checkpoints; the pool is the store's to close.
func (c *walCheckpointer) close() {
	c.cancel()
	<-c.done
}

// walCheckpoint runs a passive checkpoint and returns the WAL's length
// and how much of it is now in data.db, in pages.
func walCheckpoint(ctx context.Context, q querier) (walPages, copied int, err error) {
	var busy int
	if err := q.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walPages, &copied); err != nil {
		return 0, 0, fmt.Errorf("wal checkpoint: %w", err)
	}
	return walPages, copied, nil
}
