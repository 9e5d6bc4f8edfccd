package store_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// TestTxEdges covers how write transactions end: with no statement, with
// a failing first statement (on PostgreSQL it travels with BEGIN), rolled
// back after a write, by a panic, and cancelled midway. Each is repeated more often than
// the pool has connections, so a connection left inside a transaction or
// never released would make a later one fail or hang.
func TestTxEdges(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx, cancelAll := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancelAll()
		st := openStore(t, b, store.Config{MaxConns: 2})
		users := st.Schema().Lookup("users")
		newUser := func(id string) *schema.Record {
			return newRecord(users, map[string]any{"id": id, "email": id + "@example.com", "password": "x"})
		}
		exists := func(id string) bool {
			t.Helper()
			_, err := st.FindOne(ctx, users, id, nil)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil
		}
		if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, newUser("first0000000001")) }); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		for i := range 5 {
			if err := st.Tx(ctx, func(*store.Tx) error { return nil }); err != nil {
				t.Fatalf("empty tx %d: %v", i, err)
			}

			// A duplicate id fails the first statement: a field error.
			err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, newUser("first0000000001")) })
			var fe schema.Errors
			if !errors.As(err, &fe) {
				t.Fatalf("duplicate insert %d: want field errors, got %v", i, err)
			}

			// A write followed by an error is rolled back.
			id := "rolled000000000"[:14] + string(rune('a'+i))
			err = st.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.Insert(ctx, newUser(id)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("rollback %d: %v", i, err)
			}
			if exists(id) {
				t.Fatalf("rolled-back record %s exists", id)
			}

			// A panic inside the transaction (a hook's, say) rolls it back
			// and gives the connection back.
			id3 := "panics000000000"[:14] + string(rune('a'+i))
			func() {
				defer func() {
					if recover() == nil {
						t.Fatal("no panic")
					}
				}()
				st.Tx(ctx, func(tx *store.Tx) error {
					if err := tx.Insert(ctx, newUser(id3)); err != nil {
						return err
					}
					panic("hook")
				})
			}()
			if exists(id3) {
				t.Fatalf("record %s of a panicked tx exists", id3)
			}

			// A context cancelled after the first statement ends the
			// transaction without its second write.
			id2 := "cancel000000000"[:14] + string(rune('a'+i))
			cctx, cancel := context.WithCancel(ctx)
			err = st.Tx(cctx, func(tx *store.Tx) error {
				if err := tx.Insert(cctx, newUser(id2)); err != nil {
					return err
				}
				cancel()
				return tx.Insert(cctx, newUser(id2+"x"))
			})
			cancel()
			if err == nil {
				t.Fatalf("cancelled tx %d committed", i)
			}
			if exists(id2) || exists(id2+"x") {
				t.Fatalf("cancelled tx %d left records", i)
			}
		}
		if !exists("first0000000001") {
			t.Fatal("committed record missing")
		}

		// A failed statement whose error fn swallows: PostgreSQL has
		// aborted the transaction and answers COMMIT with a rollback,
		// which must surface as an error with nothing written. SQLite
		// keeps the transaction and commits the statements that worked.
		err := st.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.Insert(ctx, newUser("swallowed000001")); err != nil {
				return err
			}
			_ = tx.Insert(ctx, newUser("first0000000001")) // duplicate id
			return nil
		})
		if b.Name == "postgres" {
			if err == nil || exists("swallowed000001") {
				t.Fatalf("commit of an aborted transaction: err %v, record kept %v", err, exists("swallowed000001"))
			}
		} else if err != nil || !exists("swallowed000001") {
			t.Fatalf("SQLite commit after a failed statement: err %v", err)
		}
	})
}

// TestPostgresPoolSize: the pool defaults to max(8, 2 × CPUs) connections,
// and pool_max_conns in the URL wins over the default.
func TestPostgresPoolSize(t *testing.T) {
	t.Parallel()
	b := testenv.New(t, "postgres")
	st := openStore(t, b, store.Config{})
	if pool, _ := st.PoolStats(); pool.MaxOpenConnections != max(8, 2*runtime.GOMAXPROCS(0)) {
		t.Errorf("default pool size %d, want max(8, 2 × CPUs)", pool.MaxOpenConnections)
	}
	b.URL += "&pool_max_conns=3"
	st = openStore(t, b, store.Config{})
	if pool, _ := st.PoolStats(); pool.MaxOpenConnections != 3 {
		t.Errorf("pool size with pool_max_conns=3: %d", pool.MaxOpenConnections)
	}
}

// TestViewValueTypes reads a view whose columns are integers, numerics and
// booleans computed by the database, not stored by Plinth, so their values
// come back in the database's own types.
func TestViewValueTypes(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openStore(t, b, store.Config{})
		r := newRecord(st.Schema().Lookup("users"), map[string]any{"email": "abcd@example.com", "password": "x", "verified": true})
		if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, r) }); err != nil {
			t.Fatal(err)
		}
		q := `SELECT id, CAST(LENGTH(email) AS INTEGER) AS n, CAST(2.5 AS NUMERIC) AS x, verified AS v, email AS e FROM users`
		v, err := st.SaveCollection(ctx, &schema.Collection{Name: "user_stats", Type: schema.TypeView, ViewQuery: q, ListRule: new(string)})
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.List(ctx, store.ListQuery{Collection: v})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Fatalf("got %d rows", len(page.Items))
		}
		got := page.Items[0]
		wantN, wantX := any(16.0), any(2.5)
		if b.Name == "sqlite" {
			// SQLite declares no type for computed columns, so the view
			// makes them text fields.
			wantN, wantX = "16", "2.5"
		}
		if got.Get("n") != wantN || got.Get("x") != wantX || got.Get("v") != true || got.Get("e") != "abcd@example.com" {
			t.Fatalf("view row: n=%#v x=%#v v=%#v e=%#v", got.Get("n"), got.Get("x"), got.Get("v"), got.Get("e"))
		}
	})
}

