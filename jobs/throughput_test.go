package jobs_test

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/store"
)

type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "test.noop" }

// completed counts completed jobs.
func completed(t *testing.T, st *store.Store) int {
	var n int
	if err := st.ReadDB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE state = 'completed'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// run enqueues n jobs with enqueue, then waits for all to complete, and
// reports both rates.
func run(t *testing.T, name string, st *store.Store, n int, enqueue func(i int) error) {
	start := time.Now()
	for i := range n {
		if err := enqueue(i); err != nil {
			t.Fatal(err)
		}
	}
	enq := time.Since(start)
	for completed(t, st) < n {
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("%s: only %d of %d completed", name, completed(t, st), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	all := time.Since(start)
	t.Logf("%-28s enqueue %6.0f jobs/s, enqueue+complete %6.0f jobs/s (%d jobs)", name, float64(n)/enq.Seconds(), float64(n)/all.Seconds(), n)
}

// TestThroughput compares the queue with a bare River loop on the same
// database kind (PLINTH_BENCH_JOBS=1; figures in docs/jobs.md).
func TestThroughput(t *testing.T) {
	if os.Getenv("PLINTH_BENCH_JOBS") != "1" {
		t.Skip("set PLINTH_BENCH_JOBS=1")
	}
	const n = 2000
	ctx := context.Background()
	for _, kind := range []string{"sqlite", "postgres"} {
		// Plinth's queue: Enqueue and EnqueueTx (through the outbox).
		for _, viaTx := range []bool{false, true} {
			b := testenv.New(t, kind)
			st, err := store.Open(ctx, store.Config{Dir: b.Dir, URL: b.URL})
			if err != nil {
				t.Fatal(err)
			}
			q, err := jobs.New(jobs.Config{Store: st, Workers: 20})
			if err != nil {
				t.Fatal(err)
			}
			jobs.Register(q, func(context.Context, *jobs.Job[noopArgs]) error { return nil }, jobs.WorkerOpts{})
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			name := kind + " plinth Enqueue"
			enqueue := func(i int) error { _, err := q.Enqueue(ctx, noopArgs{i}, nil); return err }
			if viaTx {
				name = kind + " plinth EnqueueTx"
				enqueue = func(i int) error {
					return st.Tx(ctx, func(tx *store.Tx) error { return q.EnqueueTx(ctx, tx, noopArgs{i}, nil) })
				}
			}
			run(t, name, st, n, enqueue)
			q.Stop(ctx)
			st.Close()
		}
		// A bare River client on the same kind of database.
		b := testenv.New(t, kind)
		st, err := store.Open(ctx, store.Config{Dir: b.Dir, URL: b.URL})
		if err != nil {
			t.Fatal(err)
		}
		var driver riverdriver.Driver[*sql.Tx] = riversqlite.New(st.JobsDB())
		if kind == "postgres" {
			driver = riverdatabasesql.New(st.JobsDB())
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[noopArgs]) error { return nil }))
		client, err := river.NewClient(driver, &river.Config{Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}},
			Workers: workers, FetchPollInterval: 500 * time.Millisecond, FetchCooldown: 50 * time.Millisecond, PollOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		run(t, kind+" bare River Insert", st, n, func(i int) error { _, err := client.Insert(ctx, noopArgs{i}, nil); return err })
		client.Stop(ctx)
		st.Close()
	}
}
