package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/backup"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
)

// TestBackupTiming times a backup of 100,000 records (six fields each) on
// each database and its restore into a fresh instance on each database,
// through the backup package that `plinth backup`, `plinth restore` and
// the backups API all use.
//
//	PLINTH_BENCH_BACKUP=1 go test -run TestBackupTiming -v ./bench
//
// PLINTH_BENCH_RECORDS changes the record count. The table goes to
// bench/results/backup-latest.md.
func TestBackupTiming(t *testing.T) {
	if os.Getenv("PLINTH_BENCH_BACKUP") != "1" {
		t.Skip("set PLINTH_BENCH_BACKUP=1 to time backups and restores")
	}
	n := envInt("PLINTH_BENCH_RECORDS", 100000)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(t *testing.T, kind string) *plinth.App {
		b := testenv.New(t, kind)
		app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		return app
	}
	var out strings.Builder
	hi := hostInfo("..")
	fmt.Fprintf(&out, "# Backup and restore of %d records\n\n%s, commit %s, %d CPUs, %s\n\n", n, time.Now().UTC().Format("2006-01-02 15:04 UTC"), hi.Commit, hi.CPUs, hi.CPUModel)
	out.WriteString("| from | archive | backup | restore into | restore | records after |\n|---|--:|--:|---|--:|--:|\n")
	kinds := []string{"sqlite", "postgres"}
	for _, from := range kinds {
		src := open(t, from)
		c := seedPosts(t, src, n)
		path := filepath.Join(t.TempDir(), "backup.zip")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := backup.Write(ctx, src.Store(), src.Files(), f, "bench"); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		f.Close()
		st, _ := os.Stat(path)
		for _, into := range kinds {
			dst := open(t, into)
			rf, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := backup.Restore(ctx, dst.Store(), dst.Files(), rf, st.Size()); err != nil {
				t.Fatal(err)
			}
			restored := time.Since(start)
			rf.Close()
			var count int
			if err := dst.Store().ReadDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.Name).Scan(&count); err != nil {
				t.Fatal(err)
			}
			if count != n {
				t.Errorf("%s → %s: %d records after the restore, want %d", from, into, count, n)
			}
			fmt.Fprintf(&out, "| %s | %.1f MB | %s | %s | %s | %d |\n", from, float64(st.Size())/1e6, took.Round(10*time.Millisecond), into, restored.Round(10*time.Millisecond), count)
		}
	}
	t.Log("\n" + out.String())
	if err := os.WriteFile(filepath.Join("results", "backup-latest.md"), []byte(out.String()), 0o644); err != nil {
		t.Error(err)
	}
}

// seedPosts creates the collection posts in app and fills it with n
// records straight through the store (no API, no rules): the set-up, not
// what is timed.
func seedPosts(t *testing.T, app *plinth.App, n int) *schema.Collection {
	t.Helper()
	ctx := context.Background()
	def := &schema.Collection{}
	if err := def.UnmarshalJSON([]byte(`{"name":"posts","type":"base","listRule":"","viewRule":"","fields":[
		{"name":"title","type":"text"},{"name":"body","type":"editor"},{"name":"score","type":"number"},
		{"name":"published","type":"bool"},{"name":"meta","type":"json"},{"name":"when","type":"date"},
		{"name":"created","type":"autodate","onCreate":true},{"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}]}`)); err != nil {
		t.Fatal(err)
	}
	c, err := app.Store().SaveCollection(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := make([]*schema.Record, n)
	for i := range recs {
		r := schema.NewRecord(c)
		at := base.Add(time.Duration(i) * time.Second).Format("2006-01-02 15:04:05.000Z")
		r.Set("id", fmt.Sprintf("p%014d", i))
		r.Set("title", fmt.Sprintf("Post number %d", i))
		r.Set("body", "<p>Some text of a post, long enough to look like one: lorem ipsum dolor sit amet.</p>")
		r.Set("score", float64(i%1000)/10)
		r.Set("published", i%2 == 0)
		r.Set("meta", map[string]any{"tags": []string{"a", "b"}, "n": i})
		r.Set("when", at)
		r.Set("created", at)
		r.Set("updated", at)
		recs[i] = r
	}
	start := time.Now()
	if err := app.Store().ImportRecords(ctx, c, recs); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d records in %s", n, time.Since(start).Round(time.Millisecond))
	return c
}
