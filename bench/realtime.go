package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// The realtime scenario (the former REALTIME HOOK) is not a ratio against
// the baseline, which has no broadcaster: it holds many subscribers on a
// fresh Plinth process and measures fan-out latency, server memory per
// idle connection, and create latency with and without the subscribers,
// once over SSE and once over WebSocket. See docs/benchmarks.md.

// realtimeScenario is the scenario's name in --scenarios.
const realtimeScenario = "realtime_fanout"

// Realtime targets (issue 4, fan-out tightened by the performance issue;
// see docs/benchmarks.md).
const (
	rtFanoutP99Target = 150 * time.Millisecond
	rtBytesPerConnCap = 16 << 10
	// A create with subscribers connected may be at most this much slower
	// (p50) than without, plus rtCreateSlack for timer noise.
	rtCreateRatioCap = 1.25
	rtCreateSlack    = 500 * time.Microsecond
)

// RealtimeResult is one transport's run of the realtime scenario.
type RealtimeResult struct {
	DB        string `json:"db"`
	Transport string `json:"transport"` // "sse" or "ws"
	// Subscribers is the number asked for; Connected the number that
	// connected and subscribed.
	Subscribers int `json:"subscribers"`
	Connected   int `json:"connected"`
	// ConnectSeconds is how long connecting and subscribing them took.
	ConnectSeconds float64 `json:"connect_seconds"`
	// Events is the number of fan-out events; Delivered and Expected count
	// event arrivals (Expected = Events × Connected).
	Events    int   `json:"events"`
	Delivered int64 `json:"delivered"`
	Expected  int64 `json:"expected"`
	// Fanout is the latency of each delivery: arrival at a subscriber
	// minus the moment the create request was sent.
	Fanout LoadResult `json:"fanout"`
	// LastArrival is, per event, the latency of its last delivery (the
	// time to reach everyone).
	LastArrival LoadResult `json:"last_arrival"`
	// FanoutCPUPerEvent is the server's CPU seconds per event during the
	// fan-out phase.
	FanoutCPUPerEvent float64 `json:"fanout_cpu_seconds_per_event"`
	// FanoutBackgroundShare is the share of the machine used by other
	// processes during the fan-out phase (see ProcSample).
	FanoutBackgroundShare float64 `json:"fanout_background_cpu_share"`
	// RSSIdle0 and RSSIdleN are the server's VmRSS before connecting and
	// with every subscriber connected and idle; BytesPerConn is their
	// difference over Connected.
	RSSIdle0     int64   `json:"rss_idle0_bytes"`
	RSSIdleN     int64   `json:"rss_idleN_bytes"`
	BytesPerConn float64 `json:"bytes_per_conn"`
	// HeapPerConn, StackPerConn and GoroutinesPerConn break the cost down
	// from the server's Go metrics (heap in use, stacks in use,
	// goroutines), same difference over Connected.
	HeapPerConn       float64 `json:"heap_bytes_per_conn"`
	StackPerConn      float64 `json:"stack_bytes_per_conn"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn"`
	// CreateEvent0 and CreateEventN are the latencies of the single
	// creates that trigger the events (one at a time), without
	// subscribers and with all of them subscribed to the collection.
	CreateEvent0 LoadResult `json:"create_event0"`
	CreateEventN LoadResult `json:"create_eventN"`
	// CreateLoad0 and CreateLoadN are the create load (into a collection
	// nobody subscribes to) without and with the subscribers connected.
	CreateLoad0 LoadResult `json:"create_load0"`
	CreateLoadN LoadResult `json:"create_loadN"`
	// Verdicts per target; Verdict is PASS when all hold.
	FanoutOK    bool   `json:"fanout_ok"`
	MemoryOK    bool   `json:"memory_ok"`
	CreateOK    bool   `json:"create_ok"`
	Verdict     string `json:"verdict"`
	Unavailable string `json:"unavailable,omitempty"`
	Notes       string `json:"notes,omitempty"`
	// Round numbers the run when --rounds repeats the scenario (0
	// otherwise).
	Round int `json:"round,omitempty"`
}

