package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"syscall"
	"testing"
	"time"
)

func TestAppLogTee(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := OpenSQLite(ctx, t.TempDir(), Config{FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	log := slog.New(NewHandler(slog.NewTextHandler(&out, nil), st, slog.LevelInfo))
	log.With("component", "mail").WithGroup("smtp").Error("send failed", "err", errors.New("boom"), "attempt", 2)
	log.Debug("not kept")
	st.Close() // flushes
	if !bytes.Contains(out.Bytes(), []byte("send failed")) {
		t.Errorf("the wrapped handler did not get the record: %s", out.String())
	}
	st2, err := OpenSQLite(ctx, filepathDir(t, st), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	items, total, err := st2.List(ctx, ListParams{Filter: `data.type = "app"`})
	if err != nil || total != 1 {
		t.Fatalf("app entries: %d %v", total, err)
	}
	e := items[0]
	if e.Level != 8 || e.Message != "send failed" || e.Data["component"] != "mail" || e.Data["smtp.err"] != "boom" || e.Data["smtp.attempt"] != float64(2) {
		t.Errorf("entry %+v", e)
	}
}

func filepathDir(t *testing.T, st *Store) string {
	t.Helper()
	var path string
	if err := st.db.QueryRow("PRAGMA database_list").Scan(new(int), new(string), &path); err == nil {
		return path[:len(path)-len("/auxiliary.db")]
	}
	t.Skip("database path unknown")
	return ""
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/api/health":                            "/api/health",
		"/api/files/a/b/c.png?thumb=10x10":       "/api/files/a/b/c.png?thumb=10x10",
		"/api/files/a/b/c.png?token=abc&thumb=1": "/api/files/a/b/c.png?thumb=1&token=%2A%2A%2A",
		"/api/oauth2-redirect?code=xyz&state=s1": "/api/oauth2-redirect?code=%2A%2A%2A&state=%2A%2A%2A",
		"/api/backups/x.zip?Token=abc":           "/api/backups/x.zip?Token=%2A%2A%2A",
	} {
		u, _ := url.Parse(in)
		if got := RedactURL(u); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAddAfterClose: the application's log may still write while the
// store closes; that must not panic.
func TestAddAfterClose(t *testing.T) {
	t.Parallel()
	st, err := OpenSQLite(context.Background(), t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10000 {
			st.Add(Entry{Message: "late"})
		}
	}()
	st.Close()
	<-done
	st.Add(Entry{Message: "after"})
}

func TestNewIDSortsInTimeOrder(t *testing.T) {
	base := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 1000 {
		id := newID(base.Add(time.Duration(i) * time.Microsecond))
		if len(id) != 15 || id <= prev {
			t.Fatalf("id %q after %q", id, prev)
		}
		if want := fmt.Sprintf("%013x", base.Add(time.Duration(i)*time.Microsecond).UnixMicro()); id[:13] != want {
			t.Fatalf("id %q, want prefix %q", id, want)
		}
		prev = id
	}
}

// BenchmarkInsert is the writer's cost per entry on SQLite: batches of 500
// request entries as the request log makes them.
func BenchmarkInsert(b *testing.B) {
	st, err := OpenSQLite(context.Background(), b.TempDir(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	data := []byte(`{"type":"request","status":200,"method":"GET","url":"/api/collections/posts/records/abcdefghijklmno","execTime":0.412,"auth":"","referer":"","userAgent":"Go-http-client/1.1","userIP":"127.0.0.1","remoteIP":"127.0.0.1:51234"}`)
	batch := make([]Entry, 500)
	b.ReportAllocs()
	n := 0
	cpu0 := processCPU()
	for b.Loop() {
		now := time.Now()
		for i := range batch {
			batch[i] = Entry{ID: newID(now.Add(time.Duration(i) * time.Microsecond)), Created: "2026-12-04 18:00:00.000Z", Message: "GET /api/collections/posts/records/abcdefghijklmno", RawData: data}
		}
		if err := st.insert(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/entry")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
