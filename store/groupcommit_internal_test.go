package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plinthdev/plinth/schema"
)

// TestGroupCommitInterrupted: a member of a batch whose statement outlives
// the query timeout is interrupted, and SQLite may answer that by rolling
// back the whole transaction, with the writes of the members before it.
// Whatever it did, each member's answer must match what is stored (no
// write reported committed and lost), and the writer must work afterwards.
func TestGroupCommitInterrupted(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Dir: t.TempDir(), QueryTimeout: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	users := s.Schema().Lookup("users")
	held, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- s.Tx(ctx, func(*Tx) error { close(held); <-release; return nil })
	}()
	<-held
	// Channel waiters take their turn in order: first the insert, then
	// the runaway statement in the same batch.
	inserted := make(chan error, 1)
	go func() {
		inserted <- s.Tx(ctx, func(tx *Tx) error { return tx.Insert(ctx, newTestUser(users, "beforerunaway01")) })
	}()
	waitForQueued(s, 1)
	runaway := make(chan error, 1)
	go func() {
		runaway <- s.Tx(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) INSERT INTO _params (key, value) SELECT 'runaway' || x, x FROM c`)
			return err
		})
	}()
	waitForQueued(s, 2)
	close(release)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if err := <-runaway; !errors.Is(err, ErrQueryTimeout) {
		t.Fatalf("runaway statement: %v, want a query timeout", err)
	}
	insErr := <-inserted
	_, findErr := s.FindOne(ctx, users, "beforerunaway01", nil)
	t.Logf("the insert before the runaway statement: %v", insErr)
	if (insErr == nil) != (findErr == nil) {
		t.Fatalf("insert answered %v but find says %v", insErr, findErr)
	}
	if insErr != nil && !errors.Is(insErr, ErrBatchAborted) {
		t.Fatalf("insert: %v", insErr)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM _params WHERE key LIKE 'runaway%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("runaway rows: %d, %v", n, err)
	}
	if err := s.Tx(ctx, func(tx *Tx) error { return tx.Insert(ctx, newTestUser(users, "afterrunaway001")) }); err != nil {
		t.Fatalf("write after the interrupted batch: %v", err)
	}
}

// TestGroupCommitFailureSeesEarlierMember: a member that fails because of
// what an earlier member of its batch wrote (here, the same id) is
// answered only once that write is committed, so a caller that reads
// after the failure (an idempotent retry looking for the first order)
// finds it. Regression: the failure was answered while the batch was
// still open and the read found nothing.
func TestGroupCommitFailureSeesEarlierMember(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteStore(t)
	s.group.maxAge = time.Minute
	users := s.Schema().Lookup("users")
	// Statements the writer has not prepared yet are prepared after the
	// transaction, which waits for the writer's connection: insert once,
	// and fail once, so that the members below find theirs ready.
	for _, want := range []bool{true, false} {
		err := s.Tx(ctx, func(tx *Tx) error { return tx.Insert(ctx, newTestUser(users, "warmupwarmup001")) })
		if (err == nil) != want {
			t.Fatalf("warm-up insert: %v", err)
		}
	}
	// The holder keeps the writer until the others queue, in order: the
	// first insert, its duplicate, and a last member that keeps the batch
	// open after the duplicate has failed.
	held, release := make(chan struct{}), make(chan struct{})
	tx := func(fn func(*Tx) error) chan error {
		done := make(chan error, 1)
		go func() { done <- s.Tx(ctx, fn) }()
		return done
	}
	holder := tx(func(*Tx) error { close(held); <-release; return nil })
	<-held
	first := tx(func(tx *Tx) error { return tx.Insert(ctx, newTestUser(users, "sameidsameid001")) })
	waitForQueued(s, 1)
	dup := tx(func(tx *Tx) error { return tx.Insert(ctx, newTestUser(users, "sameidsameid001")) })
	waitForQueued(s, 2)
	inLast, releaseLast := make(chan struct{}), make(chan struct{})
	last := tx(func(*Tx) error { close(inLast); <-releaseLast; return nil })
	waitForQueued(s, 3)
	close(release)
	<-inLast
	select {
	case err := <-dup:
		_, findErr := s.FindOne(ctx, users, "sameidsameid001", nil)
		t.Fatalf("the duplicate was answered (%v) while its batch was open; a read then finds the first insert: %v", err, findErr)
	case <-time.After(200 * time.Millisecond):
	}
	close(releaseLast)
	if err := <-dup; err == nil {
		t.Fatal("the duplicate id was inserted")
	}
	if _, err := s.FindOne(ctx, users, "sameidsameid001", nil); err != nil {
		t.Fatalf("after the duplicate's failure: %v", err)
	}
	for _, c := range []chan error{holder, first, last} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
}

// newTestUser is a prepared users record with id and an email made of it.
func newTestUser(users *schema.Collection, id string) *schema.Record {
	r := schema.NewRecord(users)
	r.Set("id", id)
	r.Set("email", id+"@example.com")
	r.Set("password", "x")
	schema.Prepare(r, true, time.Now())
	return r
}

// waitForQueued waits until n write transactions queue for the writer.
func waitForQueued(s *Store, n int32) {
	for s.group.waiting.Load() != n {
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkGroupCommit inserts records from many goroutines at once, with
// transactions batched into shared commits and with a commit each.
func BenchmarkGroupCommit(b *testing.B) {
	for _, mode := range []struct {
		name       string
		maxMembers int
	}{{"batched", groupMaxMembers}, {"commit_each", 1}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.group.maxMembers = mode.maxMembers
			title, _ := schema.NewField("text", "title")
			score, _ := schema.NewField("number", "score")
			c, err := s.SaveCollection(ctx, &schema.Collection{Name: "posts", Type: schema.TypeBase, Fields: []*schema.Field{title, score}})
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := schema.NewRecord(c)
					r.Set("title", "hello")
					r.Set("score", 42)
					schema.Prepare(r, true, time.Now())
					if err := s.Tx(ctx, func(tx *Tx) error { return tx.Insert(ctx, r) }); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			commits, txs := s.CommitBatches()
			b.ReportMetric(float64(txs)/max(1, float64(commits)), "tx/commit")
		})
	}
}
