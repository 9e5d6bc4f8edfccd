package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestIdleRSS measures the resident memory of Plinth and of PocketBase as a
// new user first meets them: each binary starts `serve` on a fresh data
// directory (embedded SQLite) and sits idle for 5 s after its health check
// answers. Then each, restarted on one of those directories with a
// superuser, takes a short load (record creates, then lists and views
// over loopback, 8 connections) and its RSS is read again, right after
// and 5 s later.
//
//	PLINTH_BENCH_MEMORY=1 go test -run TestIdleRSS -v ./bench
//
// Before each start the binary's pages are dropped from the page cache
// (after an fsync), so both servers start as an installed binary does
// after a reboot. The file-backed part of RSS (the executable's code and
// tables, most of an idle Go server's RSS) otherwise depends on how the
// file got into the cache: a binary just written by go build is mapped in
// larger pieces than one read back from disk, which made a fresh Plinth
// look 7 MiB bigger than the same file an hour later.
//
// The idle figure is the median of PLINTH_BENCH_ROUNDS starts (default
// 3); PLINTH_BENCH_MEM_CREATES and PLINTH_BENCH_MEM_READS size the load
// (default 3000 and 2000 of each read). PocketBase is the binary at
// PLINTH_POCKETBASE_BIN or $GOPATH/bin/base (go install
// github.com/pocketbase/pocketbase/examples/base@v0.36.8); without one the
// test skips. The report goes to results/memory-latest.md.
func TestIdleRSS(t *testing.T) {
	if os.Getenv("PLINTH_BENCH_MEMORY") != "1" {
		t.Skip("set PLINTH_BENCH_MEMORY=1 to measure idle and after-load RSS")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc (Linux) to read RSS")
	}
	pb, ok := testenv.PocketBaseBinary()
	if !ok {
		t.Skip("no PocketBase binary (PLINTH_POCKETBASE_BIN or $GOPATH/bin/base; go install github.com/pocketbase/pocketbase/examples/base@" + testenv.PocketBaseVersion + ")")
	}
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "plinth")
	if err := buildBinary(ctx, "..", "./cmd/plinth", bin, os.Stderr); err != nil {
		t.Fatal(err)
	}
	rounds := envInt("PLINTH_BENCH_ROUNDS", 3)
	load := memLoad{
		creates: envInt("PLINTH_BENCH_MEM_CREATES", 3000),
		reads:   envInt("PLINTH_BENCH_MEM_READS", 2000),
	}
	var out strings.Builder
	hi := hostInfo("..")
	out.WriteString("# Memory: idle and after-load RSS (SQLite, fresh data directory)\n\n")
	fmt.Fprintf(&out, "%s, commit %s, %d CPUs (%s), %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), hi.Commit, hi.CPUs, hi.CPUModel, runtime.Version())
	fmt.Fprintf(&out, "Idle: `serve --dir FRESH`, read 5 s after the health check answers, the binary dropped from the page cache before the start; median of %d starts. ", rounds)
	fmt.Fprintf(&out, "Load: restarted with a superuser, %d creates, then %d lists (perPage 50) and %d views, 8 connections; RSS read at once and 5 s later. ", load.creates, load.reads, load.reads)
	out.WriteString("Anon is the heap, stacks and SQLite's memory; file is the executable's mapped pages. MiB.\n\n")
	out.WriteString("| server | idle RSS | idle anon / file | after load | settled | peak (VmHWM) |\n|---|---:|---:|---:|---:|---:|\n")
	for _, s := range []struct{ name, bin string }{{"plinth", bin}, {"pocketbase", pb}} {
		var rss, anon, file []float64
		var dir string
		for range rounds {
			dir = t.TempDir()
			m := measureIdle(t, ctx, s.name, s.bin, dir)
			rss, anon, file = append(rss, m.rss), append(anon, m.anon), append(file, m.file)
		}
		after, settled := measureLoad(t, ctx, s.name, s.bin, dir, load)
		t.Logf("%-10s idle %v MiB (anon %v, file %v); after load %.1f, settled %.1f, peak %.1f",
			s.name, mibs(rss), mibs(anon), mibs(file), after.rss, settled.rss, settled.hwm)
		fmt.Fprintf(&out, "| %s | %.1f | %.1f / %.1f | %.1f | %.1f | %.1f |\n",
			s.name, median(rss), median(anon), median(file), after.rss, settled.rss, settled.hwm)
	}
	t.Log("\n" + out.String())
	if err := os.WriteFile(filepath.Join("results", "memory-latest.md"), []byte(out.String()), 0o644); err != nil {
		t.Error(err)
	}
}