// runRealtime runs the realtime scenario over SSE then WebSocket, each on a
// fresh Plinth process on db, so the memory figures hold only the
// connections and not what earlier scenarios left in the heap. With
// --rounds it does so that many times, the transports alternating, since
// the fan-out target holds over repeated runs and one run's p99 moves
// with the machine's load.
func (h *harness) runRealtime(ctx context.Context, db string, dbArgs []string) {
	for round := range max(h.cfg.Rounds, 1) {
		for _, transport := range []string{"sse", "ws"} {
			if ctx.Err() != nil {
				return
			}
			r := h.realtimeTransport(ctx, db, dbArgs, transport)
			if h.cfg.Rounds > 1 {
				r.Round = round + 1
			}
			judgeRealtime(&r)
			h.logf("%s %-4s realtime %s", db, r.label(), realtimeSummary(r))
			h.rep.Realtime = append(h.rep.Realtime, r)
		}
	}
}

// label is the transport, with the round number when there are several.
func (r RealtimeResult) label() string {
	if r.Round > 0 {
		return fmt.Sprintf("%s #%d", r.Transport, r.Round)
	}
	return r.Transport
}

// realtimeTransport measures one transport on its own server process.
func (h *harness) realtimeTransport(ctx context.Context, db string, dbArgs []string, transport string) RealtimeResult {
	n, events := h.cfg.RTSubscribers, h.cfg.RTEvents
	res := RealtimeResult{DB: db, Transport: transport, Subscribers: n, Events: events}
	fail := func(format string, args ...any) RealtimeResult {
		res.Unavailable = fmt.Sprintf(format, args...)
		return res
	}
	if h.bins.plinth == "" {
		return fail("%s", plinthBuildFailed+h.bins.plinthErr)
	}
	if err := raiseFDLimit(uint64(n) + 1024); err != nil {
		return fail("%v", err)
	}

	dir, err := os.MkdirTemp("", "plinth-bench-rt-"+db+"-")
	if err != nil {
		return fail("%v", err)
	}
	if !h.cfg.Keep {
		defer os.RemoveAll(dir) // after the server stopped (defers run last first)
	}
	srv, api, err := h.startRealtimePlinth(ctx, dir, dbArgs, db+"-"+transport)
	if srv != nil {
		defer srv.stop()
	}
	if err != nil {
		return fail("%v", err)
	}
	eventsColl, loadColl := "rt_"+transport+"_events", "rt_"+transport+"_load"
	for _, name := range []string{eventsColl, loadColl} {
		err := api.do(ctx, http.MethodPost, "/api/collections", map[string]any{
			"name": name, "type": "base", "listRule": "", "viewRule": "", "createRule": "",
			"fields": []map[string]any{{"name": "title", "type": "text"}, {"name": "n", "type": "number"}},
		}, nil)
		if err != nil {
			return fail("create collection %s: %v", name, err)
		}
	}

	client := NewClient(h.cfg.Load.Concurrency)
	loadCfg := LoadConfig{Concurrency: h.cfg.Load.Concurrency, Duration: h.cfg.Load.Duration, MaxRequests: h.cfg.Load.MaxRequests, Warmup: h.cfg.Warmup}
	loadGen := func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		return jsonRequest(ctx, http.MethodPost, srv.baseURL+"/api/collections/"+loadColl+"/records",
			map[string]any{"title": fmt.Sprintf("load %d", rng.IntN(1_000_000)), "n": rng.IntN(1000)})
	}
	gap := 200 * time.Millisecond
	settle := 2 * time.Second
	if h.cfg.Smoke {
		gap, settle = 50*time.Millisecond, 500*time.Millisecond
	}

	ct, err := startCreateTimer(srv.baseURL + "/api/collections/" + eventsColl + "/records")
	if err != nil {
		return fail("start the create timer: %v", err)
	}
	defer ct.close()

	// Without subscribers: the create load, then the event creates alone.
	res.CreateLoad0 = RunLoad(ctx, client, loadCfg, loadGen)
	fo := newFanout(events, 0)
	res.CreateEvent0 = fo.createEvents(ctx, ct, gap, nil)

	time.Sleep(settle)
	res.RSSIdle0 = settledRSS(srv.pid())
	m0 := scrapeGoMetrics(ctx, srv.baseURL)

	// Connect and subscribe everyone.
	fo = newFanout(events, n)
	t0 := time.Now()
	subs, connErr := connectSubscribers(ctx, srv.baseURL, transport, eventsColl+"/*", n, fo)
	res.ConnectSeconds = time.Since(t0).Seconds()
	res.Connected = len(subs)
	defer func() {
		srv.stop() // the server ends the streams first: no TIME_WAIT on the client ports
		for _, s := range subs {
			s.close()
		}
	}()
	if connErr != nil {
		res.Notes = fmt.Sprintf("%d of %d subscribers connected; first error: %v", len(subs), n, connErr)
	}
	if len(subs) == 0 {
		return fail("no subscriber connected: %v", connErr)
	}
	fo.connected = len(subs)
	time.Sleep(settle)
	res.RSSIdleN = settledRSS(srv.pid())
	mN := scrapeGoMetrics(ctx, srv.baseURL)
	conns := float64(len(subs))
	res.BytesPerConn = float64(res.RSSIdleN-res.RSSIdle0) / conns
	res.HeapPerConn = (mN["go_memstats_heap_inuse_bytes"] - m0["go_memstats_heap_inuse_bytes"]) / conns
	res.StackPerConn = (mN["go_memstats_stack_inuse_bytes"] - m0["go_memstats_stack_inuse_bytes"]) / conns
	res.GoroutinesPerConn = (mN["go_goroutines"] - m0["go_goroutines"]) / conns

	// Fan-out: one event at a time, each awaited by everyone.
	mon := startMonitor(ctx, srv.pid(), "", 50*time.Millisecond)
	var prof <-chan error
	profPath := filepath.Join(h.outDir, fmt.Sprintf("cpu-%s-%s-%s.pprof", db, realtimeScenario, transport))
	if h.cfg.Profile == realtimeScenario {
		// About the length of the fan-out phase: each event's delivery
		// (well under a second) and the gap after it.
		prof = captureProfile(ctx, srv.baseURL, time.Duration(events)*(gap+300*time.Millisecond), profPath)
	}
	var last []time.Duration
	res.CreateEventN = fo.createEvents(ctx, ct, gap, &last)
	proc := mon.stop()
	if prof != nil {
		if err := <-prof; err != nil {
			res.Notes += " CPU profile failed: " + err.Error()
		} else {
			h.rep.Profiles = append(h.rep.Profiles, filepath.Base(profPath))
		}
	}
	res.FanoutCPUPerEvent = proc.CPUSeconds / float64(max(events, 1))
	res.FanoutBackgroundShare = proc.BackgroundShare
	res.Fanout, res.Delivered = fo.latencies()
	res.Expected = int64(events) * int64(len(subs))
	summarize(&res.LastArrival, last)
	res.LastArrival.Requests = int64(len(last))

	// The create load again, everyone still connected.
	res.CreateLoadN = RunLoad(ctx, client, loadCfg, loadGen)
	return res
}

