package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct{ t atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.t.Store(t.UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time              { return time.Unix(0, c.t.Load()) }
func (c *fakeClock) Add(d time.Duration)         { c.t.Add(int64(d)) }
func epoch(sec int64, d time.Duration) time.Time { return time.Unix(sec, 0).Add(d) }

func mustAllow(t *testing.T, l Limiter, key string, max int, w time.Duration) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := l.Allow(context.Background(), key, max, w)
	if err != nil {
		t.Fatal(err)
	}
	return ok, retry
}

func TestMemoryFixedClock(t *testing.T) {
	// Windows are aligned on the epoch: 1_000_000_000s is a multiple of 10s.
	clk := newFakeClock(epoch(1_000_000_000, 0))
	m := NewMemory(WithClock(clk.Now))
	const w = 10 * time.Second
	for i := range 3 {
		if ok, _ := mustAllow(t, m, "k", 3, w); !ok {
			t.Fatalf("request %d denied", i)
		}
	}
	ok, retry := mustAllow(t, m, "k", 3, w)
	if ok {
		t.Fatal("4th request allowed")
	}
	// Next window starts in 10s; then prev=3 fades: allowed once
	// 3*(w-e) <= 2*w, e >= w/3.
	if want := w + 3_333_334*time.Microsecond; retry != want {
		t.Fatalf("retry = %v, want %v", retry, want)
	}
	if ok, _ := mustAllow(t, m, "other", 3, w); !ok {
		t.Fatal("keys are not independent")
	}
	clk.Add(retry - time.Microsecond)
	if ok, _ := mustAllow(t, m, "k", 3, w); ok {
		t.Fatal("allowed before retryAfter")
	}
	clk.Add(time.Microsecond)
	if ok, _ := mustAllow(t, m, "k", 3, w); !ok {
		t.Fatal("denied at retryAfter")
	}
	// Two windows of silence forget everything.
	clk.Add(2 * w)
	for i := range 3 {
		if ok, _ := mustAllow(t, m, "k", 3, w); !ok {
			t.Fatalf("after idle: request %d denied", i)
		}
	}
}

func TestMemoryEdgeCases(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	if ok, retry, err := m.Allow(ctx, "k", 0, time.Second); ok || err != nil || retry != time.Second {
		t.Fatalf("max 0: %v %v %v", ok, retry, err)
	}
	if _, _, err := m.Allow(ctx, "k", 1, 0); err == nil {
		t.Fatal("window 0: want an error")
	}
	if ok, _, _ := m.Peek(ctx, "p", 1, time.Minute); !ok {
		t.Fatal("peek on new key denied")
	}
	if ok, _, _ := m.Allow(ctx, "p", 1, time.Minute); !ok {
		t.Fatal("peek counted")
	}
	if ok, _, _ := m.Peek(ctx, "p", 1, time.Minute); ok {
		t.Fatal("peek after the budget allowed")
	}
	if err := m.Reset(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := m.Allow(ctx, "p", 1, time.Minute); !ok {
		t.Fatal("reset did not forget")
	}
}

// TestMemoryClockBackwards checks that a clock stepping back neither resets
// the budget nor breaks the arithmetic.
func TestMemoryClockBackwards(t *testing.T) {
	clk := newFakeClock(epoch(1_000_000_000, 5*time.Second))
	m := NewMemory(WithClock(clk.Now))
	for range 2 {
		mustAllow(t, m, "k", 2, 10*time.Second)
	}
	clk.Add(-20 * time.Second)
	ok, retry := mustAllow(t, m, "k", 2, 10*time.Second)
	if ok || retry <= 0 {
		t.Fatalf("after stepping back: allowed=%v retry=%v", ok, retry)
	}
}

// TestMemorySliding uses synctest's fake time (time.Now inside the bubble)
// to follow a client across window boundaries.
func TestMemorySliding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		const w = time.Minute
		// The bubble starts at midnight, on a window boundary.
		for range 10 {
			mustAllow(t, m, "k", 10, w)
		}
		time.Sleep(w) // new window: prev=10, curr=0
		if ok, retry := mustAllow(t, m, "k", 10, w); ok || retry != w/10 {
			t.Fatalf("at boundary: allowed=%v retry=%v, want denied for %v", ok, retry, w/10)
		}
		time.Sleep(w / 2) // prev share is 5: five more
		n := 0
		for range 20 {
			if ok, _ := mustAllow(t, m, "k", 10, w); ok {
				n++
			}
		}
		if n != 5 {
			t.Fatalf("half a window later: %d allowed, want 5", n)
		}
	})
}

// TestMemorySweep checks that expired keys are dropped, bounding memory.
func TestMemorySweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory(WithSweepInterval(time.Second))
		for i := range 1000 {
			mustAllow(t, m, fmt.Sprint("k", i), 5, time.Second)
		}
		if n := m.Len(); n != 1000 {
			t.Fatalf("Len = %d, want 1000", n)
		}
		mustAllow(t, m, "long", 5, time.Hour)
		time.Sleep(2 * time.Second)
		mustAllow(t, m, "trigger", 5, time.Second) // sweeps
		if n := m.Len(); n != 2 {
			t.Fatalf("after sweep Len = %d, want 2 (long, trigger)", n)
		}
	})
}

// TestMemoryConcurrent hammers one key from many goroutines (run with
// -race): exactly max requests get through.
func TestMemoryConcurrent(t *testing.T) {
	clk := newFakeClock(epoch(1_000_000_000, 0))
	m := NewMemory(WithClock(clk.Now), WithSweepInterval(time.Nanosecond))
	const max = 500
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if ok, _, err := m.Allow(context.Background(), "shared", max, time.Hour); err != nil {
					t.Error(err)
				} else if ok {
					allowed.Add(1)
				}
				// Other keys in other shards, and sweeps, at the same time.
				_, _, _ = m.Allow(context.Background(), string(rune('a'+g))+string(rune('a'+i%26)), 3, time.Minute)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != max {
		t.Fatalf("%d allowed, want %d", n, max)
	}
}

// TestDecideProperties checks the algorithm on random traffic against its
// promises: never more than max per aligned window, and retryAfter is the
// exact earliest time the request would be allowed.
func TestDecideProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		w := int64(1 + r.IntN(5_000_000))
		max := int64(1 + r.IntN(20))
		now := int64(1_700_000_000_000_000) + r.Int64N(w)
		var c counter
		exists := false
		perWindow := map[int64]int64{}
		for range 300 {
			now += r.Int64N(w/int64(max)*2 + 1)
			next, ok, retry := decide(c, exists, now, w, max)
			if ok {
				c, exists = next, true
				perWindow[now-now%w]++
				if perWindow[now-now%w] > max {
					t.Fatalf("more than %d in one window", max)
				}
				continue
			}
			if retry <= 0 {
				t.Fatalf("denied with retry %d", retry)
			}
			if _, ok, _ := decide(c, exists, now+retry-1, w, max); ok {
				t.Fatalf("w=%d max=%d: allowed before retryAfter", w, max)
			}
			if _, ok, _ := decide(c, exists, now+retry, w, max); !ok {
				t.Fatalf("w=%d max=%d c=%+v now=%d retry=%d: denied at retryAfter", w, max, c, now, retry)
			}
		}
	}
}
