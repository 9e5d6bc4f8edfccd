package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// TestListTotals: the total of a list stays exact through every kind of
// write (inserts, deletes, cascades, rolled back transactions, truncation,
// renames, a collection deleted and made again), whether it comes from the
// kept row count (unfiltered lists on SQLite) or from a COUNT (filtered).
// With CacheTotals, the filtered totals come from the totals cache where
// it is on (SQLite) and must stay just as exact.
func TestListTotals(t *testing.T) {
	t.Parallel()
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cacheTotals=%t", cached), func(t *testing.T) {
			t.Parallel()
			testListTotals(t, store.Config{CacheTotals: cached})
		})
	}
}

func testListTotals(t *testing.T, cfg store.Config) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openStore(t, b, cfg)
		save := func(def string) *schema.Collection {
			t.Helper()
			var c schema.Collection
			if err := json.Unmarshal([]byte(def), &c); err != nil {
				t.Fatal(err)
			}
			saved, err := st.SaveCollection(ctx, &c)
			if err != nil {
				t.Fatal(err)
			}
			return saved
		}
		posts := save(`{"name": "posts", "type": "base", "fields": [{"name": "n", "type": "number"}]}`)
		notes := save(`{"name": "notes", "type": "base", "fields": [
			{"name": "post", "type": "relation", "collectionId": "posts", "maxSelect": 1, "cascadeDelete": true}]}`)
		// total lists page 2 of 5 (so the page itself cannot tell the
		// total) with and without a filter, and checks both against want.
		total := func(step string, c *schema.Collection, want, wantFiltered int) {
			t.Helper()
			c = st.Schema().Lookup(c.ID)
			for _, q := range []struct {
				filter string
				want   int
			}{{"", want}, {"id != ''", want}, {"n >= 10", wantFiltered}} {
				if c.Field("n") == nil && q.filter == "n >= 10" {
					continue
				}
				page, err := st.List(ctx, store.ListQuery{Collection: c, Filter: q.filter, Page: 2, PerPage: 5})
				if err != nil {
					t.Fatalf("%s: list %q: %v", step, q.filter, err)
				}
				if page.TotalItems != q.want {
					t.Fatalf("%s: total of %s with filter %q = %d, want %d", step, c.Name, q.filter, page.TotalItems, q.want)
				}
			}
		}
		var ids []string
		insert := func(c *schema.Collection, values map[string]any) *schema.Record {
			t.Helper()
			r := newRecord(c, values)
			if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, r) }); err != nil {
				t.Fatal(err)
			}
			return r
		}
		for i := range 30 {
			ids = append(ids, insert(posts, map[string]any{"n": float64(i)}).ID())
		}
		total("inserted", posts, 30, 20)

		// A transaction that inserts and deletes, then fails, leaves no trace.
		boom := errors.New("boom")
		err := st.Tx(ctx, func(tx *store.Tx) error {
			for i := range 3 {
				if err := tx.Insert(ctx, newRecord(posts, map[string]any{"n": float64(100 + i)})); err != nil {
					return err
				}
			}
			first, err := tx.FindOne(ctx, posts, ids[0], nil)
			if err != nil {
				return err
			}
			if err := tx.Delete(ctx, first); err != nil {
				return err
			}
			// Inside, the transaction sees its own writes, filtered or not.
			for _, q := range []struct {
				filter string
				want   int
			}{{"", 32}, {"n >= 10", 23}} {
				page, err := tx.List(ctx, store.ListQuery{Collection: posts, Filter: q.filter, Page: 2, PerPage: 5})
				if err != nil {
					return err
				}
				if page.TotalItems != q.want {
					return fmt.Errorf("total with filter %q inside the transaction = %d, want %d", q.filter, page.TotalItems, q.want)
				}
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		total("rolled back", posts, 30, 20)

		// Deletes, with a cascade into notes.
		for _, id := range ids[:10] {
			insert(notes, map[string]any{"post": id})
		}
		insert(notes, map[string]any{"post": ids[20]})
		total("notes", notes, 11, 0)
		for _, id := range ids[:6] {
			err := st.Tx(ctx, func(tx *store.Tx) error {
				r, err := tx.FindOne(ctx, posts, id, nil)
				if err != nil {
					return err
				}
				return tx.Delete(ctx, r)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		total("deleted", posts, 24, 20)
		total("cascaded", notes, 5, 0)

		// A rename and a new field keep the count.
		var def map[string]any
		if err := json.Unmarshal([]byte(mustJSON(t, posts)), &def); err != nil {
			t.Fatal(err)
		}
		def["name"] = "articles"
		def["fields"] = append(def["fields"].([]any), map[string]any{"name": "title", "type": "text"})
		posts = save(mustJSON(t, def))
		total("renamed", posts, 24, 20)

		// Truncation, of a collection others point at (row by row) and of
		// one nothing points at (one statement).
		if err := st.Truncate(ctx, notes); err != nil {
			t.Fatal(err)
		}
		total("notes truncated", notes, 0, 0)
		if err := st.Truncate(ctx, posts); err != nil {
			t.Fatal(err)
		}
		total("truncated", posts, 0, 0)
		for i := range 12 {
			insert(posts, map[string]any{"n": float64(i)})
		}
		total("refilled", posts, 12, 2)

		// Deleted and made again under the same name: counted from zero.
		if err := st.DeleteCollection(ctx, st.Schema().Lookup(notes.ID)); err != nil {
			t.Fatal(err)
		}
		notes = save(`{"name": "notes", "type": "base", "fields": [{"name": "n", "type": "number"}]}`)
		for i := range 7 {
			insert(notes, map[string]any{"n": float64(i * 10)})
		}
		total("made again", notes, 7, 6)
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCollectionIDWithCapitals: a collection id may hold capitals (as
// PocketBase's `^\w+$` allows); creating, importing and replacing such a
// collection keeps its row count like any other (they were refused with
// a plain error, a 500, by checks meant for record ids).
func TestCollectionIDWithCapitals(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openStore(t, b, store.Config{})
		coll := func(id, name string) *schema.Collection {
			var c schema.Collection
			def := fmt.Sprintf(`{"id": %q, "name": %q, "type": "base", "fields": [{"name": "n", "type": "number"}]}`, id, name)
			if err := json.Unmarshal([]byte(def), &c); err != nil {
				t.Fatal(err)
			}
			return &c
		}
		created, err := st.SaveCollection(ctx, coll("Posts_ID1", "posts"))
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if created.ID != "Posts_ID1" {
			t.Fatalf("id %q", created.ID)
		}
		if err := st.ImportCollections(ctx, []*schema.Collection{coll("Notes_ID2", "notes")}, false); err != nil {
			t.Fatalf("import: %v", err)
		}
		for _, id := range []string{"Posts_ID1", "Notes_ID2"} {
			c := st.Schema().Lookup(id)
			if c == nil {
				t.Fatalf("%s not in the schema", id)
			}
			if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, newRecord(c, map[string]any{"n": 1})) }); err != nil {
				t.Fatalf("insert into %s: %v", c.Name, err)
			}
			page, err := st.List(ctx, store.ListQuery{Collection: c, Page: 1, PerPage: 5})
			if err != nil || page.TotalItems != 1 {
				t.Fatalf("list %s: total %v, err %v", c.Name, page, err)
			}
		}
		// A restore replaces the schema with the archive's collections.
		err = st.Replace(ctx, []*schema.Collection{coll("Restored_ID3", "restored")}, func(r *store.Replacement) error {
			c := r.Collection("Restored_ID3")
			if c == nil {
				return errors.New("not in the replacement")
			}
			return r.Records(ctx, c, []*schema.Record{newRecord(c, map[string]any{"n": 2})})
		})
		if err != nil {
			t.Fatalf("replace: %v", err)
		}
		c := st.Schema().Lookup("Restored_ID3")
		if c == nil || st.Schema().Lookup("Posts_ID1") != nil {
			t.Fatal("the schema was not replaced")
		}
		if page, err := st.List(ctx, store.ListQuery{Collection: c, Page: 1, PerPage: 5}); err != nil || page.TotalItems != 1 {
			t.Fatalf("list restored: total %v, err %v", page, err)
		}
	})
}