// startRealtimePlinth starts a Plinth process of its own (on SQLite in dir;
// on PostgreSQL on the run's database), logging to plinth-realtime-<name>.log,
// and returns it with a superuser API client.
func (h *harness) startRealtimePlinth(ctx context.Context, dir string, dbArgs []string, name string) (*server, *apiClient, error) {
	args := append([]string{"superuser", "upsert", superEmail, superPassword, "--dir", dir}, dbArgs...)
	if _, err := runTool(ctx, nil, h.bins.plinth, args...); err != nil {
		return nil, nil, fmt.Errorf("plinth superuser upsert: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	// Rate limits off (one IP opens thousands of streams); an idle timeout
	// far beyond the run, so streams end only when the run does.
	env := []string{"PLINTH_RATE_LIMITS=off", "PLINTH_REALTIME_IDLE_TIMEOUT=1h", "PLINTH_METRICS_TOKEN=" + benchMetricsToken}
	if h.cfg.Profile == realtimeScenario {
		env = append(env, "PLINTH_PPROF=1")
	}
	args = append([]string{"serve", "--http", addr, "--dir", dir}, dbArgs...)
	logPath := filepath.Join(h.outDir, "plinth-realtime-"+name+".log")
	srv, err := startServer(ctx, "plinth", h.bins.plinth, addr, logPath, env, time.Minute, args...)
	if err != nil {
		return nil, nil, err
	}
	api := newAPIClient(srv.baseURL)
	su, err := api.login(ctx, "_superusers", superEmail, superPassword)
	if err != nil {
		return srv, nil, fmt.Errorf("superuser login: %w", err)
	}
	api.token = su.Token
	return srv, api, nil
}

// raiseFDLimit makes sure this process may hold need file descriptors,
// raising the soft limit up to the hard one.
func raiseFDLimit(need uint64) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if rl.Cur >= need {
		return nil
	}
	if rl.Max < need {
		return fmt.Errorf("open file limit %d (hard %d) is below the %d this needs: raise ulimit -n or lower --rt-subscribers", rl.Cur, rl.Max, need)
	}
	rl.Cur = need
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}

// settledRSS samples the process's VmRSS a few times and returns the last
// sample, after the RSS stopped moving by more than 1% or a second passed.
func settledRSS(pid int) int64 {
	prev, _ := memStatus(pid, "VmRSS")
	for range 10 {
		time.Sleep(100 * time.Millisecond)
		cur, err := memStatus(pid, "VmRSS")
		if err != nil {
			return prev
		}
		if d := cur - prev; d < prev/100 && -d < prev/100 {
			return cur
		}
		prev = cur
	}
	return prev
}

// benchMetricsToken is the bearer secret the realtime runs start Plinth
// with, so that scrapeGoMetrics may read /metrics.
const benchMetricsToken = "bench-metrics-token"

// scrapeGoMetrics reads the untyped gauges of Plinth's /metrics that
// describe the Go runtime (name → value); missing ones are 0.
func scrapeGoMetrics(ctx context.Context, base string) map[string]float64 {
	out := map[string]float64{}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return out
	}
	req.Header.Set("Authorization", "Bearer "+benchMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "go_") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// fanout records when each subscriber received each event.
type fanout struct {
	events    int
	connected int
	// sent[e] is when event e's create was sent, arrivals[e][i] when
	// subscriber i received it (wall clock in unix nanoseconds, as the
	// create timer is another process; 0 = not yet); counts[e] is how
	// many have.
	sent     []int64
	arrivals [][]int64
	counts   []atomic.Int64
}

func newFanout(events, subscribers int) *fanout {
	fo := &fanout{events: events, sent: make([]int64, events), counts: make([]atomic.Int64, events)}
	fo.arrivals = make([][]int64, events)
	for e := range fo.arrivals {
		fo.arrivals[e] = make([]int64, subscribers)
	}
	return fo
}

// eventMarker prefixes the title of each fan-out record, followed by the
// event number.
var eventMarker = []byte("rtfan-")

// record notes that subscriber i received data (an event's JSON).
func (fo *fanout) record(i int, data []byte) {
	now := time.Now().UnixNano()
	k := bytes.Index(data, eventMarker)
	if k < 0 {
		return
	}
	e := 0
	digits := 0
	for _, c := range data[k+len(eventMarker):] {
		if c < '0' || c > '9' {
			break
		}
		e = e*10 + int(c-'0')
		digits++
	}
	if digits == 0 || e >= fo.events || i >= len(fo.arrivals[e]) || fo.arrivals[e][i] != 0 {
		return
	}
	fo.arrivals[e][i] = now
	fo.counts[e].Add(1)
}

// createEvents has ct create the events one at a time: each create is
// sent, then (with subscribers) awaited by all of them, up to 30 s, then
// gap passes. It returns the creates' own latencies, and fills last (when
// not nil) with each event's time to reach every subscriber.
func (fo *fanout) createEvents(ctx context.Context, ct *createTimer, gap time.Duration, last *[]time.Duration) LoadResult {
	var lat []time.Duration
	var res LoadResult
	for e := range fo.events {
		if ctx.Err() != nil {
			break
		}
		sent, d, err := ct.create(e)
		if sent.IsZero() {
			res.Errors++
			if res.FirstError == "" && err != nil {
				res.FirstError = err.Error()
			}
			break // the timer is gone
		}
		fo.sent[e] = sent.UnixNano()
		lat = append(lat, d)
		if err != nil {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = err.Error()
			}
		}
		if fo.connected > 0 {
			deadline := time.Now().Add(30 * time.Second)
			for fo.counts[e].Load() < int64(fo.connected) && time.Now().Before(deadline) && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			if last != nil {
				var worst int64
				for _, a := range fo.arrivals[e][:fo.connected] {
					worst = max(worst, a)
				}
				if worst > 0 {
					*last = append(*last, time.Duration(worst-fo.sent[e]))
				}
			}
		}
		time.Sleep(gap)
	}
	res.Requests = int64(len(lat))
	summarize(&res, lat)
	return res
}

