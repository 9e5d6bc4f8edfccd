package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/store"
)

// The sizes of TestJobsBench. Rounds alternate the variants being compared
// (this machine is shared and noisy); medians over rounds are reported.
const (
	jobsRounds     = 5               // rounds of each queue variant
	jobsPerRound   = 2000            // no-op jobs per round
	jobsWorkers    = 20              // workers, Plinth's queue and bare River alike
	deliveryCount  = 1000            // creates, hence deliveries, for the deliveries/s figure
	costRounds     = 5               // rounds of creates without and with a webhook
	costPerRound   = 300             // creates per phase of a round
	jobsBenchLimit = 2 * time.Minute // longest wait for completions or deliveries before failing
)

// TestJobsBench measures, per database: the job queue's enqueue and
// enqueue+complete rates against a bare River client in alternating rounds;
// webhook deliveries per second to a local receiver; and what one active
// webhook adds to a record create. It prints a table and writes it to
// results/jobs-latest.md. Run it with
//
//	PLINTH_BENCH_JOBS=1 go test -run TestJobsBench -v ./bench
//
// (a few minutes per database; PostgreSQL is skipped when unreachable unless
// PLINTH_REQUIRE_SERVICES=1). See docs/benchmarks.md, "Jobs and webhooks".
func TestJobsBench(t *testing.T) {
	if os.Getenv("PLINTH_BENCH_JOBS") != "1" {
		t.Skip("job queue and webhook benchmark: set PLINTH_BENCH_JOBS=1 to run it (several minutes)")
	}
	started, loadBefore := time.Now().UTC(), loadAverage()
	var results []jobsBenchResult
	var skipped []string
	for _, kind := range []string{"sqlite", "postgres"} {
		ran := t.Run(kind, func(t *testing.T) {
			testenv.New(t, kind) // skips PostgreSQL when unreachable
			r := jobsBenchResult{DB: kind}
			r.Queues = benchQueues(t, kind)
			wa := newWebhookBenchApp(t, kind)
			r.Deliveries = benchDeliveries(t, wa)
			r.Cost = benchWebhookCost(t, wa)
			results = append(results, r)
		})
		if ran && !slices.ContainsFunc(results, func(r jobsBenchResult) bool { return r.DB == kind }) {
			skipped = append(skipped, kind)
		}
	}
	if t.Failed() || len(results) == 0 {
		return
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	md := renderJobsBench(started, hostInfo(root), [2]string{loadBefore, loadAverage()}, results, skipped)
	t.Logf("\n%s", md)
	if err := os.MkdirAll("results", 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("results", "jobs-latest.md")
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("written to bench/%s", out)
}

// jobsBenchResult is one database's figures.
type jobsBenchResult struct {
	DB         string
	Queues     []queueResult
	Deliveries deliveryResult
	Cost       costResult
}

// queueResult is one way of enqueueing over the rounds, as medians.
type queueResult struct {
	Name string
	// Enqueue and Complete are jobs/s: enqueueing n jobs, and enqueueing
	// them until all are completed.
	Enqueue, Complete float64
	// EnqueueRange and CompleteRange are the slowest and fastest rounds.
	EnqueueRange, CompleteRange [2]float64
	// EnqueueRatio and CompleteRatio compare with bare River run in the
	// same round (the median of the rounds' ratios): pairing each round
	// cancels the machine's drift between rounds, which the medians of
	// the rates alone do not.
	EnqueueRatio, CompleteRatio float64
}

// deliveryResult is the deliveries/s measurement.
type deliveryResult struct {
	Deliveries, Duplicates int
	// Creates is how long the creates took; All is from the first create
	// until the receiver had every delivery.
	Creates, All time.Duration
}

// costResult is the per-create cost of a webhook, medians over rounds.
type costResult struct {
	P50Without, P50With, MeanWithout, MeanWith time.Duration
	// P50Ratio and MeanRatio are the medians of each round's with÷without.
	P50Ratio, MeanRatio float64
}

// noopArgs is the benchmark's job: it does nothing, so the figures are the
// queue's own cost.
type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench.noop" }

// queueVariant starts one way of enqueueing and working no-op jobs on an
// open store and returns its enqueue function and its stop.
type queueVariant struct {
	name  string
	start func(ctx context.Context, st *store.Store) (enqueue func(i int) error, stop func() error, err error)
}

// queueVariants are what the rounds alternate: Plinth's queue, by Enqueue
// and by EnqueueTx (the transactional outbox), and a bare River client.
func queueVariants() []queueVariant {
	plinthQueue := func(viaTx bool) func(ctx context.Context, st *store.Store) (func(int) error, func() error, error) {
		return func(ctx context.Context, st *store.Store) (func(int) error, func() error, error) {
			q, err := jobs.New(jobs.Config{Store: st, Workers: jobsWorkers, Log: jobsWarnLogger()})
			if err != nil {
				return nil, nil, err
			}
			jobs.Register(q, func(context.Context, *jobs.Job[noopArgs]) error { return nil }, jobs.WorkerOpts{})
			if err := q.Start(ctx); err != nil {
				return nil, nil, err
			}
			enqueue := func(i int) error { _, err := q.Enqueue(ctx, noopArgs{i}, nil); return err }
			if viaTx {
				enqueue = func(i int) error {
					return st.Tx(ctx, func(tx *store.Tx) error { return q.EnqueueTx(ctx, tx, noopArgs{i}, nil) })
				}
			}
			return enqueue, func() error { return q.Stop(ctx) }, nil
		}
	}
	return []queueVariant{
		{"plinth Enqueue", plinthQueue(false)},
		{"plinth EnqueueTx", plinthQueue(true)},
		{"bare River Insert", startBareRiver},
	}
}

// startBareRiver is the reference: a River client and nothing else, on the
// store's job connection with the driver Plinth uses, the same worker
// count, the same no-op work and the same fetch settings as jobs.New (poll
// mode, as neither driver listens; 500 ms poll, 50 ms cooldown), so the
// difference is Plinth's layer and not River's tuning.
func startBareRiver(ctx context.Context, st *store.Store) (func(int) error, func() error, error) {
	var driver riverdriver.Driver[*sql.Tx] = riversqlite.New(st.JobsDB())
	if st.Dialect().Name() == "postgres" {
		driver = riverdatabasesql.New(st.JobsDB())
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[noopArgs]) error { return nil }))
	client, err := river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: jobsWorkers}},
		Workers:           workers,
		FetchPollInterval: 500 * time.Millisecond,
		FetchCooldown:     50 * time.Millisecond,
		PollOnly:          true,
		Logger:            jobsWarnLogger(),
	})
	if err != nil {
		return nil, nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, nil, err
	}
	enqueue := func(i int) error { _, err := client.Insert(ctx, noopArgs{i}, nil); return err }
	return enqueue, func() error { return client.Stop(ctx) }, nil
}

