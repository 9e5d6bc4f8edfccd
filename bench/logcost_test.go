package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestLogCost measures what the request log costs on the view scenario,
// for Plinth and for PocketBase: each server runs on SQLite and is driven
// over loopback viewing one record (8 connections), with the log on
// (logs.maxDays 5: every request stored) and off (maxDays 0), switched
// through PATCH /api/settings on the same running process. On and off
// alternate in rounds, in a different order each round, because this
// machine's speed drifts; the report is each server's median on÷off
// throughput ratio.
//
//	PLINTH_BENCH_LOGS=1 go test -run TestLogCost -v ./bench
//
// PocketBase is the binary at PLINTH_POCKETBASE_BIN or $GOPATH/bin/base
// (go install github.com/pocketbase/pocketbase/examples/base@v0.36.8);
// without one only Plinth is measured.
func TestLogCost(t *testing.T) {
	if os.Getenv("PLINTH_BENCH_LOGS") != "1" {
		t.Skip("set PLINTH_BENCH_LOGS=1 to measure the request log's cost")
	}
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "plinth")
	if err := buildBinary(ctx, "..", "./cmd/plinth", bin, os.Stderr); err != nil {
		t.Fatal(err)
	}
	servers := []struct{ name, bin string }{{"plinth", bin}}
	if pb, ok := testenv.PocketBaseBinary(); ok {
		servers = append(servers, struct{ name, bin string }{"pocketbase", pb})
	} else {
		t.Log("no PocketBase binary: measuring Plinth only")
	}
	rounds := envInt("PLINTH_BENCH_ROUNDS", 5)
	phase := time.Duration(envInt("PLINTH_BENCH_SECONDS", 3)) * time.Second
	var out strings.Builder
	fmt.Fprintf(&out, "# Request log cost (view, SQLite, 8 connections, %d rounds × %s per phase)\n\n", rounds, phase)
	hi := hostInfo("..")
	fmt.Fprintf(&out, "%s, commit %s, %d CPUs (%s), %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), hi.Commit, hi.CPUs, hi.CPUModel, runtime.Version())
	out.WriteString("| server | log on req/s | log off req/s | on ÷ off | cost |\n|---|---:|---:|---:|---:|\n")
	for _, s := range servers {
		on, off := measureLogCost(t, ctx, s.name, s.bin, rounds, phase)
		ratio := median(on) / median(off)
		t.Logf("%-10s on %v off %v", s.name, rounded(on), rounded(off))
		fmt.Fprintf(&out, "| %s | %.0f | %.0f | %.3f | %.1f%% |\n", s.name, median(on), median(off), ratio, 100*(1-ratio))
	}
	t.Log("\n" + out.String())
	if err := os.WriteFile(filepath.Join("results", "logs-latest.md"), []byte(out.String()), 0o644); err != nil {
		t.Error(err)
	}
}

// measureLogCost starts one server on a fresh SQLite directory, makes a
// public collection with one record, and returns the throughput of each
// round with the log on and off.
func measureLogCost(t *testing.T, ctx context.Context, name, bin string, rounds int, phase time.Duration) (on, off []float64) {
	dir := t.TempDir()
	if _, err := runTool(ctx, nil, bin, "superuser", "upsert", superEmail, superPassword, "--dir", dir); err != nil {
		t.Fatal(err)
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
	defer srv.stop()
	api := newAPIClient(srv.baseURL)
	su, err := api.login(ctx, "_superusers", superEmail, superPassword)
	if err != nil {
		t.Fatal(err)
	}
	api.token = su.Token
	if err := api.do(ctx, "POST", "/api/collections", map[string]any{
		"name": "posts", "type": "base", "listRule": "", "viewRule": "",
		"fields": []map[string]any{{"name": "title", "type": "text"}, {"name": "score", "type": "number"}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	var rec struct{ ID string }
	if err := api.do(ctx, "POST", "/api/collections/posts/records", map[string]any{"title": "hello", "score": 7}, &rec); err != nil {
		t.Fatal(err)
	}
	u := srv.baseURL + "/api/collections/posts/records/" + rec.ID
	// As the view scenario does: a fresh answer every time (Plinth's
	// public cache would otherwise answer from memory; PocketBase has none).
	gen := func(ctx context.Context, _ *rand.Rand) (*http.Request, error) {
		return getUncached(ctx, u)
	}
	client := NewClient(8)
	for i := range rounds {
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, logOn := range order {
			days := 0
			if logOn {
				days = 5
			}
			if err := api.do(ctx, "PATCH", "/api/settings", map[string]any{"logs": map[string]any{"maxDays": days, "minLevel": 0}}, nil); err != nil {
				t.Fatal(err)
			}
			res := RunLoad(ctx, client, LoadConfig{Concurrency: 8, Duration: phase, Warmup: phase / 4}, gen)
			if res.Errors > 0 {
				t.Fatalf("%s: %d errors, first: %s", name, res.Errors, res.FirstError)
			}
			if logOn {
				on = append(on, res.RPS)
			} else {
				off = append(off, res.RPS)
			}
		}
	}
	// The log really is written while on. Checked last, with the log on
	// again: PocketBase empties its log when maxDays goes to 0.
	if err := api.do(ctx, "PATCH", "/api/settings", map[string]any{"logs": map[string]any{"maxDays": 5}}, nil); err != nil {
		t.Fatal(err)
	}
	RunLoad(ctx, client, LoadConfig{Concurrency: 8, Duration: 300 * time.Millisecond}, gen)
	var logs struct {
		TotalItems int `json:"totalItems"`
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := api.do(ctx, "GET", "/api/logs?perPage=1&filter="+url.QueryEscape("data.url ~ '/api/collections/posts/records/'"), nil, &logs); err != nil {
			t.Fatal(err)
		}
		if logs.TotalItems > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no view request in the log with logging on", name)
		}
	}
	t.Logf("%s: %d view requests logged", name, logs.TotalItems)
	return on, off
}

func rounded(xs []float64) []int {
	r := make([]int, len(xs))
	for i, x := range xs {
		r[i] = int(x)
	}
	return r
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
