package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Measure is one server's figures for one scenario.
type Measure struct {
	// Unavailable says why the scenario could not run on this server
	// (request, status and body of the failed probe); empty when it ran.
	Unavailable string     `json:"unavailable,omitempty"`
	Load        LoadResult `json:"load"`
	Proc        ProcSample `json:"proc"`
}

// ran reports whether m holds measured figures.
func (m *Measure) ran() bool { return m != nil && m.Unavailable == "" && m.Load.Requests > 0 }

// Row is one scenario at one database and size.
type Row struct {
	DB       string   `json:"db"`
	Rows     int      `json:"rows"`
	Scenario string   `json:"scenario"`
	Kind     Kind     `json:"kind"`
	Desc     string   `json:"desc"`
	Plinth   *Measure `json:"plinth,omitempty"`
	Baseline *Measure `json:"baseline,omitempty"`
	// ThroughputRatio is Plinth req/s over baseline req/s (higher is better).
	ThroughputRatio float64 `json:"throughput_ratio,omitempty"`
	// P50Ratio and P99Ratio are Plinth latency over baseline latency
	// (lower is better).
	P50Ratio float64 `json:"p50_ratio,omitempty"`
	P99Ratio float64 `json:"p99_ratio,omitempty"`
	// Target is the rule the row is judged by; Verdict is PASS, MISS,
	// unavailable or pending.
	Target  string `json:"target"`
	Verdict string `json:"verdict"`
	// Shape is "same" when both servers' JSON has the same structure,
	// otherwise the first difference.
	Shape string `json:"shape,omitempty"`
	Note  string `json:"note,omitempty"`
	// Round numbers the repeated measurements of one scenario and size
	// (1-based) when --rounds is above 1; 0 otherwise.
	Round int `json:"round,omitempty"`
}

// SeedTiming is how long topping both seeded tables up to Rows took.
type SeedTiming struct {
	DB   string `json:"db"`
	Rows int    `json:"rows"`
	// Seconds covers both tables (posts and owned_posts), ANALYZE included.
	Seconds float64 `json:"seconds"`
}

// Report is the whole run, written as results.json.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Host     HostInfo  `json:"host"`
	Config   struct {
		DBs         []string `json:"dbs"`
		Rows        []int    `json:"rows"`
		Users       int      `json:"users"`
		Concurrency int      `json:"concurrency"`
		Duration    string   `json:"duration"`
		Warmup      string   `json:"warmup"`
		MaxRequests int64    `json:"max_requests"`
		Smoke       bool     `json:"smoke"`
		Scale       bool     `json:"scale,omitempty"`
		Rounds      int      `json:"rounds,omitempty"`
		Profile     string   `json:"profile,omitempty"`

		// RTSubscribers and RTEvents size the realtime scenario.
		RTSubscribers int `json:"rt_subscribers"`
		RTEvents      int `json:"rt_events"`
	} `json:"config"`
	Notes []string `json:"notes"`
	Rows  []Row    `json:"rows"`
	// Realtime holds the realtime_fanout scenario's results, per database
	// and transport (they are not ratios against the baseline).
	Realtime []RealtimeResult `json:"realtime,omitempty"`
	// Profiles are CPU profile file names inside the run's folder.
	Profiles []string `json:"profiles,omitempty"`
	// Seeding is the time each seeding step took, per database and size.
	Seeding []SeedTiming `json:"seeding,omitempty"`
}

