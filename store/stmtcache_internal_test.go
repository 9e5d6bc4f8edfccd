package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

func openSQLiteStore(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Config{Dir: testenv.New(t, "sqlite").Dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// readOne runs query through the reader cache and reads its one row.
func readOne(t *testing.T, s *Store, query string, args ...any) {
	t.Helper()
	rs, err := s.queryRead(context.Background(), query, args...)
	if err != nil {
		t.Error(err)
		return
	}
	defer rs.Close()
	for rs.Next() {
	}
	if err := rs.Err(); err != nil {
		t.Error(err)
	}
}

// TestStmtCacheBounded checks that client-shaped SQL cannot fill the
// statement cache: it stays at its cap, the texts in use stay prepared, and
// a new text is still prepared once the cache is full (issue 12, item 9).
func TestStmtCacheBounded(t *testing.T) {
	t.Parallel()
	s := openSQLiteStore(t)
	const hot = "SELECT 'hot' WHERE 1 = ?"
	for i := range defaultMaxStmts * 3 / 2 {
		readOne(t, s, fmt.Sprintf("SELECT %d WHERE 1 = ?", i), 1)
		if i%50 == 0 {
			readOne(t, s, hot, 1)
		}
	}
	if n := s.stmts.len(); n != defaultMaxStmts {
		t.Errorf("cache holds %d statements, want the cap %d", n, defaultMaxStmts)
	}
	if e := s.stmts.acquire(hot); e == nil {
		t.Error("the statement in use was evicted")
	} else {
		s.stmts.release(e)
	}
	if e := s.stmts.acquire("SELECT 0 WHERE 1 = ?"); e != nil {
		t.Error("the oldest unused statement was kept")
		s.stmts.release(e)
	}
	fresh := "SELECT 'fresh' WHERE 1 = ?"
	readOne(t, s, fresh, 1)
	if e := s.stmts.acquire(fresh); e == nil {
		t.Error("a new text is not prepared once the cache is full")
	} else {
		s.stmts.release(e)
	}
	long := fmt.Sprintf("SELECT '%0*d' WHERE 1 = ?", maxCachedQuery, 0)
	readOne(t, s, long, 1)
	if e := s.stmts.acquire(long); e != nil {
		t.Error("a text longer than maxCachedQuery was cached")
		s.stmts.release(e)
	}
}

// TestStmtCacheEvictionUnderLoad evicts statements while other goroutines
// read through them and write through the writer's cache: no call may fail
// on a statement closed under it (run with -race).
func TestStmtCacheEvictionUnderLoad(t *testing.T) {
	t.Parallel()
	s := openSQLiteStore(t)
	s.stmts.max, s.writeStmts.max = 4, 2
	ctx := context.Background()
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE t (k INTEGER)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 150 {
				readOne(t, s, fmt.Sprintf("SELECT %d, k FROM t WHERE k >= ?", (g+i)%16), 0)
			}
		}()
	}
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				err := s.Tx(ctx, func(tx *Tx) error {
					_, err := tx.exec(ctx, fmt.Sprintf("INSERT INTO t (k) VALUES (? + %d)", (g+i)%5), i)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := s.stmts.len(); n > 4 {
		t.Errorf("reader cache holds %d statements, cap 4", n)
	}
	if n := s.writeStmts.len(); n > 2 {
		t.Errorf("writer cache holds %d statements, cap 2", n)
	}
}
