package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit (SQLite). SQLite has one writer, and a bare handler pays a
// whole transaction — BEGIN, the statements, a COMMIT that writes every
// page it touched to the WAL — per request. Here write transactions that
// queue for the writer share one SQLite transaction instead: each runs
// inside its own SAVEPOINT, a failure rolls back to its savepoint only, and
// the turn passes to the next waiting transaction without a commit. The
// member that finds nobody waiting (or the batch full, or old) commits,
// and every member of the batch is answered only after that COMMIT has
// returned: no request is acknowledged before its write is as durable as
// the synchronous pragma makes any commit.
//
// Nothing waits for company: with a single writer the batch is committed
// at once, so an idle server adds no latency.
const (
	// groupMaxMembers bounds how many transactions one commit holds.
	groupMaxMembers = 64
	// groupMaxAge bounds how long a batch stays open: its first member
	// waits for the commit at most about this long plus its followers' work.
	groupMaxAge = 2 * time.Millisecond
)

// ErrBatchAborted is returned to the members of a batch that SQLite
// ended by itself (another member's statement interrupted at the query
// timeout, or an I/O error, rolls back the whole transaction): their
// writes were not committed, and trying again may well succeed.
var ErrBatchAborted = errors.New("the write transaction was rolled back by the database")

// writeGroup batches the write transactions of a SQLite store.
type writeGroup struct {
	s *Store
	// turn is held by the one transaction using the writer; a buffered
	// channel rather than a mutex so that waiting respects the context.
	turn chan struct{}
	// waiting counts transactions waiting for the turn: a member that
	// sees one leaves the batch open for it.
	waiting atomic.Int32
	// cur is the open batch (guarded by turn).
	cur *batch
	// notifyMu keeps the commit listeners of consecutive batches in
	// commit order without holding the writer while they run.
	notifyMu sync.Mutex
	// batches and members count commits and the transactions they held.
	batches, members atomic.Uint64
	// maxMembers and maxAge are groupMaxMembers and groupMaxAge except in
	// benchmarks that compare with a commit per transaction and in tests
	// that need a batch to stay open.
	maxMembers int
	maxAge     time.Duration
}

// batch is one SQLite transaction shared by several write transactions.
type batch struct {
	conn  *sql.Conn
	tx    *sql.Tx
	begun time.Time
	// members are the transactions whose work waits for the commit, in
	// order.
	members []*Tx
	// aborted, when set, says SQLite ended the transaction by itself.
	aborted error
	// done is closed once the batch is committed or rolled back; err is
	// the outcome for its members.
	done chan struct{}
	err  error
}

func newWriteGroup(s *Store) *writeGroup {
	return &writeGroup{s: s, turn: make(chan struct{}, 1), maxMembers: groupMaxMembers, maxAge: groupMaxAge}
}

