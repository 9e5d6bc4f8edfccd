package store

import (
	"context"
	"testing"
	"time"
)

// TestTotalsCachePanickedCount: a count that panics releases those
// waiting for it (they count for themselves) instead of leaving them
// waiting for good.
func TestTotalsCachePanickedCount(t *testing.T) {
	c := newTotalsCache(func() uint64 { return 1 })
	release := make(chan struct{})
	leaderDone := make(chan any)
	go func() {
		defer func() { leaderDone <- recover() }()
		c.total(context.Background(), "k", func() (int, error) {
			<-release
			panic("boom")
		})
	}()
	// The waiter finds the leader's count pending and waits for it.
	for {
		c.mu.Lock()
		pending := c.pending["k"] != nil
		c.mu.Unlock()
		if pending {
			break
		}
		time.Sleep(time.Millisecond)
	}
	got := make(chan int)
	go func() {
		n, err := c.total(context.Background(), "k", func() (int, error) { return 7, nil })
		if err != nil {
			t.Error(err)
		}
		got <- n
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if r := <-leaderDone; r != "boom" {
		t.Fatalf("leader recovered %v, want the panic", r)
	}
	select {
	case n := <-got:
		if n != 7 {
			t.Fatalf("waiter got %d, want its own count 7", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter was never released")
	}
}