// jobsWarnLogger keeps River's and the queue's warnings and errors visible (a
// failing run should say why) without their routine info lines.
func jobsWarnLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// benchQueues runs every queue variant jobsRounds times, each run on a
// fresh database (a river_job table grown by earlier runs would slow later
// ones), rotating which variant goes first in each round.
func benchQueues(t *testing.T, kind string) []queueResult {
	ctx := context.Background()
	variants := queueVariants()
	enq := make([][]float64, len(variants))
	all := make([][]float64, len(variants))
	for round := range jobsRounds {
		for k := range variants {
			i := (round + k) % len(variants)
			v := variants[i]
			e, a, err := runQueueRound(ctx, t, kind, v)
			if err != nil {
				t.Fatalf("%s round %d, %s: %v", kind, round+1, v.name, err)
			}
			t.Logf("round %d %-18s enqueue %6.0f jobs/s, enqueue+complete %6.0f jobs/s", round+1, v.name, e, a)
			enq[i] = append(enq[i], e)
			all[i] = append(all[i], a)
		}
	}
	bare := slices.IndexFunc(variants, func(v queueVariant) bool { return strings.HasPrefix(v.name, "bare") })
	out := make([]queueResult, len(variants))
	for i, v := range variants {
		out[i] = queueResult{Name: v.name, Enqueue: median(enq[i]), Complete: median(all[i]),
			EnqueueRange: [2]float64{slices.Min(enq[i]), slices.Max(enq[i])}, CompleteRange: [2]float64{slices.Min(all[i]), slices.Max(all[i])},
			EnqueueRatio: pairedRatio(enq[i], enq[bare]), CompleteRatio: pairedRatio(all[i], all[bare])}
	}
	return out
}