// HostInfo records where the run happened.
type HostInfo struct {
	GoVersion string `json:"go_version"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	Commit    string `json:"commit,omitempty"`
}

// Ratio targets (see docs/benchmarks.md).
const (
	readTarget = 0.90
	authTarget = 0.70
	// writeTarget applies to writes that no other target names.
	writeTarget = 0.60
	// pgCreateTarget is PostgreSQL's create: one round trip per write.
	pgCreateTarget = 0.90
	// groupCommitConns is the concurrency from which SQLite writes are
	// judged by groupCommitTargets: with that many requests queued for
	// the one writer, group commit shares each commit among them, which
	// the baseline (a commit per request) cannot.
	groupCommitConns = 64
	// cachedTarget is view_repeat's: a repeated public read served from
	// Plinth's public cache against a baseline that queries every time
	// (SQLite; on PostgreSQL the cache is off and readTarget applies).
	cachedTarget     = 2.0
	totalLatencyCap  = 2.0
	totalCapFromRows = 100000
	maxErrorRate     = 0.01
	// noisyShare is the background CPU share above which a phase is
	// flagged as disturbed by other work on the machine.
	noisyShare = 0.15
)

// groupCommitTargets are the SQLite write targets at groupCommitConns.
var groupCommitTargets = map[string]float64{"create": 2.0, "update": 1.5, "batch_create_10": 1.5}

// throughputTarget is the req/s ratio r must reach, measured with conns
// connections.
func throughputTarget(r *Row, conns int) float64 {
	switch {
	case r.Scenario == "view_repeat" && r.DB == "sqlite":
		return cachedTarget
	case r.Kind == KindAuth:
		return authTarget
	case r.Kind != KindWrite:
		return readTarget
	case r.DB == "sqlite" && conns >= groupCommitConns && groupCommitTargets[r.Scenario] > 0:
		return groupCommitTargets[r.Scenario]
	case r.DB == "postgres" && r.Scenario == "create":
		return pgCreateTarget
	}
	return writeTarget
}

// judge fills the ratios, target and verdict of r, measured with conns
// connections.
func judge(r *Row, conns int) {
	latencyCapped := r.Scenario == "list_total" && r.Rows >= totalCapFromRows
	target := throughputTarget(r, conns)
	switch {
	case r.Verdict == "pending":
		r.Target = "–"
	case latencyCapped:
		r.Target = fmt.Sprintf("p50 ≤ %.1f× baseline", totalLatencyCap)
	default:
		r.Target = fmt.Sprintf("req/s ≥ %.2f× baseline", target)
	}
	if r.Verdict != "" {
		return // pending or unavailable already
	}
	p, b := r.Plinth, r.Baseline
	if !p.ran() || !b.ran() {
		r.Verdict = "unavailable"
		return
	}
	r.ThroughputRatio = p.Load.RPS / b.Load.RPS
	if b.Load.P50 > 0 {
		r.P50Ratio = float64(p.Load.P50) / float64(b.Load.P50)
	}
	if b.Load.P99 > 0 {
		r.P99Ratio = float64(p.Load.P99) / float64(b.Load.P99)
	}
	ok := r.ThroughputRatio >= target
	if latencyCapped {
		ok = r.P50Ratio > 0 && r.P50Ratio <= totalLatencyCap
	}
	if float64(p.Load.Errors) > maxErrorRate*float64(p.Load.Requests) {
		ok = false
		r.Note = strings.TrimSpace(r.Note + fmt.Sprintf(" Plinth error rate %.1f%%.", 100*float64(p.Load.Errors)/float64(p.Load.Requests)))
	}
	r.Verdict = map[bool]string{true: "PASS", false: "MISS"}[ok]
}

// writeResults writes results.{json,md,svg} into dir and copies them to
// latest.{json,md,svg} in dir's parent. In scale mode it also writes
// scale.{json,md,svg} into dir and copies those instead, leaving latest.*
// (the full run's figures) alone.
func writeResults(rep *Report, dir string) error {
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	var md strings.Builder
	writeMarkdown(&md, rep)
	files := map[string][]byte{"results.json": js, "results.md": []byte(md.String()), "results.svg": []byte(renderChart(rep))}
	copied := func(name string) string { return "latest" + filepath.Ext(name) }
	if rep.Config.Scale {
		sr := buildScale(rep)
		sjs, err := json.MarshalIndent(sr, "", "  ")
		if err != nil {
			return err
		}
		var smd strings.Builder
		writeScaleMarkdown(&smd, sr)
		files["scale.json"], files["scale.md"], files["scale.svg"] = sjs, []byte(smd.String()), []byte(renderScaleChart(sr))
		copied = func(name string) string {
			if strings.HasPrefix(name, "scale.") {
				return name
			}
			return ""
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
		if to := copied(name); to != "" {
			if err := os.WriteFile(filepath.Join(filepath.Dir(dir), to), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
}

func fmtRatio(x float64) string {
	if x == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", x)
}

func mib(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

// writeMarkdown renders the report as one table per database and size.
func writeMarkdown(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "# Plinth benchmark — %s\n\n", rep.Started.UTC().Format("2006-01-02 15:04 UTC"))
	c := rep.Config
	fmt.Fprintf(w, "Go %s, %d CPUs (%s). Concurrency %d, %s measured + %s warm-up per scenario per server, cap %d requests. Smoke: %t.\n\n",
		rep.Host.GoVersion, rep.Host.CPUs, rep.Host.CPUModel, c.Concurrency, c.Duration, c.Warmup, c.MaxRequests, c.Smoke)
	fmt.Fprintln(w, "Ratios are Plinth ÷ baseline: req/s ratio higher is better, p99 ratio lower is better. CPU is server user+sys seconds during the measured phase (on PostgreSQL plus the database backends' as \"+db\"); RSS is the peak sampled VmRSS; bg CPU is the share of the machine used meanwhile by processes other than the server, its database and the load generator (over 15% marks the row NOISY in the details).")
	fmt.Fprintln(w)
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	if len(rep.Notes) > 0 {
		fmt.Fprintln(w)
	}
	var group string
	for _, r := range rep.Rows {
		if g := fmt.Sprintf("%s, %d rows", r.DB, r.Rows); g != group {
			group = g
			fmt.Fprintf(w, "\n## %s\n\n", g)
			fmt.Fprintln(w, "| scenario | Plinth req/s | base req/s | req/s ratio | Plinth p50 / p99 | base p50 / p99 | p99 ratio | errors P / B | CPU s P / B | RSS MiB P / B | bg CPU % P / B | target | verdict |")
			fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|")
		}
		p, b := cells(r.Plinth), cells(r.Baseline)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s / %s | %s | **%s** |\n",
			roundName(r), p.rps, b.rps, fmtRatio(r.ThroughputRatio), p.lat, b.lat, fmtRatio(r.P99Ratio),
			p.errs, b.errs, p.cpu, b.cpu, p.rss, b.rss, p.bg, b.bg, r.Target, r.Verdict)
	}
	counts := map[string]int{}
	for _, r := range rep.Rows {
		counts[r.Verdict]++
	}
	for _, r := range rep.Realtime {
		counts[r.Verdict]++
	}
	fmt.Fprintf(w, "\n**Summary:** %d PASS, %d MISS, %d unavailable, %d pending.\n", counts["PASS"], counts["MISS"], counts["unavailable"], counts["pending"])
	writeRealtimeMarkdown(w, rep.Realtime)
	fmt.Fprint(w, "\n## Details\n\n")
	for _, r := range rep.Rows {
		var parts []string
		if r.Plinth != nil && r.Plinth.Unavailable != "" && !strings.HasPrefix(r.Plinth.Unavailable, plinthBuildFailed) {
			parts = append(parts, "Plinth unavailable: `"+oneLine(r.Plinth.Unavailable)+"`")
		}
		if r.Baseline != nil && r.Baseline.Unavailable != "" {
			parts = append(parts, "baseline unavailable: `"+oneLine(r.Baseline.Unavailable)+"`")
		}
		if r.Shape != "" && r.Shape != "same" {
			parts = append(parts, "JSON shape differs: "+r.Shape)
		}
		for _, m := range []struct {
			who string
			m   *Measure
		}{{"Plinth", r.Plinth}, {"baseline", r.Baseline}} {
			if m.m.ran() && m.m.Load.FirstError != "" {
				parts = append(parts, m.who+" first error: `"+oneLine(m.m.Load.FirstError)+"`")
			}
		}
		for _, m := range []struct {
			who string
			m   *Measure
		}{{"Plinth", r.Plinth}, {"baseline", r.Baseline}} {
			if m.m.ran() && m.m.Proc.BackgroundShare > noisyShare {
				parts = append(parts, fmt.Sprintf("NOISY: other processes used %.0f%% of the machine during the %s phase", 100*m.m.Proc.BackgroundShare, m.who))
			}
		}
		if r.Note != "" {
			parts = append(parts, r.Note)
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "- %s %d %s: %s\n", r.DB, r.Rows, roundName(r), strings.Join(parts, "; "))
		}
	}
	for _, p := range rep.Profiles {
		fmt.Fprintf(w, "- CPU profile of Plinth: `%s` in this run's folder (`go tool pprof -top <folder>/%s`)\n", p, p)
	}
}

// cellSet is the formatted table cells of one Measure.
type cellSet struct{ rps, lat, errs, cpu, rss, bg string }

func cells(m *Measure) cellSet {
	if !m.ran() {
		return cellSet{"n/a", "n/a", "–", "–", "–", "–"}
	}
	return cellSet{
		rps:  fmt.Sprintf("%.0f", m.Load.RPS),
		lat:  fmtDur(m.Load.P50) + " / " + fmtDur(m.Load.P99),
		errs: fmt.Sprint(m.Load.Errors),
		cpu:  cpuCell(m.Proc),
		rss:  mib(m.Proc.PeakRSS),
		bg:   fmt.Sprintf("%.0f", 100*m.Proc.BackgroundShare),
	}
}

// cpuCell shows the server's CPU seconds, plus the database's when known.
func cpuCell(p ProcSample) string {
	if p.DBCPUSeconds > 0 {
		return fmt.Sprintf("%.2f (+%.2f db)", p.CPUSeconds, p.DBCPUSeconds)
	}
	return fmt.Sprintf("%.2f", p.CPUSeconds)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "`", "'")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
