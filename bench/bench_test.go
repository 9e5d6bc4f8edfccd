package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	samples := make([]time.Duration, 100)
	for i := range samples {
		samples[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{50, 50 * time.Millisecond},
		{99, 99 * time.Millisecond},
		{100, 100 * time.Millisecond},
		{0, time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(samples, tt.p); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// A comm with spaces and a ")" must not shift the fields.
	line := []byte("1234 (my (weird) prog) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 100 0 0")
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3.0 {
		t.Errorf("cpu = %v, want 3.0 (250+50 ticks)", got)
	}
	host, err := parseHostBusy([]byte("cpu  100 10 50 1000 5 3 2 1 0 0\ncpu0 1 2 3\n"))
	if err != nil || host != 1.66 {
		t.Errorf("host busy = %v, %v; want 1.66 (166 ticks)", host, err)
	}
	status := "Name:\tplinth\nVmHWM:\t  20480 kB\nVmRSS:\t  10240 kB\n"
	rss, err := parseStatusKB(bufio.NewScanner(strings.NewReader(status)), "VmRSS")
	if err != nil || rss != 10240*1024 {
		t.Errorf("VmRSS = %d, %v; want %d", rss, err, 10240*1024)
	}
	if _, err := parseStatusKB(bufio.NewScanner(strings.NewReader(status)), "VmSwap"); err == nil {
		t.Error("missing key: want error")
	}
}

func TestShapeDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"items":[{"id":"a","n":1}],"page":1}`, `{"page":2,"items":[{"n":5,"id":"b"}]}`, true},
		{`{"items":[{"id":"a"}]}`, `{"items":[{"id":"a","x":1}]}`, false},
		{`{"n":1}`, `{"n":"1"}`, false},
		{`{"items":[]}`, `{"items":[{"id":"a"}]}`, true},
	}
	for _, tt := range tests {
		d := shapeDiff([]byte(tt.a), []byte(tt.b))
		if (d == "") != tt.same {
			t.Errorf("shapeDiff(%s, %s) = %q, want same=%v", tt.a, tt.b, d, tt.same)
		}
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	m := func(rps float64, p50 time.Duration) *Measure {
		return &Measure{Load: LoadResult{Requests: 100, RPS: rps, P50: p50, P99: 2 * p50}}
	}
	tests := []struct {
		name  string
		row   Row
		conns int
		want  string
	}{
		{"read pass", Row{Scenario: "view", Kind: KindRead, Plinth: m(91, 1), Baseline: m(100, 1)}, 8, "PASS"},
		{"read miss", Row{Scenario: "view", Kind: KindRead, Plinth: m(89, 1), Baseline: m(100, 1)}, 8, "MISS"},
		{"auth pass", Row{Scenario: "login", Kind: KindAuth, Plinth: m(71, 1), Baseline: m(100, 1)}, 8, "PASS"},
		{"write pass", Row{DB: "sqlite", Scenario: "create", Kind: KindWrite, Plinth: m(61, 1), Baseline: m(100, 1)}, 8, "PASS"},
		{"group commit miss", Row{DB: "sqlite", Scenario: "create", Kind: KindWrite, Plinth: m(190, 1), Baseline: m(100, 1)}, 64, "MISS"},
		{"group commit pass", Row{DB: "sqlite", Scenario: "update", Kind: KindWrite, Plinth: m(151, 1), Baseline: m(100, 1)}, 64, "PASS"},
		{"postgres create miss", Row{DB: "postgres", Scenario: "create", Kind: KindWrite, Plinth: m(85, 1), Baseline: m(100, 1)}, 64, "MISS"},
		{"postgres update pass", Row{DB: "postgres", Scenario: "update", Kind: KindWrite, Plinth: m(61, 1), Baseline: m(100, 1)}, 64, "PASS"},
		{"total 100k by latency", Row{Scenario: "list_total", Rows: 100000, Kind: KindRead,
			Plinth: m(10, 19*time.Millisecond), Baseline: m(100, 10*time.Millisecond)}, 8, "PASS"},
		{"total 100k too slow", Row{Scenario: "list_total", Rows: 100000, Kind: KindRead,
			Plinth: m(90, 21*time.Millisecond), Baseline: m(100, 10*time.Millisecond)}, 8, "MISS"},
		{"unavailable", Row{Scenario: "login", Kind: KindAuth, Plinth: &Measure{Unavailable: "404"}, Baseline: m(100, 1)}, 8, "unavailable"},
	}
	for _, tt := range tests {
		judge(&tt.row, tt.conns)
		if tt.row.Verdict != tt.want {
			t.Errorf("%s: verdict %q, want %q", tt.name, tt.row.Verdict, tt.want)
		}
	}
}

func TestRunLoadBounds(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%10 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	gen := func(ctx context.Context, _ *rand.Rand) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	}
	res := RunLoad(context.Background(), NewClient(4), LoadConfig{Concurrency: 4, Duration: 10 * time.Second, MaxRequests: 200}, gen)
	if res.Requests != 200 {
		t.Errorf("requests = %d, want exactly the cap 200", res.Requests)
	}
	if res.Errors != 20 {
		t.Errorf("errors = %d, want 20 (every 10th)", res.Errors)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
		t.Errorf("bad latency order: p50 %v p99 %v max %v", res.P50, res.P99, res.Max)
	}
	if !strings.Contains(res.FirstError, "status 500") {
		t.Errorf("first error %q does not name the status", res.FirstError)
	}

	start := time.Now()
	res = RunLoad(context.Background(), NewClient(2), LoadConfig{Concurrency: 2, Duration: 200 * time.Millisecond}, gen)
	if el := time.Since(start); el > 2*time.Second || res.Requests == 0 {
		t.Errorf("duration bound: took %v for %d requests", el, res.Requests)
	}
}

func TestRenderChartIsXML(t *testing.T) {
	t.Parallel()
	rep := &Report{Started: time.Now(), Rows: []Row{
		{DB: "sqlite", Rows: 10, Scenario: "view", Verdict: "PASS",
			Plinth:   &Measure{Load: LoadResult{Requests: 1, RPS: 10, P99: time.Millisecond}},
			Baseline: &Measure{Load: LoadResult{Requests: 1, RPS: 20, P99: time.Millisecond}}},
		{DB: "sqlite", Rows: 10, Scenario: "login <&>", Verdict: "unavailable", Plinth: &Measure{Unavailable: "x"}},
	}}
	dec := xml.NewDecoder(strings.NewReader(renderChart(rep)))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
	}
	var md bytes.Buffer
	writeMarkdown(&md, rep)
	if !strings.Contains(md.String(), "| view |") {
		t.Errorf("markdown lacks the view row:\n%s", md.String())
	}
}

// TestSmoke runs the real harness in --smoke mode (builds Plinth and the
// baseline, uses SQLite and the local PostgreSQL). It only asserts that the
// run completes and reports; set PLINTH_BENCH_SMOKE=1 to enable it.
func TestSmoke(t *testing.T) {
	if os.Getenv("PLINTH_BENCH_SMOKE") != "1" {
		t.Skip("set PLINTH_BENCH_SMOKE=1 to run the benchmark smoke test")
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"--smoke", "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	perDB := map[string]int{}
	for _, r := range rep.Rows {
		if r.Baseline.ran() {
			perDB[r.DB]++
		}
	}
	for _, db := range rep.Config.DBs {
		if perDB[db] == 0 {
			t.Errorf("%s: no scenario was measured; notes: %v", db, rep.Notes)
		}
	}
	t.Logf("smoke report:\n%s", stdout.String())
}

// BenchmarkLoaderRequest measures the load generator's own cost per request
// (build, send over a kept-alive loopback connection, drain) against a
// trivial handler, i.e. the floor under every scenario's latency.
func BenchmarkLoaderRequest(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":200,"message":"API is healthy.","data":{}}`)
	}))
	defer srv.Close()
	client := NewClient(1)
	gen := getFixed(srv.URL + "/api/health")
	rng := rand.New(rand.NewPCG(1, 1))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := doOne(ctx, client, gen, rng, http.StatusOK); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScenarioBuild measures building the costliest request body