// latencies returns the delivery latencies of all events and their count.
func (fo *fanout) latencies() (LoadResult, int64) {
	var all []time.Duration
	for e := range fo.events {
		for _, a := range fo.arrivals[e][:fo.connected] {
			if a != 0 {
				all = append(all, time.Duration(a-fo.sent[e]))
			}
		}
	}
	var res LoadResult
	res.Requests = int64(len(all))
	summarize(&res, all)
	return res, int64(len(all))
}

// subscriber is one open realtime connection; its slot is its index in
// the fan-out's arrival table.
type subscriber interface {
	close()
	setSlot(int)
}

// connectSubscribers opens n subscribers of topic (64 at a time), spreading
// their source addresses over 127.0.0.1-4 so that ephemeral ports are not
// the limit. It returns those that connected and subscribed, and the first
// error.
func connectSubscribers(ctx context.Context, base, transport, topic string, n int, fo *fanout) ([]subscriber, error) {
	addr := strings.TrimPrefix(base, "http://")
	postClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 64}}
	var locals []*net.TCPAddr
	for i := range 4 {
		locals = append(locals, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))})
	}
	var (
		mu       sync.Mutex
		subs     = make([]subscriber, 0, n)
		firstErr error
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				var s subscriber
				var err error
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				if transport == "ws" {
					s, err = dialWS(cctx, locals[i%len(locals)], "ws://"+addr+"/api/realtime/ws", topic, fo, i)
				} else {
					s, err = dialSSE(cctx, addr, locals[i%len(locals)], postClient, base, topic, fo, i)
				}
				cancel()
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
				} else {
					subs = append(subs, s)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// Idle keep-alive connections of the POSTs would count as subscribers'
	// memory.
	postClient.CloseIdleConnections()
	// The fan-out counts the first len(subs) slots: number them densely
	// (before any event is sent), whoever failed to connect.
	for j, s := range subs {
		s.setSlot(j)
	}
	return subs, firstErr
}

