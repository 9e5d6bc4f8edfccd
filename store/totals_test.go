package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// TestTotalsCache: with CacheTotals, a filtered total is counted once per
// write generation and shared only by requests that bind the same values,
// so callers whose rules differ never see each other's totals, and any
// write through the store makes the next total exact. On PostgreSQL the
// cache is off and every total is a COUNT.
func TestTotalsCache(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openStore(t, b, store.Config{CacheTotals: true})
		var def schema.Collection
		if err := json.Unmarshal([]byte(`{"name": "posts", "type": "base", "fields": [
			{"name": "owner", "type": "text"}, {"name": "n", "type": "number"}]}`), &def); err != nil {
			t.Fatal(err)
		}
		posts, err := st.SaveCollection(ctx, &def)
		if err != nil {
			t.Fatal(err)
		}
		insert := func(owner string, n int) {
			t.Helper()
			r := newRecord(posts, map[string]any{"owner": owner, "n": float64(n)})
			if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, r) }); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 30 {
			insert([]string{"ann", "bob", "bob"}[i%3], i)
		}
		// total lists page 2 as the caller who, under the rule "owner is
		// the caller", with a filter the caller wrote.
		total := func(who, filterSrc string) int {
			t.Helper()
			page, err := st.List(ctx, store.ListQuery{
				Collection: posts, Filters: []string{"owner = @request.query.who"}, Filter: filterSrc,
				Request: &filter.RequestInfo{Query: map[string]string{"who": who}}, Page: 2, PerPage: 3,
			})
			if err != nil {
				t.Fatal(err)
			}
			return page.TotalItems
		}
		check := func(step string, want map[string]int) {
			t.Helper()
			for who, n := range want {
				if got := total(who, "n >= 6"); got != n {
					t.Fatalf("%s: total for %s = %d, want %d", step, who, got, n)
				}
			}
		}
		check("first count", map[string]int{"ann": 8, "bob": 16, "eve": 0})
		check("again", map[string]int{"ann": 8, "bob": 16, "eve": 0})

		// Concurrent lists of one total agree (on SQLite, one of them counts).
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() {
				page, err := st.List(ctx, store.ListQuery{Collection: posts, Filter: "n >= 29", Page: 2, PerPage: 3})
				if err == nil && page.TotalItems != 1 {
					err = fmt.Errorf("concurrent total = %d, want 1", page.TotalItems)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}

		// A row written behind the store's back (documented: CacheTotals
		// is for a store that is its database's only writer) is not seen
		// where a total is kept, which shows the total came from memory...
		raw := fmt.Sprintf(`INSERT INTO posts (id, owner, n) VALUES ('%s', 'ann', 100)`, schema.RandomString(15, "abcdefghijklmnopqrstuvwxyz0123456789"))
		if _, err := st.JobsDB().ExecContext(ctx, raw); err != nil {
			t.Fatal(err)
		}
		wantAnn := 9
		if b.Name == "sqlite" {
			wantAnn = 8
		}
		check("raw insert", map[string]int{"ann": wantAnn})
		// ...and any write through the store makes every total exact again.
		insert("bob", 50)
		check("store insert", map[string]int{"ann": 9, "bob": 17, "eve": 0})
	})
}