// TestGroupCommitFailuresIsolated: transactions that queue for the writer
// while it is busy (on SQLite they share one commit) and where every other
// one fails — by returning an error after its write, by a failing
// statement, or by a panic — leave no trace of the failures, commit every
// survivor, and tell the commit listeners of survivors only, once each.
func TestGroupCommitFailuresIsolated(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx, cancelAll := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancelAll()
		st := openStore(t, b, store.Config{})
		users := st.Schema().Lookup("users")
		newUser := func(id string) *schema.Record {
			return newRecord(users, map[string]any{"id": id, "email": id + "@example.com", "password": "x"})
		}
		var mu sync.Mutex
		notified := map[string]int{}
		st.OnCommit(func(changes []store.Change) {
			mu.Lock()
			defer mu.Unlock()
			for _, ch := range changes {
				notified[ch.Record.ID()]++
			}
		})
		const n = 40
		id := func(i int) string { return fmt.Sprintf("group%010d", i) }
		boom := errors.New("boom")

		if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, newUser("groupexisting01")) }); err != nil {
			t.Fatal(err)
		}
		// The first transaction holds the writer until the others queue.
		held, release := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- st.Tx(ctx, func(tx *store.Tx) error {
				close(held)
				<-release
				return tx.Insert(ctx, newUser("groupholder0001"))
			})
		}()
		<-held
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				defer func() {
					if p := recover(); p != nil {
						errs[i] = fmt.Errorf("panic: %v", p)
					}
				}()
				errs[i] = st.Tx(ctx, func(tx *store.Tx) error {
					if err := tx.Insert(ctx, newUser(id(i))); err != nil {
						return err
					}
					switch i % 6 {
					case 1, 5:
						return boom
					case 3:
						if i%12 == 3 {
							panic("hook")
						}
						return tx.Insert(ctx, newUser("groupexisting01")) // a duplicate
					}
					return nil
				})
			})
		}
		time.Sleep(200 * time.Millisecond) // let them all queue
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		for i := range n {
			_, ferr := st.FindOne(ctx, users, id(i), nil)
			if i%2 == 0 {
				if errs[i] != nil || ferr != nil {
					t.Errorf("survivor %d: tx %v, find %v", i, errs[i], ferr)
				}
				if notified[id(i)] != 1 {
					t.Errorf("survivor %d notified %d times", i, notified[id(i)])
				}
				continue
			}
			if errs[i] == nil {
				t.Errorf("failure %d committed", i)
			}
			if !errors.Is(ferr, store.ErrNotFound) {
				t.Errorf("failure %d left its record: %v", i, ferr)
			}
			if notified[id(i)] != 0 {
				t.Errorf("failure %d notified", i)
			}
		}
		if b.Name == "sqlite" {
			commits, txs := st.CommitBatches()
			t.Logf("%d transactions in %d commits", txs, commits)
			if txs != n/2+2 || commits >= txs {
				t.Errorf("%d transactions in %d commits: want %d, batched", txs, commits, n/2+2)
			}
		}
	})
}

// TestInsertMissingRelationLast: on PostgreSQL an insert travels with the
// next statement or the COMMIT. One whose related record is missing, as
// the last write of a transaction that wrote before it, must fail the
// transaction with the field's error and commit none of it; alone, it
// must fail the same way.
func TestInsertMissingRelationLast(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openStore(t, b, store.Config{})
		users := st.Schema().Lookup("users")
		owner, _ := schema.NewField("relation", "owner")
		owner.Options.(*schema.RelationOptions).CollectionID = users.ID
		title, _ := schema.NewField("text", "title")
		notes, err := st.SaveCollection(ctx, &schema.Collection{Name: "notes", Type: schema.TypeBase, Fields: []*schema.Field{title, owner}})
		if err != nil {
			t.Fatal(err)
		}
		u := newRecord(users, map[string]any{"id": "relowner0000001", "email": "o@example.com", "password": "x"})
		if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, u) }); err != nil {
			t.Fatal(err)
		}
		note := func(id, owner string) *schema.Record {
			return newRecord(notes, map[string]any{"id": id, "title": id, "owner": owner})
		}
		exists := func(id string) bool {
			_, err := st.FindOne(ctx, notes, id, nil)
			return err == nil
		}
		missing := func(err error) bool {
			var fe schema.Errors
			if !errors.As(err, &fe) {
				return false
			}
			f, ok := fe["owner"].(*schema.FieldError)
			return ok && f.Code == "validation_missing_rel_records"
		}
		err = st.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.Insert(ctx, note("relfirst0000001", u.ID())); err != nil {
				return err
			}
			return tx.Insert(ctx, note("rellast00000001", "nosuchuser0001"))
		})
		if !missing(err) || exists("relfirst0000001") || exists("rellast00000001") {
			t.Fatalf("last insert with a missing relation: err %v, first kept %v", err, exists("relfirst0000001"))
		}
		err = st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, note("relalone0000001", "nosuchuser0001")) })
		if !missing(err) || exists("relalone0000001") {
			t.Fatalf("lone insert with a missing relation: %v", err)
		}
		err = st.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.Insert(ctx, note("relgood00000001", u.ID())); err != nil {
				return err
			}
			_, err := tx.FindOne(ctx, notes, "relgood00000001", nil) // reads its own write
			return err
		})
		if err != nil || !exists("relgood00000001") {
			t.Fatalf("insert then read: %v", err)
		}
	})
}
