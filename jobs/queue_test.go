package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/store"
)

type echoArgs struct {
	N    int  `json:"n"`
	Fail bool `json:"fail"`
}

func (echoArgs) Kind() string { return "test.echo" }

// seen collects the jobs a worker ran.
type seen struct {
	mu   sync.Mutex
	runs map[int]int
	ch   chan int
}

func newSeen() *seen { return &seen{runs: map[int]int{}, ch: make(chan int, 100)} }

func (s *seen) add(n int) {
	s.mu.Lock()
	s.runs[n]++
	s.mu.Unlock()
	s.ch <- n
}

func (s *seen) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case got := <-s.ch:
			if got == n {
				return
			}
		case <-deadline:
			t.Fatalf("job %d never ran", n)
		}
	}
}

func openQueue(t *testing.T, b testenv.Backend, setup func(q *jobs.Queue)) (*store.Store, *jobs.Queue) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{Dir: b.Dir, URL: b.URL})
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(jobs.Config{Store: st, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	setup(q)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		st.Close()
	})
	return st, q
}

func TestQueue(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := newSeen()
		var cronRuns atomic.Int32
		st, q := openQueue(t, b, func(q *jobs.Queue) {
			jobs.Register(q, func(ctx context.Context, j *jobs.Job[echoArgs]) error {
				if j.Args.Fail && j.Attempt < 2 {
					return errors.New("first attempt fails")
				}
				s.add(j.Args.N)
				return nil
			}, jobs.WorkerOpts{Retry: func(int) time.Duration { return 10 * time.Millisecond }})
			if err := q.AddCron("test_cron", "@yearly", func(context.Context) error { cronRuns.Add(1); return nil }); err != nil {
				t.Fatal(err)
			}
		})
		// A job enqueued in a transaction that rolls back never exists.
		rollback := errors.New("roll back")
		err := st.Tx(ctx, func(tx *store.Tx) error {
			if err := q.EnqueueTx(ctx, tx, echoArgs{N: 1}, nil); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		// One that commits runs.
		if err := st.Tx(ctx, func(tx *store.Tx) error { return q.EnqueueTx(ctx, tx, echoArgs{N: 2}, nil) }); err != nil {
			t.Fatal(err)
		}
		s.wait(t, 2)
		// A failing job is retried.
		if _, err := q.Enqueue(ctx, echoArgs{N: 3, Fail: true}, nil); err != nil {
			t.Fatal(err)
		}
		s.wait(t, 3)
		s.mu.Lock()
		if s.runs[1] != 0 {
			t.Errorf("the rolled back job ran %d times", s.runs[1])
		}
		s.mu.Unlock()
		list, err := q.List(ctx, jobs.ListParams{Kinds: []string{"test.echo"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Fatalf("listed %d echo jobs, want 2", len(list))
		}
		if _, err := q.List(ctx, jobs.ListParams{States: []string{"bogus"}}); !errors.Is(err, jobs.ErrBadParams) {
			t.Errorf("bad state: %v", err)
		}
		// Crons list and run on demand.
		if crons := q.Crons(); len(crons) != 1 || crons[0].ID != "test_cron" || crons[0].Expression != "@yearly" {
			t.Errorf("crons: %+v", crons)
		}
		if err := q.RunCron(ctx, "test_cron"); err != nil {
			t.Fatal(err)
		}
		if err := q.RunCron(ctx, "nope"); !errors.Is(err, jobs.ErrUnknownCron) {
			t.Errorf("unknown cron: %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for cronRuns.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if cronRuns.Load() != 1 {
			t.Errorf("cron ran %d times", cronRuns.Load())
		}
		// Completions are written in batches, shortly after the runs.
		var counts map[string]int64
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if counts, err = q.StateCounts(ctx); err != nil || counts["completed"] >= 3 {
				break
			}
		}
		if err != nil || counts["completed"] < 3 {
			t.Errorf("state counts %v, %v", counts, err)
		}
	})
}