// sseSub is a raw SSE client: one goroutine, small buffers.
type sseSub struct {
	conn net.Conn
	slot atomic.Int64
}

func (s *sseSub) close()           { s.conn.Close() }
func (s *sseSub) setSlot(slot int) { s.slot.Store(int64(slot)) }

// dialSSE opens GET /api/realtime, reads PB_CONNECT, POSTs the
// subscription and starts reading events.
func dialSSE(ctx context.Context, addr string, local *net.TCPAddr, post *http.Client, base, topic string, fo *fanout, slot int) (*sseSub, error) {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: local}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &sseSub{conn: conn}
	s.slot.Store(int64(slot))
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, "GET /api/realtime HTTP/1.1\r\nHost: "+addr+"\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 1024), nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/realtime: status %d", resp.StatusCode)
	}
	body := bufio.NewReaderSize(resp.Body, 1024)
	var clientID string
	for clientID == "" {
		line, err := body.ReadSlice('\n')
		if err != nil {
			return nil, fmt.Errorf("reading PB_CONNECT: %w", err)
		}
		if id, found := bytes.CutPrefix(line, []byte("id:")); found {
			clientID = string(bytes.TrimSpace(id))
		}
	}
	req, err := jsonRequest(ctx, http.MethodPost, base+"/api/realtime", map[string]any{"clientId": clientID, "subscriptions": []string{topic}})
	if err != nil {
		return nil, err
	}
	pr, err := post.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, pr.Body)
	pr.Body.Close()
	if pr.StatusCode != http.StatusNoContent {
		return nil, fmt.Errorf("POST /api/realtime: status %d", pr.StatusCode)
	}
	conn.SetDeadline(time.Time{})
	ok = true
	go func() {
		for {
			line, err := body.ReadSlice('\n')
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return
			}
			if data, found := bytes.CutPrefix(line, []byte("data:")); found {
				fo.record(int(s.slot.Load()), data)
			}
		}
	}()
	return s, nil
}

// wsSub is a WebSocket client. It reads frames with gobwas/ws into one
// reused buffer, as the SSE client reads lines, so that the harness's
// 10,000 readers cost the shared CPUs as little for one transport as for
// the other.
type wsSub struct {
	conn net.Conn
	slot atomic.Int64
}

