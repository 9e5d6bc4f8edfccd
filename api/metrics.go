package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plinthdev/plinth/realtime"
	"github.com/plinthdev/plinth/store"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry, st *store.Store) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plinth_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
	}
	reg.MustRegister(m.requests, m.latency, dbCollector{st})
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	if streamRoutes[route] {
		return // a stream's duration is its lifetime, not a latency
	}
	m.latency.WithLabelValues(route, code).Observe(d.Seconds())
}

var streamRoutes = map[string]bool{"GET /api/realtime": true, "GET /api/realtime/ws": true}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// metricsHandler serves GET /metrics to superusers and, when a metrics
// token is configured, to a scraper that presents it as a bearer token.
// The figures (routes, statuses, pool sizes, memory) help whoever plans an
// attack as much as whoever runs the service, so they are not public.
func (s *Server) metricsHandler() http.Handler {
	h := s.metrics.handler()
	var want [sha256.Size]byte
	if s.cfg.MetricsToken != "" {
		want = sha256.Sum256([]byte(s.cfg.MetricsToken))
	}
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.MetricsToken != "" {
			got := strings.TrimSpace(r.Header.Get("Authorization"))
			if len(got) > 7 && strings.EqualFold(got[:7], "bearer ") {
				got = strings.TrimSpace(got[7:])
			}
			// Comparing hashes keeps the comparison constant-time whatever
			// the lengths.
			sum := sha256.Sum256([]byte(got))
			if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
				h.ServeHTTP(w, r)
				return nil
			}
		}
		rec := authRecord(r)
		if rec == nil {
			return unauthorized("The request requires a superuser authorization token or the metrics token.")
		}
		if !isSuperuser(rec) {
			return forbidden("The authorized record is not allowed to perform this action.")
		}
		h.ServeHTTP(w, r)
		return nil
	})
}

// dbCollector exports the connection pools' figures at scrape time.
type dbCollector struct{ st *store.Store }

var (
	dbOpen  = prometheus.NewDesc("plinth_db_connections_open", "Open database connections.", []string{"pool"}, nil)
	dbInUse = prometheus.NewDesc("plinth_db_connections_in_use", "Database connections in use.", []string{"pool"}, nil)
	dbIdle  = prometheus.NewDesc("plinth_db_connections_idle", "Idle database connections.", []string{"pool"}, nil)
	dbWait  = prometheus.NewDesc("plinth_db_wait_count_total", "Times a request waited for a database connection.", []string{"pool"}, nil)
	dbWaitT = prometheus.NewDesc("plinth_db_wait_seconds_total", "Time spent waiting for database connections.", []string{"pool"}, nil)
	// The two group commit counters' ratio is the mean batch size.
	dbCommits = prometheus.NewDesc("plinth_db_group_commits_total", "SQLite commits of record write transactions (group commit).", nil, nil)
	dbGrouped = prometheus.NewDesc("plinth_db_group_committed_transactions_total", "Record write transactions those commits held.", nil, nil)
)

func (dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbOpen, dbInUse, dbIdle, dbWait, dbWaitT, dbCommits, dbGrouped} {
		ch <- d
	}
}

func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	w, r := c.st.PoolStats()
	emit := func(name string, open, inUse, idle int, waits int64, wait time.Duration) {
		ch <- prometheus.MustNewConstMetric(dbOpen, prometheus.GaugeValue, float64(open), name)
		ch <- prometheus.MustNewConstMetric(dbInUse, prometheus.GaugeValue, float64(inUse), name)
		ch <- prometheus.MustNewConstMetric(dbIdle, prometheus.GaugeValue, float64(idle), name)
		ch <- prometheus.MustNewConstMetric(dbWait, prometheus.CounterValue, float64(waits), name)
		ch <- prometheus.MustNewConstMetric(dbWaitT, prometheus.CounterValue, wait.Seconds(), name)
	}
	if c.st.Dialect().Name() == "postgres" {
		emit("pool", w.OpenConnections, w.InUse, w.Idle, w.WaitCount, w.WaitDuration)
		return
	}
	emit("write", w.OpenConnections, w.InUse, w.Idle, w.WaitCount, w.WaitDuration)
	emit("read", r.OpenConnections, r.InUse, r.Idle, r.WaitCount, r.WaitDuration)
	commits, txs := c.st.CommitBatches()
	ch <- prometheus.MustNewConstMetric(dbCommits, prometheus.CounterValue, float64(commits))
	ch <- prometheus.MustNewConstMetric(dbGrouped, prometheus.CounterValue, float64(txs))
}

// RegisterRuntime adds the Go runtime and process collectors to reg.
func RegisterRuntime(reg *prometheus.Registry) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// realtimeCollector exports the broker's counters at scrape time.
type realtimeCollector struct{ b *realtime.Broker }

var (
	rtClients = prometheus.NewDesc("plinth_realtime_clients", "Connected realtime clients.", []string{"transport"}, nil)
	rtSubs    = prometheus.NewDesc("plinth_realtime_subscriptions", "Subscriptions of connected realtime clients.", nil, nil)
	rtEvents  = prometheus.NewDesc("plinth_realtime_events_total", "Realtime events by outcome.", []string{"outcome"}, nil)
	rtFrames  = prometheus.NewDesc("plinth_realtime_frames_sent_total", "Frames written to realtime clients.", nil, nil)
	rtDropped = prometheus.NewDesc("plinth_realtime_clients_closed_total", "Realtime clients closed by the server, by reason.", []string{"reason"}, nil)
)

func (realtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{rtClients, rtSubs, rtEvents, rtFrames, rtDropped} {
		ch <- d
	}
}

func (c realtimeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.b.Stats()
	ch <- prometheus.MustNewConstMetric(rtClients, prometheus.GaugeValue, float64(s.SSEClients), "sse")
	ch <- prometheus.MustNewConstMetric(rtClients, prometheus.GaugeValue, float64(s.WSClients), "websocket")
	ch <- prometheus.MustNewConstMetric(rtSubs, prometheus.GaugeValue, float64(s.Subscriptions))
	ch <- prometheus.MustNewConstMetric(rtEvents, prometheus.CounterValue, float64(s.EventsPublished), "published")
	ch <- prometheus.MustNewConstMetric(rtEvents, prometheus.CounterValue, float64(s.EventsReceived), "received")
	ch <- prometheus.MustNewConstMetric(rtEvents, prometheus.CounterValue, float64(s.EventsDropped), "dropped")
	ch <- prometheus.MustNewConstMetric(rtFrames, prometheus.CounterValue, float64(s.FramesSent))
	ch <- prometheus.MustNewConstMetric(rtDropped, prometheus.CounterValue, float64(s.ClientsDroppedSlow), "slow")
	ch <- prometheus.MustNewConstMetric(rtDropped, prometheus.CounterValue, float64(s.ClientsClosedIdle), "idle")
	ch <- prometheus.MustNewConstMetric(rtDropped, prometheus.CounterValue, float64(s.ClientsClosedLifetime), "lifetime")
}
