package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	m.latency.WithLabelValues(route, code).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// dbCollector exports the connection pools' figures at scrape time.
type dbCollector struct{ st *store.Store }

var (
	dbOpen  = prometheus.NewDesc("plinth_db_connections_open", "Open database connections.", []string{"pool"}, nil)
	dbInUse = prometheus.NewDesc("plinth_db_connections_in_use", "Database connections in use.", []string{"pool"}, nil)
	dbIdle  = prometheus.NewDesc("plinth_db_connections_idle", "Idle database connections.", []string{"pool"}, nil)
	dbWait  = prometheus.NewDesc("plinth_db_wait_count_total", "Times a request waited for a database connection.", []string{"pool"}, nil)
	dbWaitT = prometheus.NewDesc("plinth_db_wait_seconds_total", "Time spent waiting for database connections.", []string{"pool"}, nil)
)

func (dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbOpen, dbInUse, dbIdle, dbWait, dbWaitT} {
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
}

// RegisterRuntime adds the Go runtime and process collectors to reg.
func RegisterRuntime(reg *prometheus.Registry) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
