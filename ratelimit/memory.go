package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

const memShards = 64

// Memory is an in-process [Store]. It is safe for concurrent use; its
// counters live in 64 independently locked shards, and keys whose last
// window ended are swept at most once per sweep interval, so memory is
// bounded by the keys used within the last two windows.
type Memory struct {
	now       func() time.Time
	sweepIvl  int64 // µs
	lastSweep atomic.Int64
	seed      maphash.Seed
	shards    [memShards]memShard
}

type memShard struct {
	mu sync.Mutex
	m  map[string]memEntry
}

type memEntry struct {
	counter
	w int64 // window in µs, to know when the entry expires
}

// MemoryOption configures [NewMemory].
type MemoryOption func(*Memory)

// WithClock makes the limiter read the time from now instead of time.Now.
func WithClock(now func() time.Time) MemoryOption {
	return func(m *Memory) { m.now = now }
}

// WithSweepInterval sets how often expired keys are swept (default one
// minute). Sweeping walks every key, so it is done at most this often, by
// whichever call first finds it due.
func WithSweepInterval(d time.Duration) MemoryOption {
	return func(m *Memory) { m.sweepIvl = max64(d.Microseconds(), 1) }
}

// NewMemory returns an empty in-memory limiter.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{now: time.Now, sweepIvl: time.Minute.Microseconds(), seed: maphash.MakeSeed()}
	for _, o := range opts {
		o(m)
	}
	for i := range m.shards {
		m.shards[i].m = make(map[string]memEntry)
	}
	m.lastSweep.Store(m.now().UnixMicro())
	return m
}

// Allow implements [Limiter].
func (m *Memory) Allow(_ context.Context, key string, max int, window time.Duration) (bool, time.Duration, error) {
	return m.do(key, max, window, true)
}

// Peek implements [Store].
func (m *Memory) Peek(_ context.Context, key string, max int, window time.Duration) (bool, time.Duration, error) {
	return m.do(key, max, window, false)
}

// Reset implements [Store].
func (m *Memory) Reset(_ context.Context, key string) error {
	s := m.shard(key)
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}

// Len returns the number of keys held, expired or not.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%memShards]
}

func (m *Memory) do(key string, max int, window time.Duration, consume bool) (bool, time.Duration, error) {
	w, err := windowMicros(window)
	if err != nil {
		return false, 0, err
	}
	if max <= 0 {
		return false, window, nil
	}
	now := m.now().UnixMicro()
	m.maybeSweep(now)
	s := m.shard(key)
	s.mu.Lock()
	e, ok := s.m[key]
	next, allowed, retry := decide(e.counter, ok, now, w, int64(max))
	if allowed && consume {
		s.m[key] = memEntry{counter: next, w: w}
	}
	s.mu.Unlock()
	return allowed, time.Duration(retry) * time.Microsecond, nil
}

// maybeSweep removes expired keys when a sweep is due; one caller wins the
// race to do it.
func (m *Memory) maybeSweep(now int64) {
	last := m.lastSweep.Load()
	if now-last < m.sweepIvl || !m.lastSweep.CompareAndSwap(last, now) {
		return
	}
	m.sweep(now)
}

func (m *Memory) sweep(now int64) {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			// Two windows after its start a key counts for nothing.
			if now >= e.start+2*e.w {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}
