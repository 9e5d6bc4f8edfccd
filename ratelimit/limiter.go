package ratelimit

import (
	"context"
	"errors"
	"time"
)

// Limiter counts requests per key. Allow counts one request against key when
// fewer than max were counted in the sliding window (see the package
// documentation) and reports allowed; otherwise it counts nothing and
// reports how long until the request would be allowed. err is set when the
// limiter could not decide (Redis unreachable); allowed is then false.
//
// max ≤ 0 allows nothing; window must be positive.
type Limiter interface {
	Allow(ctx context.Context, key string, max int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// Store is a [Limiter] that can also look at a key without counting and
// forget a key, as [FailedLogins] needs. Both limiters of this package are
// Stores.
type Store interface {
	Limiter
	// Peek reports what Allow would answer now, without counting.
	Peek(ctx context.Context, key string, max int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
	// Reset forgets everything counted against key.
	Reset(ctx context.Context, key string) error
}

// errWindow is returned for a window shorter than the microsecond the
// counters work in.
var errWindow = errors.New("ratelimit: window must be at least 1µs")

// counter is one key's state: the start of its current window (µs since the
// epoch) and the counts of the current and previous windows.
type counter struct {
	start, curr, prev int64
}

// decide applies the sliding-window rule at now (µs) to c for a window of w
// µs, returning the state to keep if the request is counted, whether it is
// allowed and, if not, how many µs until it would be. It is the Go twin of
// redisScript; the two must stay identical.
func decide(c counter, exists bool, now, w, max int64) (next counter, allowed bool, retry int64) {
	start := now - now%w
	switch {
	case !exists:
		c = counter{start: start}
	case c.start > start:
		// The clock went back: stay in the stored window.
		start = c.start
	case c.start == start:
	case c.start+w == start:
		c = counter{start: start, prev: c.curr}
	default:
		c = counter{start: start}
	}
	elapsed := max64(now-start, 0)
	if c.prev*(w-elapsed)+c.curr*w <= (max-1)*w {
		c.curr++
		return c, true, 0
	}
	if c.curr <= max-1 {
		// Wait for the previous window's share to fade (prev > 0 here).
		return c, false, w - (max-1-c.curr)*w/c.prev - elapsed
	}
	// Wait for the next window, where curr becomes the fading share.
	return c, false, start + w - now + w - (max-1)*w/c.curr
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// windowMicros converts a window to µs, rejecting windows under 1µs.
func windowMicros(window time.Duration) (int64, error) {
	w := window.Microseconds()
	if w < 1 {
		return 0, errWindow
	}
	return w, nil
}