// memLoad sizes the load phase of TestIdleRSS.
type memLoad struct{ creates, reads int }

// memSample is one reading of a process's memory, in MiB.
type memSample struct{ rss, anon, file, hwm float64 }

// readMemory reads VmRSS, RssAnon, RssFile and VmHWM of pid.
func readMemory(t *testing.T, pid int) memSample {
	t.Helper()
	var v [4]float64
	for i, key := range []string{"VmRSS", "RssAnon", "RssFile", "VmHWM"} {
		b, err := memStatus(pid, key)
		if err != nil {
			t.Fatal(err)
		}
		v[i] = float64(b) / (1 << 20)
	}
	return memSample{rss: v[0], anon: v[1], file: v[2], hwm: v[3]}
}

// idleWait is how long a server sits untouched before its RSS is read.
const idleWait = 5 * time.Second

// startCold starts `bin serve` on dir with its pages out of the page cache.
func startCold(t *testing.T, ctx context.Context, name, bin, dir string) *server {
	t.Helper()
	if err := dropPageCache(bin); err != nil {
		t.Logf("%s: page cache not dropped: %v", name, err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(ctx, name, bin, addr, filepath.Join(dir, "server.log"), []string{"PLINTH_RATE_LIMITS=off"}, time.Minute,
		"serve", "--http", addr, "--dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// measureIdle starts bin on the fresh directory dir and reads its RSS once
// it has been idle for idleWait.
func measureIdle(t *testing.T, ctx context.Context, name, bin, dir string) memSample {
	srv := startCold(t, ctx, name, bin, dir)
	defer srv.stop()
	time.Sleep(idleWait)
	return readMemory(t, srv.pid())
}

// measureLoad adds a superuser to dir, starts bin on it, runs the load and
// reads the RSS right after it and idleWait later.
func measureLoad(t *testing.T, ctx context.Context, name, bin, dir string, load memLoad) (after, settled memSample) {
	if _, err := runTool(ctx, nil, bin, "superuser", "upsert", superEmail, superPassword, "--dir", dir); err != nil {
		t.Fatal(err)
	}
	srv := startCold(t, ctx, name, bin, dir)
	defer srv.stop()
	runMemLoad(t, ctx, name, srv.baseURL, load)
	after = readMemory(t, srv.pid())
	time.Sleep(idleWait)
	return after, readMemory(t, srv.pid())
}

// runMemLoad makes a public collection, fills it with load.creates records
// and reads it load.reads times as pages of 50 and as single records.
func runMemLoad(t *testing.T, ctx context.Context, name, base string, load memLoad) {
	api := newAPIClient(base)
	su, err := api.login(ctx, "_superusers", superEmail, superPassword)
	if err != nil {
		t.Fatal(err)
	}
	api.token = su.Token
	if err := api.do(ctx, "POST", "/api/collections", map[string]any{
		"name": "posts", "type": "base", "listRule": "", "viewRule": "", "createRule": "",
		"fields": []map[string]any{{"name": "title", "type": "text"}, {"name": "body", "type": "text"}, {"name": "score", "type": "number"}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	records := base + "/api/collections/posts/records"
	var first struct{ ID string }
	if err := api.do(ctx, "POST", "/api/collections/posts/records", map[string]any{"title": "first", "score": 0}, &first); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("lorem ipsum dolor sit amet ", 20)
	create := func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		n := rng.IntN(1_000_000)
		js := `{"title":"post ` + strconv.Itoa(n) + `","body":"` + body + `","score":` + strconv.Itoa(n) + `}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, records, strings.NewReader(js))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}
	list := func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		return getUncached(ctx, records+"?perPage=50&sort=-score&page="+strconv.Itoa(1+rng.IntN(20)))
	}
	view := func(ctx context.Context, _ *rand.Rand) (*http.Request, error) {
		return getUncached(ctx, records+"/"+first.ID)
	}
	client := NewClient(8)
	for _, phase := range []struct {
		what string
		n    int
		gen  RequestFunc
	}{{"create", load.creates, create}, {"list", load.reads, list}, {"view", load.reads, view}} {
		res := RunLoad(ctx, client, LoadConfig{Concurrency: 8, Duration: 5 * time.Minute, MaxRequests: int64(phase.n)}, phase.gen)
		if res.Errors > 0 {
			t.Fatalf("%s %s: %d errors, first: %s", name, phase.what, res.Errors, res.FirstError)
		}
	}
	client.CloseIdleConnections()
}

// mibs rounds MiB figures to one decimal for the log.
func mibs(xs []float64) []float64 {
	r := make([]float64, len(xs))
	for i, x := range xs {
		r[i] = float64(int(x*10+0.5)) / 10
	}
	return r
}
