package api

import (
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthdev/plinth/schema"
)

// publicCache keeps the answers of public record reads (a guest's view or
// list whose rule does not depend on the request), so that a repeated read
// costs a map lookup instead of a query and an encoding.
//
// Its correctness rests on two things. First, what it keeps is the same
// for every caller it serves: only guests (no token, no API key) are
// served, and only when neither the collection's rule nor the request's
// own filter mentions @request, and nothing is expanded (an expanded
// collection's rule may read the request's headers). Second, it never
// serves an answer older than the last write: every committed transaction,
// schema change or reload bumps one generation counter, an answer is
// stored with the generation read before its query ran, and only an
// answer of the current generation is served. A write that commits while
// a read is running therefore makes that read's answer unservable.
//
// It assumes Plinth is the only writer of its database, so it is on for
// one instance on SQLite and off for PostgreSQL (N instances), where
// other instances' writes would reach it only later over the bus.
type publicCache struct {
	// gen is the store's write generation (store.WriteGeneration).
	gen      func() uint64
	maxBytes int
	maxEntry int

	mu      sync.Mutex
	entries map[string]*cachedAnswer
	bytes   int

	// hits, misses and bypasses count reads by result, resolved once
	// rather than by label on every request.
	hits, misses, bypasses prometheus.Counter
}

// cachedAnswer is one stored response body and its validator.
type cachedAnswer struct {
	gen  uint64
	body []byte
	etag string
}

// Default bounds of the public cache: 32 MiB in all, no answer above
// 256 KiB (a larger page is cheap to recompute relative to its size).
const (
	publicCacheBytes    = 32 << 20
	publicCacheMaxEntry = 256 << 10
)

func newPublicCache(reg *prometheus.Registry, gen func() uint64) *publicCache {
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plinth_response_cache_total",
		Help: "Public record reads by cache result: hit (served from memory), miss (computed and stored), bypass (not cacheable).",
	}, []string{"result"})
	reg.MustRegister(results)
	return &publicCache{
		gen:      gen,
		maxBytes: publicCacheBytes, maxEntry: publicCacheMaxEntry,
		entries: map[string]*cachedAnswer{},
		hits:    results.WithLabelValues("hit"), misses: results.WithLabelValues("miss"), bypasses: results.WithLabelValues("bypass"),
	}
}

// generation is the current generation (0 without a cache): read it
// before the query whose answer may be stored.
func (c *publicCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen()
}

// key returns the cache key of a read of collection c under rule, and
// whether the request may be served from the cache at all.
func (c *publicCache) key(r *http.Request, coll *schema.Collection, rule *string) (string, bool) {
	if c == nil || rule == nil || strings.Contains(*rule, "@request") {
		return "", false
	}
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "" {
		return "", false
	}
	// A client asking for a fresh answer (and the benchmark's scenarios
	// that measure the uncached path) gets one.
	if strings.Contains(r.Header.Get("Cache-Control"), "no-cache") {
		return "", false
	}
	for name, vals := range r.URL.Query() {
		if name == "expand" {
			return "", false
		}
		for _, v := range vals {
			if strings.Contains(strings.ToLower(v), "@request") {
				return "", false
			}
		}
	}
	// The collection's id, not the path's name or id, so both spellings
	// share an entry; the schema generation is in the entry's gen.
	return coll.ID + "\x00" + r.URL.Path + "\x00" + r.URL.RawQuery, true
}

// serve answers r from the cache when it holds a current answer for key:
// a 304 when the client's If-None-Match names it, else the body.
func (c *publicCache) serve(w http.ResponseWriter, r *http.Request, key string) bool {
	c.mu.Lock()
	a := c.entries[key]
	c.mu.Unlock()
	if a == nil || a.gen != c.gen() {
		return false
	}
	c.hits.Inc()
	writeCached(w, r, a)
	return true
}

// store keeps body (copied) as the answer for key computed at generation
// gen, unless a write has happened since, and returns what to send.
func (c *publicCache) store(key string, gen uint64, body []byte) *cachedAnswer {
	a := &cachedAnswer{gen: gen, body: body, etag: etagOf(body)}
	c.misses.Inc()
	if len(body) > c.maxEntry || gen != c.gen() {
		return a
	}
	a.body = append([]byte(nil), body...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[key]; old != nil {
		c.bytes -= len(key) + len(old.body)
	}
	// Over budget: drop entries (stale ones first would need a scan;
	// any will do, the map's order is random) until the new one fits.
	for k, e := range c.entries {
		if c.bytes+len(key)+len(a.body) <= c.maxBytes {
			break
		}
		c.bytes -= len(k) + len(e.body)
		delete(c.entries, k)
	}
	c.entries[key] = a
	c.bytes += len(key) + len(a.body)
	return a
}

// bypass counts a public-cache candidate route whose request may not use it.
func (c *publicCache) bypass() {
	if c != nil {
		c.bypasses.Inc()
	}
}

// writeCached sends a cacheable answer with its ETag, or a 304 when the
// client already has it.
func writeCached(w http.ResponseWriter, r *http.Request, a *cachedAnswer) {
	h := w.Header()
	h.Set("ETag", a.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeRaw(w, http.StatusOK, a.body)
}

// etagOf is a strong validator of body: FNV-1a is enough to tell two
// answers of one URL apart, and costs little next to the encoding.
func etagOf(body []byte) string {
	h := fnv.New64a()
	h.Write(body)
	return `"` + strconv.FormatUint(h.Sum64(), 36) + `"`
}

// etagMatches reports whether an If-None-Match header names etag (or is *).
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == etag {
			return true
		}
	}
	return false
}
