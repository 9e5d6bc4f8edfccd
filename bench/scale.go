package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// scaleLimit is the most the cost per request may grow from the smallest
// to the largest table for a scenario to count as flat.
const scaleLimit = 1.3

// scaleScenarioNames are the scenarios of the scale curve by default: the
// ones an index (or the primary key) serves, whose cost should not depend
// on the table size.
func scaleScenarioNames() []string {
	return []string{"view", "list_skiptotal", "filter_indexed", "create"}
}

// ScalePoint is one server's cost per request for one scenario at one
// table size: medians over the measured rounds.
type ScalePoint struct {
	Rows int `json:"rows"`
	// Rounds is how many rounds ran (were available) at this size.
	Rounds int `json:"rounds"`
	// Mean is the median over rounds of the mean request latency.
	Mean time.Duration `json:"mean_ns"`
	// CPU is the median over rounds of the server's CPU seconds per
	// request (plus the database backends' on PostgreSQL).
	CPU float64 `json:"cpu_seconds_per_request"`
	// RPS is the median over rounds of the throughput.
	RPS float64 `json:"rps"`
	// Noisy counts the rounds in which other processes used more than
	// noisyShare of the machine.
	Noisy int `json:"noisy_rounds,omitempty"`
}

// ScaleGrowth is the cost at the largest size over the cost at the
// smallest: 1 is perfectly flat.
type ScaleGrowth struct {
	Mean float64 `json:"mean_latency"`
	CPU  float64 `json:"cpu_per_request"`
}

// flat reports whether both figures are within scaleLimit.
func (g ScaleGrowth) flat() bool {
	return g.Mean > 0 && g.CPU > 0 && g.Mean <= scaleLimit && g.CPU <= scaleLimit
}

// ScaleCurve is one scenario on one database across the table sizes.
type ScaleCurve struct {
	DB       string       `json:"db"`
	Scenario string       `json:"scenario"`
	Plinth   []ScalePoint `json:"plinth"`
	Baseline []ScalePoint `json:"baseline"`
	// PlinthGrowth and BaselineGrowth compare the largest size with the
	// smallest; zero when a size is missing.
	PlinthGrowth   ScaleGrowth `json:"plinth_growth"`
	BaselineGrowth ScaleGrowth `json:"baseline_growth"`
	// Verdict is "flat" when Plinth's mean latency and CPU per request
	// both grow by at most scaleLimit, "NOT FLAT" when either grows more,
	// "unavailable" when a size has no figures.
	Verdict string `json:"verdict"`
}

// ScaleReport is the scale curve of a run, written as scale.json.
type ScaleReport struct {
	Started  time.Time    `json:"started"`
	Host     HostInfo     `json:"host"`
	Limit    float64      `json:"limit"`
	Rows     []int        `json:"rows"`
	Rounds   int          `json:"rounds"`
	Duration string       `json:"duration"`
	Curves   []ScaleCurve `json:"curves"`
	Seeding  []SeedTiming `json:"seeding,omitempty"`
	Notes    []string     `json:"notes,omitempty"`
}

