package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/store"
)

// TestCronOncePerTickAcrossInstances runs three queues on one PostgreSQL
// database with the same every-minute cron: each tick runs once.
func TestCronOncePerTickAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a cron tick (up to a minute)")
	}
	t.Parallel()
	b := testenv.New(t, "postgres")
	ctx := context.Background()
	var mu sync.Mutex
	runs := map[string][]int{} // minute → instances that ran it
	for i := range 3 {
		st, err := store.Open(ctx, store.Config{Dir: t.TempDir(), URL: b.URL})
		if err != nil {
			t.Fatal(err)
		}
		q, err := jobs.New(jobs.Config{Store: st, PollInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.AddCron("tick", "* * * * *", func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			m := time.Now().UTC().Format("15:04")
			runs[m] = append(runs[m], i)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			q.Stop(sctx)
			st.Close()
		})
	}
	// The first tick comes at the next minute, once a leader is elected.
	deadline := time.Now().Add(100 * time.Second)
	for {
		mu.Lock()
		n := len(runs)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no tick ran")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(5 * time.Second) // room for a duplicate to show
	mu.Lock()
	defer mu.Unlock()
	for m, who := range runs {
		if len(who) != 1 {
			t.Errorf("tick %s ran %d times (instances %v)", m, len(who), who)
		}
	}
	t.Logf("ticks: %v", runs)
}