func (s *wsSub) close()           { s.conn.Close() }
func (s *wsSub) setSlot(slot int) { s.slot.Store(int64(slot)) }

// wsMessage is the part of a server message the benchmark reads.
type wsMessage struct {
	Type     string `json:"type"`
	ClientID string `json:"clientId"`
	Status   int    `json:"status"`
	Message  string `json:"message"`
}

// wsReadData reads the next data message into buf (reused), answering
// pings on the way.
func wsReadData(br *bufio.Reader, conn net.Conn, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return buf, err
		}
		n := len(buf)
		buf = slices.Grow(buf, int(h.Length))[:n+int(h.Length)]
		if _, err := io.ReadFull(br, buf[n:]); err != nil {
			return buf, err
		}
		switch h.OpCode {
		case ws.OpPing:
			err := wsutil.WriteClientMessage(conn, ws.OpPong, buf[n:])
			buf = buf[:n]
			if err != nil {
				return buf, err
			}
			continue
		case ws.OpPong:
			buf = buf[:n]
			continue
		case ws.OpClose:
			return buf, io.EOF
		}
		if h.Fin {
			return buf, nil
		}
	}
}

// dialWS connects from local, reads the connect message, subscribes, waits
// for the ack and starts reading events.
func dialWS(ctx context.Context, local *net.TCPAddr, u, topic string, fo *fanout, slot int) (*wsSub, error) {
	nd := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: local}
	conn, br, _, err := ws.Dialer{NetDial: nd.DialContext}.Dial(ctx, u)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(conn, 1024)
	}
	s := &wsSub{conn: conn}
	s.slot.Store(int64(slot))
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	var buf []byte
	read := func() (wsMessage, error) {
		var m wsMessage
		var err error
		if buf, err = wsReadData(br, conn, buf); err == nil {
			err = json.Unmarshal(buf, &m)
		}
		return m, err
	}
	if m, err := read(); err != nil || m.Type != "connect" {
		return nil, fmt.Errorf("WebSocket connect message: %+v %v", m, err)
	}
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "subscriptions": []string{topic}, "id": 1})
	if err := wsutil.WriteClientText(conn, sub); err != nil {
		return nil, err
	}
	if m, err := read(); err != nil || m.Type != "ack" {
		return nil, fmt.Errorf("WebSocket subscribe: %+v %v", m, err)
	}
	conn.SetDeadline(time.Time{})
	ok = true
	go func() {
		for {
			var err error
			if buf, err = wsReadData(br, conn, buf); err != nil {
				return
			}
			fo.record(int(s.slot.Load()), buf)
		}
	}()
	return s, nil
}

// judgeRealtime sets the verdicts of r against the targets.
func judgeRealtime(r *RealtimeResult) {
	if r.Unavailable != "" {
		r.Verdict = "unavailable"
		return
	}
	r.FanoutOK = r.Delivered == r.Expected && r.Expected > 0 && r.Fanout.P99 <= rtFanoutP99Target && r.Connected == r.Subscribers
	r.MemoryOK = r.BytesPerConn <= rtBytesPerConnCap
	unchanged := func(without, with LoadResult) bool {
		limit := time.Duration(float64(without.P50)*rtCreateRatioCap) + rtCreateSlack
		return with.P50 > 0 && with.P50 <= limit && with.Errors == 0
	}
	r.CreateOK = unchanged(r.CreateLoad0, r.CreateLoadN) && unchanged(r.CreateEvent0, r.CreateEventN)
	r.Verdict = "MISS"
	if r.FanoutOK && r.MemoryOK && r.CreateOK {
		r.Verdict = "PASS"
	}
	if r.Transport == "ws" {
		// The targets are the SSE stream's (the realtime issue asks for
		// the WebSocket figures to be reported beside them); the checks
		// stay in the details, against the same targets.
		r.Verdict = "reported"
	}
}

// realtimeSummary is the one-line progress report of a result.
func realtimeSummary(r RealtimeResult) string {
	if r.Unavailable != "" {
		return "unavailable: " + oneLine(r.Unavailable)
	}
	return fmt.Sprintf("%d subs: fan-out p50 %s p99 %s (%d/%d delivered), %.1f KiB/conn, create p50 %s → %s, %s",
		r.Connected, fmtDur(r.Fanout.P50), fmtDur(r.Fanout.P99), r.Delivered, r.Expected,
		r.BytesPerConn/1024, fmtDur(r.CreateLoad0.P50), fmtDur(r.CreateLoadN.P50), r.Verdict)
}

