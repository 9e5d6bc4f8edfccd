package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// RequestFunc builds one request of a scenario. Each load worker calls it
// with its own random source, so it needs no locking of its own.
type RequestFunc func(ctx context.Context, rng *rand.Rand) (*http.Request, error)

// LoadConfig bounds one load run. Zero values mean the documented defaults.
type LoadConfig struct {
	// Concurrency is the number of workers, each with one request in
	// flight at a time over a kept-alive connection; default 8.
	Concurrency int
	// Duration bounds the measured phase; default 5s.
	Duration time.Duration
	// MaxRequests bounds the measured phase by count; 0 means no bound.
	MaxRequests int64
	// Warmup runs before the measured phase and is not recorded; 0 skips it.
	Warmup time.Duration
	// ExpectStatus is the status that counts as success; default 200.
	ExpectStatus int
}

func (c LoadConfig) withDefaults() LoadConfig {
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.ExpectStatus == 0 {
		c.ExpectStatus = http.StatusOK
	}
	return c
}

// LoadResult is the outcome of one measured phase.
type LoadResult struct {
	Requests   int64         `json:"requests"`
	Errors     int64         `json:"errors"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	RPS        float64       `json:"rps"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
	Mean       time.Duration `json:"mean_ns"`
	FirstError string        `json:"first_error,omitempty"`
}

// NewClient returns an HTTP client for load generation: keep-alive on, one
// idle connection per worker, no compression, no proxy.
func NewClient(concurrency int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency * 2,
		MaxIdleConnsPerHost: concurrency * 2,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// RunLoad drives gen against a server with cfg.Concurrency workers: first a
// warm-up of cfg.Warmup that is thrown away, then the measured phase, which
// ends at cfg.Duration or after cfg.MaxRequests requests, whichever is first.
// Requests already in flight at the deadline are allowed to finish and are
// counted. A request fails when it cannot be built or sent, its body cannot
// be read, or its status is not cfg.ExpectStatus.
func RunLoad(ctx context.Context, client *http.Client, cfg LoadConfig, gen RequestFunc) LoadResult {
	cfg = cfg.withDefaults()
	if cfg.Warmup > 0 {
		runPhase(ctx, client, cfg, gen, cfg.Warmup, 0, 1)
	}
	return runPhase(ctx, client, cfg, gen, cfg.Duration, cfg.MaxRequests, 2)
}

// worker holds one worker's samples; merged after the phase.
type worker struct {
	lat      []time.Duration
	errors   int64
	firstErr string
}

func runPhase(ctx context.Context, client *http.Client, cfg LoadConfig, gen RequestFunc, d time.Duration, maxReq int64, seed uint64) LoadResult {
	var (
		issued  atomic.Int64
		wg      sync.WaitGroup
		workers = make([]*worker, cfg.Concurrency)
	)
	start := time.Now()
	deadline := start.Add(d)
	perWorker := 1024
	if maxReq > 0 {
		perWorker = int(min(maxReq/int64(cfg.Concurrency)+1, 1<<16))
	}
	for i := range workers {
		w := &worker{lat: make([]time.Duration, 0, perWorker)}
		workers[i] = w
		rng := rand.New(rand.NewPCG(seed, uint64(i)+1))
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if maxReq > 0 && issued.Add(1) > maxReq {
					return
				}
				t0 := time.Now()
				err := doOne(ctx, client, gen, rng, cfg.ExpectStatus)
				w.lat = append(w.lat, time.Since(t0))
				if err != nil {
					w.errors++
					if w.firstErr == "" {
						w.firstErr = err.Error()
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := LoadResult{Elapsed: elapsed}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		res.Errors += w.errors
		if res.FirstError == "" {
			res.FirstError = w.firstErr
		}
	}
	res.Requests = int64(len(all))
	if elapsed > 0 {
		res.RPS = float64(res.Requests) / elapsed.Seconds()
	}
	summarize(&res, all)
	return res
}

// summarize fills the latency statistics of res from samples.
func summarize(res *LoadResult, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	res.Mean = sum / time.Duration(len(samples))
	res.P50 = percentile(samples, 50)
	res.P90 = percentile(samples, 90)
	res.P99 = percentile(samples, 99)
	res.Max = samples[len(samples)-1]
}

// percentile returns the nearest-rank p-th percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// doOne sends one request and drains its body.
func doOne(ctx context.Context, client *http.Client, gen RequestFunc, rng *rand.Rand, expect int) error {
	req, err := gen(ctx, rng)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != expect {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, body)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	return nil
}
