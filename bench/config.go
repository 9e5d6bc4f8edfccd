package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the harness configuration, filled from flags.
type Config struct {
	// DBs are the databases to run on, in order; default sqlite,postgres.
	DBs []string
	// PGURL is the PostgreSQL admin URL used to create and drop the
	// per-run database; default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
	PGURL string
	// Rows are the posts sizes to seed and measure, ascending; default
	// 10000,100000 (smoke: 10000).
	Rows []int
	// Users is the number of users created through Plinth; default 200
	// (smoke: 20).
	Users int
	// Tokens is how many of them log in for the owner-rule and refresh
	// scenarios; default 20.
	Tokens int
	// Load bounds each scenario's run on each server.
	Load LoadConfig
	// Warmup runs before each measured phase; default 1s (smoke: 200ms).
	Warmup time.Duration
	// Scenarios restricts the run to these names; empty runs all.
	Scenarios map[string]bool
	// Profile names the scenario during which Plinth's CPU profile is taken.
	Profile string
	// Smoke selects the short CI mode.
	Smoke bool
	// OutDir is where results/<timestamp>/ goes; default <module>/bench/results.
	OutDir string
	// PlinthBin is a prebuilt Plinth binary; empty builds ./cmd/plinth.
	PlinthBin string
	// Root is the module root (found from the working directory).
	Root string
	// Keep leaves the temporary data directories in place.
	Keep bool
	// RTSubscribers is the number of realtime subscribers of the
	// realtime_fanout scenario; default 10000 (smoke: 200).
	RTSubscribers int
	// RTEvents is the number of events fanned out to them; default 20
	// (smoke: 5).
	RTEvents int
	// Scale selects the scale-curve mode: the default rows become
	// 10000,100000,1000000 and the default scenarios scaleScenarioNames, and
	// the results are scale.{md,svg,json} instead of latest.*.
	Scale bool
	// Rounds is how many times each scenario is measured at each size (on
	// each server, alternating); the scale curve takes the median. Default
	// 1 (scale: 3).
	Rounds int
}

// parseConfig reads flags; --smoke changes the defaults of flags not given.
func parseConfig(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg         Config
		dbs, rows   string
		scen        string
		concurrency int
		duration    time.Duration
		maxReq      int64
	)
	fs.StringVar(&dbs, "db", "sqlite,postgres", "comma list of databases: sqlite, postgres")
	fs.StringVar(&cfg.PGURL, "pg-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin URL (a fresh database is created and dropped)")
	fs.StringVar(&rows, "rows", "10000,100000", "comma list of posts row counts, ascending")
	fs.IntVar(&cfg.Users, "users", 200, "users created through Plinth's API")
	fs.IntVar(&cfg.Tokens, "tokens", 20, "users logged in for owner-rule and refresh scenarios")
	fs.IntVar(&concurrency, "concurrency", 8, "concurrent keep-alive connections per scenario")
	fs.DurationVar(&duration, "duration", 5*time.Second, "measured time per scenario per server")
	fs.Int64Var(&maxReq, "max-requests", 200000, "measured request cap per scenario per server (0: none)")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "unrecorded warm-up per scenario per server")
	fs.StringVar(&scen, "scenarios", "", "comma list of scenarios to run (default all)")
	fs.StringVar(&cfg.Profile, "profile", "", "scenario during which to capture Plinth's CPU profile")
	fs.BoolVar(&cfg.Smoke, "smoke", false, "short CI run: 10k rows, ~1s per scenario")
	fs.StringVar(&cfg.OutDir, "out", "", "results directory (default <module>/bench/results)")
	fs.StringVar(&cfg.PlinthBin, "plinth-bin", "", "use this Plinth binary instead of building ./cmd/plinth")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep temporary data directories")
	fs.IntVar(&cfg.RTSubscribers, "rt-subscribers", 10000, "realtime subscribers held open in realtime_fanout (per transport)")
	fs.IntVar(&cfg.RTEvents, "rt-events", 20, "events fanned out to them, one at a time")
	fs.BoolVar(&cfg.Scale, "scale", false, "scale curve: rows 10000,100000,1000000 and scenarios "+strings.Join(scaleScenarioNames(), ",")+
		" unless given; writes the cost per request relative to the smallest size to scale.{md,svg,json} (latest.* are left alone)")
	fs.IntVar(&cfg.Rounds, "rounds", 1, "measured rounds per scenario and size, and runs of realtime_fanout per transport (the scale curve takes the median; --scale default: 3)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.Smoke {
		smoke := map[string]string{"rows": "10000", "users": "20", "tokens": "10", "concurrency": "4",
			"duration": "700ms", "warmup": "150ms", "max-requests": "20000",
			"rt-subscribers": "200", "rt-events": "5"}
		for name, v := range smoke {
			if !set[name] {
				fs.Set(name, v)
			}
		}
	}
	if cfg.Scale {
		scale := map[string]string{"rows": "10000,100000,1000000", "scenarios": strings.Join(scaleScenarioNames(), ","), "rounds": "3"}
		for name, v := range scale {
			if !set[name] {
				fs.Set(name, v)
			}
		}
	}
	cfg.Load = LoadConfig{Concurrency: concurrency, Duration: duration, MaxRequests: maxReq}

	for _, d := range splitList(dbs) {
		if d != "sqlite" && d != "postgres" {
			return cfg, fmt.Errorf("--db: unknown database %q", d)
		}
		cfg.DBs = append(cfg.DBs, d)
	}
	for _, r := range splitList(rows) {
		n, err := strconv.Atoi(strings.ReplaceAll(r, "_", ""))
		if err != nil || n <= 0 {
			return cfg, fmt.Errorf("--rows: bad count %q", r)
		}
		if len(cfg.Rows) > 0 && n < cfg.Rows[len(cfg.Rows)-1] {
			return cfg, errors.New("--rows must be ascending (tables are topped up)")
		}
		cfg.Rows = append(cfg.Rows, n)
	}
	known := map[string]bool{}
	for _, s := range scenarios() {
		known[s.Name] = true
	}
	if scen != "" {
		cfg.Scenarios = map[string]bool{}
		for _, s := range splitList(scen) {
			if !known[s] {
				return cfg, fmt.Errorf("--scenarios: unknown scenario %q", s)
			}
			cfg.Scenarios[s] = true
		}
	}
	if cfg.Profile != "" && !known[cfg.Profile] {
		return cfg, fmt.Errorf("--profile: unknown scenario %q", cfg.Profile)
	}
	if cfg.Users < 1 || cfg.Tokens < 1 || concurrency < 1 || cfg.RTSubscribers < 1 || cfg.RTEvents < 1 || cfg.Rounds < 1 {
		return cfg, errors.New("--users, --tokens, --concurrency, --rt-subscribers, --rt-events and --rounds must be at least 1")
	}
	root, err := moduleRoot()
	if err != nil {
		return cfg, err
	}
	cfg.Root = root
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join(root, "bench", "results")
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// moduleRoot walks up from the working directory to the go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