// (a batch of 10 creates) in the load generator.
func BenchmarkScenarioBuild(b *testing.B) {
	te := &targetEnv{base: "http://127.0.0.1:1", fx: &fixture{Users: []userCred{{ID: "u1"}, {ID: "u2"}}}}
	gen := buildBatch(te)
	rng := rand.New(rand.NewPCG(1, 1))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gen(ctx, rng); err != nil {
			b.Fatal(err)
		}
	}
}

func TestScaleCurve(t *testing.T) {
	t.Parallel()
	m := func(mean time.Duration, cpu float64, reqs int64) *Measure {
		return &Measure{Load: LoadResult{Requests: reqs, RPS: float64(reqs), Mean: mean}, Proc: ProcSample{CPUSeconds: cpu}}
	}
	rep := &Report{Started: time.Now()}
	rep.Config.Rows, rep.Config.Rounds, rep.Config.Duration = []int{10000, 100000, 1000000}, 3, "3s"
	add := func(scenario string, rows int, p, b *Measure) {
		rep.Rows = append(rep.Rows, Row{DB: "sqlite", Rows: rows, Scenario: scenario, Kind: KindRead, Plinth: p, Baseline: b})
	}
	for _, n := range rep.Config.Rows {
		// Flat, with one outlier round that the median must drop.
		add("view", n, m(time.Millisecond, 1, 1000), m(time.Millisecond, 1, 1000))
		add("view", n, m(time.Millisecond, 1, 1000), m(time.Millisecond, 1, 1000))
		add("view", n, m(40*time.Millisecond, 9, 1000), m(time.Millisecond, 1, 1000))
		// CPU per request doubles at every size on Plinth only.
		f := float64(n / 10000)
		add("filter_indexed", n, m(time.Millisecond, f, 1000), m(time.Millisecond, 1, 1000))
	}
	// A size where Plinth did not run.
	add("create", 10000, m(time.Millisecond, 1, 10), m(time.Millisecond, 1, 10))
	add("create", 1000000, &Measure{Unavailable: "x"}, m(time.Millisecond, 1, 10))

	sr := buildScale(rep)
	want := map[string]string{"view": "flat", "filter_indexed": "NOT FLAT", "create": "unavailable"}
	if len(sr.Curves) != len(want) {
		t.Fatalf("got %d curves, want %d", len(sr.Curves), len(want))
	}
	for _, c := range sr.Curves {
		if c.Verdict != want[c.Scenario] {
			t.Errorf("%s: verdict %q, want %q (growth %+v)", c.Scenario, c.Verdict, want[c.Scenario], c.PlinthGrowth)
		}
	}
	if g := sr.Curves[0].PlinthGrowth; g.Mean != 1 || g.CPU != 1 {
		t.Errorf("view growth %+v, want 1× (the outlier round is not the median)", g)
	}
	if p := sr.Curves[0].Plinth[0]; p.Rounds != 3 || p.CPU != 0.001 {
		t.Errorf("view at 10k: %+v, want 3 rounds and 1ms CPU per request", p)
	}
	if g := sr.Curves[1].PlinthGrowth; g.CPU != 100 || !sr.Curves[1].BaselineGrowth.flat() {
		t.Errorf("filter_indexed growth %+v (baseline %+v), want CPU 100× and a flat baseline", g, sr.Curves[1].BaselineGrowth)
	}

	dec := xml.NewDecoder(strings.NewReader(renderScaleChart(sr)))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("scale chart is not well-formed XML: %v", err)
		}
	}
	var md bytes.Buffer
	writeScaleMarkdown(&md, sr)
	for _, s := range []string{"| view | Plinth |", "| filter_indexed | Plinth |", "**NOT FLAT**", "10k mean", "1M CPU/req"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("scale markdown lacks %q:\n%s", s, md.String())
		}
	}
}

func TestScaleFlagDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig([]string{"--scale"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.Rows) != "[10000 100000 1000000]" || cfg.Rounds != 3 || len(cfg.Scenarios) != len(scaleScenarioNames()) {
		t.Errorf("--scale: rows %v, rounds %d, scenarios %v", cfg.Rows, cfg.Rounds, cfg.Scenarios)
	}
	cfg, err = parseConfig([]string{"--scale", "--rows", "1000,2000", "--rounds", "1", "--scenarios", "view"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.Rows) != "[1000 2000]" || cfg.Rounds != 1 || len(cfg.Scenarios) != 1 {
		t.Errorf("--scale with explicit flags: rows %v, rounds %d, scenarios %v", cfg.Rows, cfg.Rounds, cfg.Scenarios)
	}
}