// run runs fn as one member of a batch and returns once the batch has
// ended: committed with fn's writes, or without them when fn failed.
func (g *writeGroup) run(ctx context.Context, fn func(tx *Tx) error) error {
	g.waiting.Add(1)
	select {
	case g.turn <- struct{}{}:
		g.waiting.Add(-1)
	case <-ctx.Done():
		g.waiting.Add(-1)
		// A member may have left the batch open for this one: make sure
		// somebody ends it.
		go g.rescue()
		return ctx.Err()
	}
	b, err := g.open(ctx)
	if err != nil {
		g.leave()
		return err
	}
	// Statements run under a context that the caller's cancellation does
	// not reach (it is checked before each statement instead): SQLite
	// answers an interrupted write by rolling back the whole transaction,
	// which here holds other requests' writes. The deadline still applies.
	stmtCtx := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		stmtCtx, cancel = context.WithDeadline(stmtCtx, dl)
		defer cancel()
	}
	tx := &Tx{s: g.s, tx: b.tx, snap: g.s.Schema(), stmtCtx: stmtCtx}
	defer func() {
		for _, q := range tx.unprepared {
			g.s.writeStmts.prepare(ctx, g.s.write, q)
		}
	}()
	if err := tx.control("SAVEPOINT member"); err != nil {
		g.abort(b, fmt.Errorf("savepoint: %w", err))
		g.leave()
		return b.aborted
	}
	// If fn panics (a hook's code, say), its writes are undone and the
	// batch goes on without it.
	ended := false
	defer func() {
		if !ended {
			g.undo(b, tx)
			g.leave()
			<-b.done
		}
	}()
	err = fn(tx)
	if err == nil {
		err = g.s.beforeCommit(ctx, tx)
	}
	ended = true
	if err != nil {
		// A failure is answered after the batch ends too: it may come
		// from what an earlier member wrote (a unique key taken, stock
		// sold out), and a caller that reads after the answer must find
		// that write, not the state before the batch.
		g.undo(b, tx)
		g.leave()
		<-b.done
		return err
	}
	if err := tx.control("RELEASE member"); err != nil {
		g.abort(b, fmt.Errorf("release savepoint: %w", err))
	} else {
		b.members = append(b.members, tx)
	}
	g.leave()
	<-b.done
	if b.err != nil {
		return b.err
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// open returns the batch in progress or begins one; the caller holds the
// turn.
func (g *writeGroup) open(ctx context.Context) (*batch, error) {
	if g.cur != nil {
		return g.cur, nil
	}
	conn, err := g.s.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	// The transaction outlives the request that began it, so it must not
	// end with that request's context.
	tx, err := conn.BeginTx(context.Background(), nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin: %w", err)
	}
	g.cur = &batch{conn: conn, tx: tx, begun: time.Now(), done: make(chan struct{})}
	return g.cur, nil
}

// undo rolls a failed member back to its savepoint.
func (g *writeGroup) undo(b *batch, tx *Tx) {
	if err := tx.control("ROLLBACK TO member"); err != nil {
		g.abort(b, fmt.Errorf("roll back to savepoint: %w", err))
		return
	}
	if err := tx.control("RELEASE member"); err != nil {
		g.abort(b, fmt.Errorf("release savepoint: %w", err))
	}
}

// abort notes that the batch's transaction is gone: SQLite rolled it back
// by itself, so a savepoint statement failed. It is ended by leave.
func (g *writeGroup) abort(b *batch, cause error) {
	if b.aborted == nil {
		b.aborted = fmt.Errorf("%w: %w", ErrBatchAborted, cause)
	}
}

// leave ends the caller's turn. The batch stays open when another
// transaction is waiting and the batch has room and time left; otherwise
// it is committed (or rolled back) here and its members told.
func (g *writeGroup) leave() {
	b := g.cur
	if b == nil {
		<-g.turn
		return
	}
	if b.aborted == nil && g.waiting.Load() > 0 && len(b.members) < g.maxMembers && time.Since(b.begun) < g.maxAge {
		<-g.turn
		return
	}
	g.cur = nil
	err := b.aborted
	switch {
	case err != nil || len(b.members) == 0:
		b.tx.Rollback()
	default:
		if cerr := b.tx.Commit(); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		} else if c := g.s.checkpointer; c != nil {
			c.committed()
			c.finishIfDue(context.Background(), b.conn)
		}
	}
	b.conn.Close()
	if err == nil && len(b.members) > 0 {
		g.batches.Add(1)
		g.members.Add(uint64(len(b.members)))
	}
	// Listeners run in commit order, but without holding the writer; a
	// listener's panic must not leave the other members waiting.
	g.notifyMu.Lock()
	<-g.turn
	b.err = err
	defer close(b.done)
	defer g.notifyMu.Unlock()
	if err == nil {
		for _, m := range b.members {
			g.s.notifyCommitted(m)
		}
	}
}

// onIdle runs fn with the writer's connection and reports true when no
// write transaction holds the writer or waits for it; otherwise it reports
// false at once. Transactions that come meanwhile wait for fn.
func (g *writeGroup) onIdle(fn func(q querier)) bool {
	if g.waiting.Load() > 0 {
		return false
	}
	select {
	case g.turn <- struct{}{}:
	default:
		return false
	}
	defer func() { <-g.turn }()
	if g.cur != nil { // a batch left open for a transaction on its way
		return false
	}
	fn(g.s.write)
	return true
}

// rescue takes the turn once to end a batch left open for a transaction
// that gave up waiting.
func (g *writeGroup) rescue() {
	g.waiting.Add(1)
	g.turn <- struct{}{}
	g.waiting.Add(-1)
	g.leave()
}

// CommitBatches reports how many SQLite commits held record write
// transactions and how many transactions they held in all (group
// commit); zero on PostgreSQL.
func (s *Store) CommitBatches() (commits, transactions uint64) {
	if s.group == nil {
		return 0, 0
	}
	return s.group.batches.Load(), s.group.members.Load()
}