// writeRealtimeMarkdown renders the realtime results as a table.
func writeRealtimeMarkdown(w io.Writer, results []RealtimeResult) {
	if len(results) == 0 {
		return
	}
	fmt.Fprint(w, "\n## Realtime fan-out\n\n")
	fmt.Fprintf(w, "Each transport on a fresh Plinth process; guest subscribers on `<coll>/*` (one rule group). Fan-out latency: from sending the create to the event's arrival at each subscriber, one event at a time. KiB/conn: server VmRSS with every subscriber connected and idle minus before, over the count (heap and stack from Go's metrics). Create: p50 / p99 of a create load into an unsubscribed collection (concurrency as above) without → with the subscribers connected; \"event creates\" are the single creates that trigger the fan-out, without → with subscribers. Targets (for SSE; WebSocket is reported beside it and checked against the same figures): fan-out p99 ≤ %s with every event delivered, ≤ %d KiB per idle connection, create p50 with subscribers ≤ %.2f× without (+%s).\n\n",
		fmtDur(rtFanoutP99Target), rtBytesPerConnCap>>10, rtCreateRatioCap, fmtDur(rtCreateSlack))
	fmt.Fprintln(w, "| db | transport | subscribers | connect s | fan-out p50 / p99 / max | all reached p50 / max | delivered | server CPU ms/event | KiB/conn (heap + stack) | goroutines/conn | create load p50 / p99 | event creates p50 / p99 | verdict |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	for _, r := range results {
		if r.Unavailable != "" {
			fmt.Fprintf(w, "| %s | %s | %d | – | – | – | – | – | – | – | – | – | **unavailable** |\n", r.DB, r.label(), r.Subscribers)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.1f | %s / %s / %s | %s / %s | %d / %d | %.0f | %.1f (%.1f + %.1f) | %.2f | %s / %s → %s / %s | %s / %s → %s / %s | **%s** |\n",
			r.DB, r.label(), r.Connected, r.ConnectSeconds,
			fmtDur(r.Fanout.P50), fmtDur(r.Fanout.P99), fmtDur(r.Fanout.Max),
			fmtDur(r.LastArrival.P50), fmtDur(r.LastArrival.Max),
			r.Delivered, r.Expected, 1000*r.FanoutCPUPerEvent,
			r.BytesPerConn/1024, r.HeapPerConn/1024, r.StackPerConn/1024, r.GoroutinesPerConn,
			fmtDur(r.CreateLoad0.P50), fmtDur(r.CreateLoad0.P99), fmtDur(r.CreateLoadN.P50), fmtDur(r.CreateLoadN.P99),
			fmtDur(r.CreateEvent0.P50), fmtDur(r.CreateEvent0.P99), fmtDur(r.CreateEventN.P50), fmtDur(r.CreateEventN.P99),
			r.Verdict)
	}
	fmt.Fprintln(w)
	for _, r := range results {
		var parts []string
		if r.Unavailable != "" {
			parts = append(parts, "unavailable: `"+oneLine(r.Unavailable)+"`")
		} else {
			ok := map[bool]string{true: "PASS", false: "MISS"}
			checks := fmt.Sprintf("fan-out %s, memory %s, create %s", ok[r.FanoutOK], ok[r.MemoryOK], ok[r.CreateOK])
			if r.Transport == "ws" {
				checks = "against the SSE targets: " + checks
			}
			parts = append(parts, checks)
			if r.CreateLoadN.Errors > 0 || r.CreateLoad0.Errors > 0 {
				parts = append(parts, fmt.Sprintf("create load errors %d → %d (first: `%s`)", r.CreateLoad0.Errors, r.CreateLoadN.Errors, oneLine(r.CreateLoad0.FirstError+r.CreateLoadN.FirstError)))
			}
			if r.FanoutBackgroundShare > noisyShare {
				parts = append(parts, fmt.Sprintf("NOISY: other processes used %.0f%% of the machine during the fan-out", 100*r.FanoutBackgroundShare))
			}
			if r.Notes != "" {
				parts = append(parts, oneLine(r.Notes))
			}
		}
		fmt.Fprintf(w, "- %s %s: %s\n", r.DB, r.label(), strings.Join(parts, "; "))
	}
}
