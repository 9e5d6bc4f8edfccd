package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultQueryTimeout bounds every record read and write transaction when
// Config.QueryTimeout is zero.
const DefaultQueryTimeout = 10 * time.Second

// ErrQueryTimeout is returned (wrapped, with context.DeadlineExceeded)
// when a query ran past the store's QueryTimeout and was interrupted.
var ErrQueryTimeout = errors.New("the query took too long and was interrupted")

// limits bounds what one query may cost the database: a deadline that
// reaches the driver (SQLite interrupts the statement, pgx cancels it on
// the server), and a gate that lets only some connections run queries
// whose joins a client chose, so that a burst of them leaves the rest of
// the pool to everyone else (health checks, logins, plain reads).
type limits struct {
	timeout time.Duration // <= 0: none
	heavy   chan struct{} // tokens for queries with client-chosen joins
}

func newLimits(timeout time.Duration, conns int) limits {
	if timeout == 0 {
		timeout = DefaultQueryTimeout
	}
	return limits{timeout: timeout, heavy: make(chan struct{}, max(1, conns/2))}
}

// bound returns ctx with the query deadline, unless ctx has a deadline
// already: the caller chose it (a batch's own timeout, a transaction's
// deadline that its statements share).
func (l *limits) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.timeout <= 0 {
		return ctx, func() {}
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, l.timeout)
}

// acquireHeavy waits for a turn to run a query with client-chosen joins
// (cost > 0); release must be called after. Cheap queries pass at once.
func (l *limits) acquireHeavy(ctx context.Context, cost int) (release func(), err error) {
	if cost <= 0 || l.heavy == nil {
		return func() {}, nil
	}
	select {
	case l.heavy <- struct{}{}:
		return func() { <-l.heavy }, nil
	case <-ctx.Done():
		return nil, timeoutError(ctx, ctx.Err())
	}
}

// timeoutError turns the driver's report of an interrupted statement into
// ErrQueryTimeout when the deadline is why; other errors pass unchanged.
func timeoutError(ctx context.Context, err error) error {
	if err == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, ErrBatchAborted) {
		return err // a batch aborted by another member's statement says so
	}
	return fmt.Errorf("%w (%w)", ErrQueryTimeout, context.DeadlineExceeded)
}
