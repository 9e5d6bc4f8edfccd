package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the queue's Prometheus figures: runs by kind and outcome,
// the wait from due to start, the run time, and (at scrape time) the jobs
// in each state.
type Metrics struct {
	runs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	runTime *prometheus.HistogramVec
}

// NewMetrics registers the queue's metrics on reg; states counts the jobs
// per state when scraped (Queue.StateCounts once the queue exists).
func NewMetrics(reg prometheus.Registerer, states func(ctx context.Context) (map[string]int64, error)) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plinth_jobs_runs_total", Help: "Job runs by kind and outcome (ok, error)."}, []string{"kind", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "plinth_jobs_latency_seconds", Help: "Time from when a job was due to when its run started.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"kind"}),
		runTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "plinth_jobs_run_seconds", Help: "Run time of jobs.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"kind"}),
	}
	reg.MustRegister(m.runs, m.latency, m.runTime, &stateCollector{states: states,
		desc: prometheus.NewDesc("plinth_jobs", "Jobs in the queue by state (available is the queue depth).", []string{"state"}, nil)})
	return m
}

func (m *Metrics) observe(kind string, due, start time.Time, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.runs.WithLabelValues(kind, outcome).Inc()
	m.latency.WithLabelValues(kind).Observe(max(0, start.Sub(due).Seconds()))
	m.runTime.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

type stateCollector struct {
	states func(ctx context.Context) (map[string]int64, error)
	desc   *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.states(ctx)
	if err != nil {
		return
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), s)
	}
}

// StateCounts counts the jobs in each state, outbox rows not yet handed
// to the queue as "outbox".
func (q *Queue) StateCounts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, s := range []string{"available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled", "pending"} {
		out[s] = 0
	}
	rs, err := q.st.ReadDB().QueryContext(ctx, `SELECT state, COUNT(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var s string
		var n int64
		if err := rs.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	var n int64
	if err := q.st.ReadDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM _outbox`).Scan(&n); err != nil {
		return nil, err
	}
	out["outbox"] = n
	return out, nil
}
