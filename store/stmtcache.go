package store

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements by SQL text (SQLite: the read pool's
// and the writer connection's). pgx caches prepared statements per
// connection itself, so it is disabled on PostgreSQL.
//
// Filters compile to parameterised SQL, but the number of distinct texts
// still follows what clients send (filter shapes, sorts, field lists), so
// the cache is a bounded LRU: a client sending ever new shapes only evicts
// old, unused statements, and the shapes in use stay prepared. (Before, the
// first 2,000 texts stayed for good and every later one ran unprepared.)
//
// A statement is pinned while a caller starts a query or an exec on it, so
// that an eviction never closes it under that call; database/sql keeps it
// open afterwards for the rows or the transaction that use it.
type stmtCache struct {
	enabled bool
	// max caps the number of statements; 0 means defaultMaxStmts.
	max int
	mu  sync.Mutex
	m   map[string]*list.Element // of *stmtEntry
	lru list.List                // most recently used first
}

type stmtEntry struct {
	query   string
	st      *sql.Stmt
	pins    int
	evicted bool // out of the cache; closed when the last pin goes
}

const (
	// defaultMaxStmts is the LRU's capacity per cache. A prepared SQLite
	// statement costs a few KiB per connection it ran on.
	defaultMaxStmts = 1000
	// maxCachedQuery is the longest SQL text worth keeping: longer texts
	// are one-off shapes, run unprepared.
	maxCachedQuery = 16 << 10
)

// acquire returns the cached statement for query, pinned, or nil; it never
// prepares. A non-nil entry must be given back with release.
func (c *stmtCache) acquire(query string) *stmtEntry {
	if !c.enabled {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.m[query]
	if el == nil {
		return nil
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*stmtEntry)
	e.pins++
	return e
}

// release unpins e, closing it if it was evicted meanwhile.
func (c *stmtCache) release(e *stmtEntry) {
	c.mu.Lock()
	e.pins--
	closeNow := e.evicted && e.pins == 0
	c.mu.Unlock()
	if closeNow {
		e.st.Close()
	}
}

// get returns the statement for query, pinned, preparing and caching it on
// db when it is missing; nil when caching is off, the text too long or the
// prepare failed (the caller then runs the query unprepared and reports its
// error).
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *stmtEntry {
	if e := c.acquire(query); e != nil || !c.enabled || len(query) > maxCachedQuery {
		return e
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	e := &stmtEntry{query: query, st: st, pins: 1}
	var toClose []*sql.Stmt
	c.mu.Lock()
	if el := c.m[query]; el != nil {
		// Prepared concurrently by another caller: use that one.
		c.lru.MoveToFront(el)
		prev := el.Value.(*stmtEntry)
		prev.pins++
		c.mu.Unlock()
		st.Close()
		return prev
	}
	if c.m == nil {
		c.m = map[string]*list.Element{}
	}
	c.m[query] = c.lru.PushFront(e)
	limit := c.max
	if limit <= 0 {
		limit = defaultMaxStmts
	}
	for c.lru.Len() > limit {
		toClose = c.evictLocked(c.lru.Back(), toClose)
	}
	c.mu.Unlock()
	for _, st := range toClose {
		st.Close()
	}
	return e
}

// evictLocked removes el from the cache and appends its statement to
// toClose unless it is pinned (then its last release closes it).
func (c *stmtCache) evictLocked(el *list.Element, toClose []*sql.Stmt) []*sql.Stmt {
	e := c.lru.Remove(el).(*stmtEntry)
	delete(c.m, e.query)
	e.evicted = true
	if e.pins == 0 {
		toClose = append(toClose, e.st)
	}
	return toClose
}

// prepare caches query's statement (for the writer, once its connection is
// free again).
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, query string) {
	if e := c.get(ctx, db, query); e != nil {
		c.release(e)
	}
}

// len is the number of cached statements.
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// reset drops every cached statement; called after DDL, which invalidates
// SQLite's prepared statements' column lists.
func (c *stmtCache) reset() {
	var toClose []*sql.Stmt
	c.mu.Lock()
	for c.lru.Len() > 0 {
		toClose = c.evictLocked(c.lru.Back(), toClose)
	}
	c.mu.Unlock()
	for _, st := range toClose {
		st.Close()
	}
}

func (c *stmtCache) close() { c.reset() }

// queryRead runs a read query on the reader pool, through a cached prepared
// statement where possible.
func (s *Store) queryRead(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if e := s.stmts.get(ctx, s.read, query); e != nil {
		defer s.stmts.release(e)
		return e.st.QueryContext(ctx, args...)
	}
	return s.read.QueryContext(ctx, query, args...)
}
