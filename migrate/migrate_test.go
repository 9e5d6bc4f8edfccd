package migrate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/migrate"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

func open(t *testing.T, b testenv.Backend) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{Dir: b.Dir, URL: b.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func collection(t *testing.T, src string) *schema.Collection {
	t.Helper()
	c := &schema.Collection{}
	if err := json.Unmarshal([]byte(src), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// appCollections is the JSON of the non-system collections of st, by id.
func appCollections(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range st.Schema().Collections() {
		if c.System {
			continue
		}
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		// The definition, without when it was made.
		var m map[string]any
		json.Unmarshal(data, &m)
		delete(m, "created")
		delete(m, "updated")
		data, _ = json.Marshal(m)
		out[c.ID] = string(data)
	}
	return out
}

// TestAutomigrateReplays records every collection change as a migration
// file, then checks that a fresh database brought up with those files has
// exactly the same collections, and that down reverts them one by one.
func TestAutomigrateReplays(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		dir := t.TempDir()
		src := open(t, b)
		rec := &migrate.Runner{Store: src, Dir: dir}
		src.OnCollectionChange(func(ctx context.Context, old, c *schema.Collection) {
			if _, err := rec.Record(ctx, old, c); err != nil {
				t.Error(err)
			}
		})
		posts, err := src.SaveCollection(ctx, collection(t, `{"name":"posts","listRule":"","fields":[{"name":"title","type":"text","required":true}]}`))
		if err != nil {
			t.Fatal(err)
		}
		posts.Fields = append(posts.Fields, collection(t, `{"name":"x","fields":[{"name":"views","type":"number"}]}`).Fields...)
		posts.Indexes = []string{"CREATE INDEX idx_posts_views ON posts (views)"}
		if _, err := src.SaveCollection(ctx, posts); err != nil {
			t.Fatal(err)
		}
		if _, err := src.SaveCollection(ctx, collection(t, `{"name":"comments","fields":[{"name":"body","type":"text"},
			{"name":"post","type":"relation","collectionId":"`+posts.ID+`","maxSelect":1,"cascadeDelete":true}]}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := src.SaveCollection(ctx, collection(t, `{"name":"scratch","fields":[{"name":"n","type":"number"}]}`)); err != nil {
			t.Fatal(err)
		}
		if err := src.DeleteCollection(ctx, src.Schema().Lookup("scratch")); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) != 5 {
			t.Fatalf("%d migration files, want 5: %v", len(files), files)
		}
		// The source database has them all applied already.
		if done, err := rec.Up(ctx); err != nil || len(done) != 0 {
			t.Fatalf("up on the source: %v %v", done, err)
		}

		fresh := open(t, testenv.New(t, b.Name))
		run := &migrate.Runner{Store: fresh, Dir: dir}
		done, err := run.Up(ctx)
		if err != nil || len(done) != 5 {
			t.Fatalf("up on a fresh database: %v %v", done, err)
		}
		want, got := appCollections(t, src), appCollections(t, fresh)
		if len(got) != len(want) {
			t.Fatalf("fresh database has %d collections, want %d", len(got), len(want))
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("collection %s differs:\n got %s\nwant %s", id, got[id], w)
			}
		}
		// Down reverts the newest first: the delete of scratch, then its create.
		if done, err := run.Down(ctx, 1); err != nil || len(done) != 1 || !strings.Contains(done[0], "deleted_scratch") {
			t.Fatalf("down 1: %v %v", done, err)
		}
		if fresh.Schema().Lookup("scratch") == nil {
			t.Error("reverting the delete did not bring scratch back")
		}
		if done, err := run.Down(ctx, 3); err != nil || len(done) != 3 {
			t.Fatalf("down 3: %v %v", done, err)
		}
		if fresh.Schema().Lookup("comments") != nil || fresh.Schema().Lookup("scratch") != nil || fresh.Schema().Lookup("posts").Field("views") != nil {
			t.Error("down 3 left later changes behind")
		}
		status, err := run.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		applied := 0
		for _, s := range status {
			if s.Applied {
				applied++
			}
		}
		if len(status) != 5 || applied != 1 {
			t.Errorf("status: %d migrations, %d applied; want 5, 1", len(status), applied)
		}
	})
}

// TestUpOnceAcrossInstances starts two instances on one fresh database at
// the same time: every migration is applied exactly once, and a failing
// migration leaves nothing of itself behind.
func TestUpOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		dir := t.TempDir()
		write := func(name, content string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("1700000001_tags.json", `{"up":[{"save":{"id":"pbc_tags00001","name":"tags","type":"base","fields":[{"name":"name","type":"text"}]}}],"down":[{"delete":"tags"}]}`)
		write("1700000002_seed.json", `{"up":[{"sql":"INSERT INTO tags (id, name) VALUES ('t1', 'go')"}],"down":[{"sql":"DELETE FROM tags WHERE id = 't1'"}]}`)
		a, c := open(t, b), open(t, b)
		var wg sync.WaitGroup
		var doneA, doneC []string
		var errA, errC error
		wg.Go(func() { doneA, errA = (&migrate.Runner{Store: a, Dir: dir}).Up(ctx) })
		wg.Go(func() { doneC, errC = (&migrate.Runner{Store: c, Dir: dir}).Up(ctx) })
		wg.Wait()
		if errA != nil || errC != nil {
			t.Fatalf("up: %v / %v", errA, errC)
		}
		if len(doneA)+len(doneC) != 2 {
			t.Fatalf("applied %v and %v: want each migration once", doneA, doneC)
		}
		if err := c.ReloadSchema(ctx); err != nil {
			t.Fatal(err)
		}
		page, err := c.List(ctx, store.ListQuery{Collection: c.Schema().Lookup("tags")})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("seeded rows: %v %v", page, err)
		}
		// A migration whose second step fails applies nothing.
		write("1700000003_bad.json", `{"up":[{"save":{"name":"half","type":"base","fields":[]}},{"sql":"INSERT INTO nowhere VALUES (1)"}],"down":[]}`)
		if _, err := (&migrate.Runner{Store: a, Dir: dir}).Up(ctx); err == nil {
			t.Fatal("a failing migration reported success")
		}
		if a.Schema().Lookup("half") != nil {
			t.Error("the failed migration's first step stayed")
		}
		if st, _ := (&migrate.Runner{Store: a, Dir: dir}).Status(ctx); len(st) != 3 || st[2].Applied {
			t.Errorf("status after the failure: %+v", st)
		}
		// Files that are not migrations are refused with a clear error.
		write("1700000004_typo.json", `{"up":[{"sav":{}}],"down":[]}`)
		os.Remove(filepath.Join(dir, "1700000003_bad.json"))
		if _, err := (&migrate.Runner{Store: a, Dir: dir}).Up(ctx); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("typo: %v", err)
		}
	})
}