// buildScale groups the report's rows by database and scenario and
// reduces each size's rounds to medians.
func buildScale(rep *Report) *ScaleReport {
	sr := &ScaleReport{Started: rep.Started, Host: rep.Host, Limit: scaleLimit, Rows: rep.Config.Rows,
		Rounds: max(1, rep.Config.Rounds), Duration: rep.Config.Duration, Seeding: rep.Seeding, Notes: rep.Notes}
	type key struct{ db, scenario string }
	byKey := map[key][]Row{}
	var order []key
	for _, r := range rep.Rows {
		if r.Kind == KindRealtime || r.Verdict == "pending" {
			continue
		}
		k := key{r.DB, r.Scenario}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	for _, k := range order {
		c := ScaleCurve{DB: k.db, Scenario: k.scenario}
		for _, n := range rep.Config.Rows {
			var pm, bm []*Measure
			for _, r := range byKey[k] {
				if r.Rows == n {
					pm, bm = append(pm, r.Plinth), append(bm, r.Baseline)
				}
			}
			c.Plinth = append(c.Plinth, scalePoint(n, pm))
			c.Baseline = append(c.Baseline, scalePoint(n, bm))
		}
		c.PlinthGrowth, c.BaselineGrowth = growth(c.Plinth), growth(c.Baseline)
		switch {
		case c.PlinthGrowth.Mean == 0 || c.PlinthGrowth.CPU == 0:
			c.Verdict = "unavailable"
		case c.PlinthGrowth.flat():
			c.Verdict = "flat"
		default:
			c.Verdict = "NOT FLAT"
		}
		sr.Curves = append(sr.Curves, c)
	}
	return sr
}

// scalePoint reduces the rounds measured at one size to medians.
func scalePoint(rows int, ms []*Measure) ScalePoint {
	p := ScalePoint{Rows: rows}
	var means, cpus, rps []float64
	for _, m := range ms {
		if !m.ran() {
			continue
		}
		p.Rounds++
		means = append(means, float64(m.Load.Mean))
		cpus = append(cpus, (m.Proc.CPUSeconds+m.Proc.DBCPUSeconds)/float64(m.Load.Requests))
		rps = append(rps, m.Load.RPS)
		if m.Proc.BackgroundShare > noisyShare {
			p.Noisy++
		}
	}
	p.Mean = time.Duration(median(means))
	p.CPU, p.RPS = median(cpus), median(rps)
	return p
}

// median is the middle of xs (the mean of the two middles for an even
// count, 0 when empty); xs is not changed.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// growth compares the last point with the first.
func growth(ps []ScalePoint) ScaleGrowth {
	if len(ps) < 2 {
		return ScaleGrowth{}
	}
	first, last := ps[0], ps[len(ps)-1]
	var g ScaleGrowth
	if first.Mean > 0 && last.Mean > 0 {
		g.Mean = float64(last.Mean) / float64(first.Mean)
	}
	if first.CPU > 0 && last.CPU > 0 {
		g.CPU = last.CPU / first.CPU
	}
	return g
}

// relative returns the points' metric relative to the first point (NaN
// where a figure is missing).
func relative(ps []ScalePoint, cpu bool) []float64 {
	out := make([]float64, len(ps))
	val := func(p ScalePoint) float64 {
		if cpu {
			return p.CPU
		}
		return float64(p.Mean)
	}
	for i, p := range ps {
		out[i] = math.NaN()
		if base := val(ps[0]); base > 0 && val(p) > 0 {
			out[i] = val(p) / base
		}
	}
	return out
}

// fmtRows writes a row count the short way: 10k, 100k, 1M.
func fmtRows(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func fmtGrowth(x float64) string {
	if x == 0 || math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x)
}

// fmtCPU writes CPU seconds per request in microseconds.
func fmtCPU(s float64) string {
	if s <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0fµs", s*1e6)
}

// writeScaleMarkdown renders the scale curve as one table per database.
func writeScaleMarkdown(w io.Writer, sr *ScaleReport) {
	fmt.Fprintf(w, "# Plinth scale curve — %s\n\n", sr.Started.UTC().Format("2006-01-02 15:04 UTC"))
	sizes := make([]string, len(sr.Rows))
	for i, n := range sr.Rows {
		sizes[i] = fmtRows(n)
	}
	fmt.Fprintf(w, "Go %s, %d CPUs (%s), commit %s. Sizes %s; each scenario measured %d time(s) per size and server for %s, alternating which server goes first; figures are medians over the rounds.\n\n",
		sr.Host.GoVersion, sr.Host.CPUs, sr.Host.CPUModel, sr.Host.Commit, strings.Join(sizes, ", "), sr.Rounds, sr.Duration)
	fmt.Fprintf(w, "Cost per request: **mean latency** (8 connections, so it includes queueing for the CPUs) and **server CPU per request** (the server process's user+sys CPU over the measured phase ÷ requests; on PostgreSQL plus the database backends'). "+
		"Growth is the cost at %s ÷ the cost at %s. A scenario is **flat** when both of Plinth's growths are ≤ %.1f×; the baseline's growth shows what the database itself adds.\n\n",
		fmtRows(sr.Rows[len(sr.Rows)-1]), fmtRows(sr.Rows[0]), sr.Limit)
	if len(sr.Seeding) > 0 {
		fmt.Fprintln(w, "Seeding (both tables, posts and owned_posts, topped up to the size; ANALYZE included):")
		fmt.Fprintln(w)
		for _, s := range sr.Seeding {
			fmt.Fprintf(w, "- %s %s: %.1fs\n", s.DB, fmtRows(s.Rows), s.Seconds)
		}
		fmt.Fprintln(w)
	}
	for i, c := range sr.Curves {
		if i == 0 || sr.Curves[i-1].DB != c.DB {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "## %s\n\n", c.DB)
			fmt.Fprint(w, "| scenario | server |")
			for _, n := range sr.Rows {
				fmt.Fprintf(w, " %s mean | %s CPU/req |", fmtRows(n), fmtRows(n))
			}
			fmt.Fprintln(w, " mean growth | CPU growth | verdict |")
			fmt.Fprint(w, "|---|---|")
			for range sr.Rows {
				fmt.Fprint(w, "--:|--:|")
			}
			fmt.Fprintln(w, "--:|--:|---|")
		}
		for j, s := range []struct {
			who string
			ps  []ScalePoint
			g   ScaleGrowth
		}{{"Plinth", c.Plinth, c.PlinthGrowth}, {"baseline", c.Baseline, c.BaselineGrowth}} {
			name, verdict := c.Scenario, "**"+c.Verdict+"**"
			if j > 0 {
				name, verdict = "", map[bool]string{true: "flat", false: "not flat"}[s.g.flat()]
				if s.g.Mean == 0 || s.g.CPU == 0 {
					verdict = "–"
				}
			}
			fmt.Fprintf(w, "| %s | %s |", name, s.who)
			for _, p := range s.ps {
				mean, cpu := "n/a", "n/a"
				if p.Rounds > 0 {
					mean, cpu = fmtDur(p.Mean), fmtCPU(p.CPU)
				}
				if p.Noisy > 0 {
					cpu += fmt.Sprintf(" (noisy %d/%d)", p.Noisy, p.Rounds)
				}
				fmt.Fprintf(w, " %s | %s |", mean, cpu)
			}
			fmt.Fprintf(w, " %s | %s | %s |\n", fmtGrowth(s.g.Mean), fmtGrowth(s.g.CPU), verdict)
		}
	}
	fmt.Fprintln(w)
	counts := map[string]int{}
	for _, c := range sr.Curves {
		counts[c.Verdict]++
	}
	fmt.Fprintf(w, "**Summary:** %d flat, %d NOT FLAT, %d unavailable (limit %.1f× from %s to %s).\n",
		counts["flat"], counts["NOT FLAT"], counts["unavailable"], sr.Limit, fmtRows(sr.Rows[0]), fmtRows(sr.Rows[len(sr.Rows)-1]))
	if len(sr.Notes) > 0 {
		fmt.Fprint(w, "\n## Notes\n\n")
		for _, n := range sr.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}
