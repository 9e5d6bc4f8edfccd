package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// totalsCache keeps the totals of filtered lists (the COUNT(*) that a list
// with a total runs besides its page) until the next committed write, so
// that paging through a filtered list, or many clients reading the same
// one, counts the matching rows once instead of on every request. On
// SQLite that count is most of such a request: the page is served by an
// index and stops after a few rows, the count reads every matching row.
//
// A total is keyed by the exact count statement and its bound values, so
// two requests share one only when they ask the database the very same
// question, whoever asks (a rule that depends on the caller binds the
// caller's values, which are in the key). It stays exact because it is
// valid for one write generation only, read before the count began: a
// write that commits meanwhile bumps the generation before its caller is
// answered, and the total is then neither served nor, if it was still
// being counted, stored. One generation for the whole store keeps this
// simple and safe across joins (a rule or filter may read other
// collections); the price is that a busy write load elsewhere makes
// recounts more frequent, never wrong.
//
// Concurrent requests for the same total of the same generation wait for
// one count instead of each running it (the moment after a write is when
// they would otherwise all pile up).
//
// Like the public response cache it assumes the store is its database's
// only writer, so it is only on for SQLite (Config.CacheTotals).
type totalsCache struct {
	gen func() uint64
	max int

	mu      sync.Mutex
	at      uint64 // the generation of counts
	counts  map[string]int
	pending map[string]*pendingCount
}

// pendingCount is a count being run, which others of its generation wait
// for.
type pendingCount struct {
	gen  uint64
	done chan struct{}
	n    int
	err  error
}

// totalsCacheEntries bounds the totals kept: a key is a statement and its
// values (about half a KiB), so this is a few MiB at most.
const totalsCacheEntries = 4096

func newTotalsCache(gen func() uint64) *totalsCache {
	return &totalsCache{gen: gen, max: totalsCacheEntries, counts: map[string]int{}, pending: map[string]*pendingCount{}}
}

// total returns the total keyed by key, running count when it is not known
// for the current generation and no one else is already running it.
func (c *totalsCache) total(ctx context.Context, key string, count func() (int, error)) (int, error) {
	gen := c.gen()
	c.mu.Lock()
	if c.at == gen {
		if n, ok := c.counts[key]; ok {
			c.mu.Unlock()
			return n, nil
		}
	}
	if p := c.pending[key]; p != nil && p.gen == gen {
		c.mu.Unlock()
		select {
		case <-p.done:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		if p.err == nil {
			return p.n, nil
		}
		// The count failed for its own caller (who may have hung up or
		// run out of time); this caller counts for itself.
		return count()
	}
	p := &pendingCount{gen: gen, done: make(chan struct{}), err: errCountAbandoned}
	c.pending[key] = p
	c.mu.Unlock()
	// Deferred so that waiters are released even if count panics.
	defer c.settle(key, p)
	p.n, p.err = count()
	return p.n, p.err
}

// errCountAbandoned is what waiters see when the count they waited for
// never returned (it panicked); they then count for themselves.
var errCountAbandoned = errors.New("store: count abandoned")

// settle ends p: it stores its total if no write committed since its
// generation and releases whoever waits for it.
func (c *totalsCache) settle(key string, p *pendingCount) {
	gen := p.gen
	c.mu.Lock()
	if c.pending[key] == p {
		delete(c.pending, key)
	}
	if p.err == nil && c.gen() == gen {
		if c.at != gen {
			clear(c.counts)
			c.at = gen
		}
		if len(c.counts) >= c.max {
			for k := range c.counts { // map order: an arbitrary victim
				delete(c.counts, k)
				break
			}
		}
		c.counts[key] = p.n
	}
	c.mu.Unlock()
	close(p.done)
}

// totalKey is the cache key of a count statement with its bound values.
// Every value is written with its type and, for text, its length, so no
// two different argument lists give the same key.
func totalKey(query string, args []any) string {
	var b strings.Builder
	b.Grow(len(query) + 16*len(args))
	b.WriteString(query)
	for _, a := range args {
		b.WriteByte(0)
		switch v := a.(type) {
		case nil:
			b.WriteString("n")
		case string:
			b.WriteString("s" + strconv.Itoa(len(v)) + ":" + v)
		case float64:
			b.WriteString("f" + strconv.FormatFloat(v, 'g', -1, 64))
		case int64:
			b.WriteString("i" + strconv.FormatInt(v, 10))
		case int:
			b.WriteString("i" + strconv.Itoa(v))
		case bool:
			b.WriteString("b" + strconv.FormatBool(v))
		case time.Time:
			b.WriteString("t" + v.Format(time.RFC3339Nano))
		case []byte:
			b.WriteString("x" + strconv.Itoa(len(v)) + ":" + string(v))
		default:
			s := fmt.Sprintf("%v", v)
			b.WriteString(fmt.Sprintf("%T", v) + strconv.Itoa(len(s)) + ":" + s)
		}
	}
	return b.String()
}
