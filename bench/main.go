// Command bench measures Plinth against a bare net/http + database/sql
// baseline on SQLite and PostgreSQL.
//
//	go run ./bench            # full run: 10k and 100k rows, both databases
//	go run ./bench --smoke    # CI: 10k rows, about a second per scenario
//	go run ./bench --profile list_total
//	go run ./bench --scale --db sqlite   # scale curve: 10k, 100k, 1M rows
//
// It builds ./cmd/plinth and ./bench/baseline, starts both on loopback over
// the same data, drives every scenario with its own load generator and
// writes a markdown table, JSON and an SVG chart to bench/results/<timestamp>/
// (copied to bench/results/latest.*; with --scale, the scale curve is
// copied to bench/results/scale.* instead). A target miss is reported, never
// turned into a non-zero exit. See docs/benchmarks.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	if u := os.Getenv(createTimerEnv); u != "" {
		os.Exit(runCreateTimer(u, os.Stdin, os.Stdout)) // a helper of the realtime scenario
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run is the whole program; it returns an error only when the harness
// itself cannot work (bad flags, no baseline, unwritable results).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	started := time.Now()
	outDir := filepath.Join(cfg.OutDir, started.UTC().Format("20060102-150405"))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	h := &harness{cfg: cfg, outDir: outDir, log: stderr, rep: newReport(cfg, started)}

	binDir, err := os.MkdirTemp("", "plinth-bench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	if h.bins, err = buildAll(ctx, cfg, binDir, outDir); err != nil {
		return err
	}
	if h.bins.plinth == "" {
		h.logf("Plinth unavailable (%s); measuring the baseline alone", oneLine(h.bins.plinthErr))
		h.rep.Notes = append(h.rep.Notes, "Plinth did not build: "+oneLine(h.bins.plinthErr))
	}

	for _, db := range cfg.DBs {
		t0 := time.Now()
		if err := h.runDatabase(ctx, db); err != nil {
			h.logf("%s: run aborted: %v", db, err)
			h.rep.Notes = append(h.rep.Notes, fmt.Sprintf("%s: run aborted: %s", db, oneLine(err.Error())))
		}
		h.logf("%s: done in %s", db, time.Since(t0).Round(time.Second))
		if ctx.Err() != nil {
			break
		}
	}
	h.rep.Finished = time.Now()
	if err := writeResults(h.rep, outDir); err != nil {
		return err
	}
	if cfg.Scale {
		md, _ := os.ReadFile(filepath.Join(outDir, "scale.md"))
		stdout.Write(md)
		fmt.Fprintf(stdout, "\nResults: %s (scale curve copied to %s)\n", outDir, filepath.Join(cfg.OutDir, "scale.{md,json,svg}"))
		return nil
	}
	md, _ := os.ReadFile(filepath.Join(outDir, "results.md"))
	stdout.Write(md)
	fmt.Fprintf(stdout, "\nResults: %s (copied to %s)\n", outDir, filepath.Join(cfg.OutDir, "latest.{md,json,svg}"))
	return nil
}

// buildAll builds the baseline (required) and Plinth (optional: a build
// failure is recorded and the run goes on with the baseline alone).
func buildAll(ctx context.Context, cfg Config, binDir, outDir string) (binaries, error) {
	var bins binaries
	bins.baseline = filepath.Join(binDir, "baseline")
	if err := buildBinary(ctx, cfg.Root, "./bench/baseline", bins.baseline, os.Stderr); err != nil {
		return bins, err
	}
	if cfg.PlinthBin != "" {
		bins.plinth = cfg.PlinthBin
		return bins, nil
	}
	var buildLog strings.Builder
	bin := filepath.Join(binDir, "plinth")
	if err := buildBinary(ctx, cfg.Root, "./cmd/plinth", bin, &buildLog); err != nil {
		bins.plinthErr = strings.TrimSpace(buildLog.String())
		if bins.plinthErr == "" {
			bins.plinthErr = err.Error()
		}
		os.WriteFile(filepath.Join(outDir, "plinth-build.log"), []byte(buildLog.String()), 0o644)
		return bins, nil
	}
	bins.plinth = bin
	return bins, nil
}

func newReport(cfg Config, started time.Time) *Report {
	rep := &Report{Started: started, Host: hostInfo(cfg.Root)}
	c := &rep.Config
	c.DBs, c.Rows, c.Users, c.Smoke, c.Profile = cfg.DBs, cfg.Rows, cfg.Users, cfg.Smoke, cfg.Profile
	c.Concurrency, c.MaxRequests = cfg.Load.Concurrency, cfg.Load.MaxRequests
	c.Duration, c.Warmup = cfg.Load.Duration.String(), cfg.Warmup.String()
	c.RTSubscribers, c.RTEvents = cfg.RTSubscribers, cfg.RTEvents
	c.Scale, c.Rounds = cfg.Scale, cfg.Rounds
	rep.Notes = []string{"Load generator, Plinth and baseline share the machine's CPUs; compare ratios, not absolute figures."}
	return rep
}

// hostInfo describes the machine and the checked-out commit.
func hostInfo(root string) HostInfo {
	hi := HostInfo{GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				hi.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		hi.Commit = strings.TrimSpace(string(out))
	}
	return hi
}