// runQueueRound enqueues jobsPerRound jobs from one goroutine while the
// workers run, then waits until all are completed, and returns both rates.
// Completion is read from river_job, the same way for every variant.
func runQueueRound(ctx context.Context, t *testing.T, kind string, v queueVariant) (enqRate, allRate float64, err error) {
	b := testenv.New(t, kind)
	st, err := store.Open(ctx, store.Config{Dir: b.Dir, URL: b.URL})
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	enqueue, stop, err := v.start(ctx, st)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if serr := stop(); serr != nil && err == nil {
			err = fmt.Errorf("stop: %w", serr)
		}
	}()
	start := time.Now()
	for i := range jobsPerRound {
		if err := enqueue(i); err != nil {
			return 0, 0, err
		}
	}
	enqueued := time.Since(start)
	for {
		var n int
		if err := st.ReadDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE state = 'completed'`).Scan(&n); err != nil {
			return 0, 0, err
		}
		if n >= jobsPerRound {
			break
		}
		if time.Since(start) > jobsBenchLimit {
			return 0, 0, fmt.Errorf("only %d of %d jobs completed after %v", n, jobsPerRound, jobsBenchLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := time.Since(start)
	return jobsPerRound / enqueued.Seconds(), jobsPerRound / done.Seconds(), nil
}

// webhookBenchApp is a Plinth app served in process with its job queue
// running (as under Serve), a public collection "posts", a local receiver
// and one webhook on posts' creates pointing at it.
type webhookBenchApp struct {
	app     *plinth.App
	h       http.Handler
	su      string // superuser token
	rc      *webhookReceiver
	webhook string // the webhook's id
}

// newWebhookBenchApp builds the app on a fresh database of kind, closed
// with t. Loopback targets are allowed through the setting
// webhooks.allowPrivateNetworks, as a real deployment would for a local
// receiver.
func newWebhookBenchApp(t *testing.T, kind string) *webhookBenchApp {
	ctx := context.Background()
	b := testenv.New(t, kind)
	app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, DisableRateLimits: true, BcryptCost: 4},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := app.Close(); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
		t.Fatal(err)
	}
	if err := app.StartJobs(ctx); err != nil {
		t.Fatal(err)
	}
	wa := &webhookBenchApp{app: app, h: app.Handler(), rc: newWebhookReceiver()}
	t.Cleanup(wa.rc.srv.Close)
	var su struct{ Token string }
	wa.call(t, "POST", "/api/collections/_superusers/auth-with-password", `{"identity":"admin@example.com","password":"secret-pass-1"}`, &su)
	wa.su = su.Token
	wa.call(t, "POST", "/api/collections", `{"name":"posts","createRule":"","fields":[{"name":"title","type":"text"}]}`, nil)
	wa.call(t, "PATCH", "/api/settings", `{"webhooks":{"allowPrivateNetworks":true}}`, nil)
	var wh struct{ ID string }
	wa.call(t, "POST", "/api/webhooks", `{"name":"bench","url":"`+wa.rc.srv.URL+`","collections":["posts"],"events":["create"],"active":false}`, &wh)
	wa.webhook = wh.ID
	return wa
}

// call sends an admin request as the superuser and decodes the answer
// into out (if not nil); any status but 2xx fails the test.
func (wa *webhookBenchApp) call(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if wa.su != "" {
		req.Header.Set("Authorization", wa.su)
	}
	rec := httptest.NewRecorder()
	wa.h.ServeHTTP(rec, req)
	if rec.Code < 200 || rec.Code > 299 {
		t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
}

// setWebhook turns the webhook on or off (the service reloads its cached
// list at once, so the next create sees it).
func (wa *webhookBenchApp) setWebhook(t *testing.T, active bool) {
	wa.call(t, "PATCH", "/api/webhooks/"+wa.webhook, fmt.Sprintf(`{"active":%t}`, active), nil)
}

// create sends one public record create, as a client would, and returns
// the time the handler took. The request is built before the clock starts.
func (wa *webhookBenchApp) create(t *testing.T, i int) time.Duration {
	req := httptest.NewRequestWithContext(context.Background(), "POST", "/api/collections/posts/records", strings.NewReader(fmt.Sprintf(`{"title":"post %d"}`, i)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	start := time.Now()
	wa.h.ServeHTTP(rec, req)
	d := time.Since(start)
	if rec.Code != http.StatusOK {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	return d
}

// waitQuiet waits until the queue has nothing left to do (no job waiting,
// running or in the outbox), so that one phase's deliveries do not run
// during the next phase.
func (wa *webhookBenchApp) waitQuiet(t *testing.T) {
	ctx := context.Background()
	for deadline := time.Now().Add(jobsBenchLimit); ; time.Sleep(10 * time.Millisecond) {
		c, err := wa.app.Jobs().StateCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c["available"]+c["running"]+c["pending"]+c["retryable"]+c["scheduled"]+c["outbox"] == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job queue is still busy after %v: %v", jobsBenchLimit, c)
		}
	}
}

// webhookReceiver is the local webhook endpoint. It answers 200 at once and
// counts deliveries by webhook-id, so that a delivery sent twice shows as
// a duplicate, and notes when the latest one arrived.
type webhookReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	ids   map[string]bool
	total int
	last  time.Time
}

func newWebhookReceiver() *webhookReceiver {
	r := &webhookReceiver{ids: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("webhook-id")
		_, _ = io.Copy(io.Discard, req.Body)
		now := time.Now()
		r.mu.Lock()
		r.total++
		if id != "" {
			r.ids[id] = true
		}
		r.last = now
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	return r
}

// counts returns the deliveries received, how many webhook-ids they
// carried, and when the latest arrived.
func (r *webhookReceiver) counts() (total, unique int, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total, len(r.ids), r.last
}

// waitFor waits until the receiver has n deliveries in all and returns
// when the n-th arrived.
func (r *webhookReceiver) waitFor(n int) (time.Time, error) {
	for deadline := time.Now().Add(jobsBenchLimit); ; time.Sleep(2 * time.Millisecond) {
		total, _, last := r.counts()
		if total >= n {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("the receiver has %d deliveries of %d after %v", total, n, jobsBenchLimit)
		}
	}
}

// benchDeliveries creates deliveryCount posts with the webhook active,
// one after the other, and times from the first create until the
// webhookReceiver has every delivery, each under its own webhook-id.
func benchDeliveries(t *testing.T, wa *webhookBenchApp) deliveryResult {
	wa.setWebhook(t, true)
	before, beforeUnique, _ := wa.rc.counts()
	start := time.Now()
	for i := range deliveryCount {
		wa.create(t, i)
	}
	creates := time.Since(start)
	last, err := wa.rc.waitFor(before + deliveryCount)
	if err != nil {
		t.Fatal(err)
	}
	wa.waitQuiet(t)
	total, unique, _ := wa.rc.counts()
	r := deliveryResult{Deliveries: unique - beforeUnique, Duplicates: (total - before) - (unique - beforeUnique), Creates: creates, All: last.Sub(start)}
	if r.Deliveries != deliveryCount || r.Duplicates != 0 {
		t.Errorf("%d creates: %d distinct webhook-ids received, %d duplicates", deliveryCount, r.Deliveries, r.Duplicates)
	}
	t.Logf("deliveries: %d in %v (creates took %v): %.0f/s", r.Deliveries, r.All.Round(time.Millisecond), r.Creates.Round(time.Millisecond), float64(r.Deliveries)/r.All.Seconds())
	wa.setWebhook(t, false)
	return r
}

// benchWebhookCost times the same create without and with the active
// webhook, costRounds rounds of costPerRound creates each, the order
// swapped every round. A phase with the webhook lasts until its
// deliveries are done, so its background work (drain, fetch, delivery,
// completion) competes with its own creates, as it would in production,
// but not with the next phase's.
func benchWebhookCost(t *testing.T, wa *webhookBenchApp) costResult {
	var p50 [2][]time.Duration // [0] without, [1] with
	var mean [2][]time.Duration
	n := 0
	for round := range costRounds {
		for k := range 2 {
			with := (round+k)%2 == 1
			if with {
				wa.setWebhook(t, true)
			}
			before, _, _ := wa.rc.counts()
			ds := make([]time.Duration, costPerRound)
			for i := range ds {
				ds[i] = wa.create(t, n)
				n++
			}
			if with {
				if _, err := wa.rc.waitFor(before + costPerRound); err != nil {
					t.Fatal(err)
				}
				wa.setWebhook(t, false)
			}
			wa.waitQuiet(t)
			if after, _, _ := wa.rc.counts(); !with && after != before {
				t.Fatalf("%d deliveries without an active webhook", after-before)
			}
			slices.Sort(ds)
			var sum time.Duration
			for _, d := range ds {
				sum += d
			}
			m := 0
			if with {
				m = 1
			}
			p50[m] = append(p50[m], percentile(ds, 50))
			mean[m] = append(mean[m], sum/time.Duration(len(ds)))
			t.Logf("round %d webhook=%-5t p50 %v mean %v p99 %v", round+1, with, percentile(ds, 50), sum/time.Duration(len(ds)), percentile(ds, 99))
		}
	}
	return costResult{P50Without: jobsMedianDuration(p50[0]), P50With: jobsMedianDuration(p50[1]), MeanWithout: jobsMedianDuration(mean[0]), MeanWith: jobsMedianDuration(mean[1]),
		P50Ratio: pairedRatio(durations(p50[1]), durations(p50[0])), MeanRatio: pairedRatio(durations(mean[1]), durations(mean[0]))}
}

// jobsMedianDuration is median for durations.
func jobsMedianDuration(ds []time.Duration) time.Duration {
	return time.Duration(median(durations(ds)))
}

// durations converts ds to float64 nanoseconds for median and pairedRatio.
func durations(ds []time.Duration) []float64 {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return xs
}

// pairedRatio is the median over rounds of a[r]÷b[r]: a and b hold one
// figure per round, measured next to each other.
func pairedRatio(a, b []float64) float64 {
	rs := make([]float64, 0, len(a))
	for r := range min(len(a), len(b)) {
		rs = append(rs, jobsRatio(a[r], b[r]))
	}
	return median(rs)
}

// renderJobsBench writes the figures as the markdown of
// results/jobs-latest.md.
func renderJobsBench(when time.Time, hi HostInfo, load [2]string, results []jobsBenchResult, skipped []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Jobs and webhooks\n\n`PLINTH_BENCH_JOBS=1 go test -run TestJobsBench -v ./bench`, %s, %s, %d CPUs (%s)",
		when.Format("2006-01-02 15:04 MST"), hi.GoVersion, hi.CPUs, hi.CPUModel)
	if hi.Commit != "" {
		fmt.Fprintf(&b, ", commit %s", hi.Commit)
	}
	fmt.Fprintf(&b, "; 1-minute load average %s at the start, %s at the end.\n", load[0], load[1])
	for _, s := range skipped {
		fmt.Fprintf(&b, "\n%s: skipped (unreachable).\n", s)
	}
	fmt.Fprintf(&b, "\n## Queue throughput\n\n%d alternating rounds × %d no-op jobs, %d workers, one goroutine enqueueing, a fresh database per run; medians (slowest–fastest round). ÷ bare River: enqueue / enqueue+complete, the median of each round's ratio to the bare River run of the same round.\n\n",
		jobsRounds, jobsPerRound, jobsWorkers)
	b.WriteString("| db | queue | enqueue jobs/s | enqueue+complete jobs/s | ÷ bare River |\n|---|---|--:|--:|--:|\n")
	for _, r := range results {
		for _, q := range r.Queues {
			fmt.Fprintf(&b, "| %s | %s | %.0f (%.0f–%.0f) | %.0f (%.0f–%.0f) | %.2f / %.2f |\n", r.DB, q.Name,
				q.Enqueue, q.EnqueueRange[0], q.EnqueueRange[1], q.Complete, q.CompleteRange[0], q.CompleteRange[1],
				q.EnqueueRatio, q.CompleteRatio)
		}
	}
	fmt.Fprintf(&b, "\n## Webhook deliveries\n\n%d sequential creates through the in-process handler with one active webhook to a local receiver (200 at once); from the first create until the receiver has every delivery.\n\n", deliveryCount)
	b.WriteString("| db | deliveries (distinct webhook-ids) | duplicates | creates took | all delivered after | deliveries/s |\n|---|--:|--:|--:|--:|--:|\n")
	for _, r := range results {
		d := r.Deliveries
		fmt.Fprintf(&b, "| %s | %d | %d | %v | %v | %.0f |\n", r.DB, d.Deliveries, d.Duplicates,
			d.Creates.Round(time.Millisecond), d.All.Round(time.Millisecond), float64(d.Deliveries)/d.All.Seconds())
	}
	fmt.Fprintf(&b, "\n## Webhook cost on a record create\n\n%d alternating rounds × %d sequential creates through the in-process handler, without and with one active webhook on the collection (each phase with it lasts until its deliveries are done); medians over rounds of each round's p50 and mean; the ratios are the medians of each round's with÷without.\n\n",
		costRounds, costPerRound)
	b.WriteString("| db | p50 without | p50 with | ratio | mean without | mean with | ratio |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range results {
		c := r.Cost
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s | %s | %.2f |\n", r.DB, fmtDur(c.P50Without), fmtDur(c.P50With),
			c.P50Ratio, fmtDur(c.MeanWithout), fmtDur(c.MeanWith), c.MeanRatio)
	}
	return b.String()
}

// loadAverage is the machine's 1-minute load average ("?" where /proc is
// missing): on a shared machine it says how much to trust the figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// jobsRatio is a÷b, 0 when b is 0.
func jobsRatio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
