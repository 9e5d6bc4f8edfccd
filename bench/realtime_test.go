package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
)

// TestMain lets the test binary act as the realtime scenario's create
// timer, as the bench binary does, when it re-executes itself.
func TestMain(m *testing.M) {
	if u := os.Getenv(createTimerEnv); u != "" {
		os.Exit(runCreateTimer(u, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

func TestFanoutRecord(t *testing.T) {
	t.Parallel()
	fo := newFanout(3, 2)
	fo.record(0, []byte(`{"action":"create","record":{"title":"rtfan-1","n":1}}`))
	fo.record(0, []byte(`{"action":"create","record":{"title":"rtfan-1","n":1}}`)) // duplicate: ignored
	fo.record(1, []byte(`{"record":{"title":"rtfan-12"}}`))                        // no such event
	fo.record(1, []byte(`{"record":{"title":"other"}}`))
	fo.record(1, []byte(`{"record":{"title":"rtfan-"}}`))
	fo.record(5, []byte(`{"record":{"title":"rtfan-2"}}`)) // no such subscriber
	if got := fo.counts[1].Load(); got != 1 {
		t.Errorf("event 1 count = %d, want 1", got)
	}
	if fo.arrivals[1][0] == 0 || fo.arrivals[1][1] != 0 {
		t.Errorf("arrivals of event 1 = %v", fo.arrivals[1])
	}
	for _, e := range []int{0, 2} {
		if fo.counts[e].Load() != 0 {
			t.Errorf("event %d counted", e)
		}
	}
}

func TestJudgeRealtime(t *testing.T) {
	t.Parallel()
	good := RealtimeResult{Subscribers: 10, Connected: 10, Expected: 50, Delivered: 50, BytesPerConn: 12 << 10,
		Fanout:      LoadResult{P99: 150 * time.Millisecond},
		CreateLoad0: LoadResult{P50: 2 * time.Millisecond}, CreateLoadN: LoadResult{P50: 2400 * time.Microsecond},
		CreateEvent0: LoadResult{P50: time.Millisecond}, CreateEventN: LoadResult{P50: 1500 * time.Microsecond}}
	tests := []struct {
		name string
		mod  func(*RealtimeResult)
		want string
	}{
		{"all targets met", func(*RealtimeResult) {}, "PASS"},
		{"slow fan-out", func(r *RealtimeResult) { r.Fanout.P99 = 250 * time.Millisecond }, "MISS"},
		{"lost events", func(r *RealtimeResult) { r.Delivered = 49 }, "MISS"},
		{"some did not connect", func(r *RealtimeResult) { r.Connected = 9; r.Expected = 45; r.Delivered = 45 }, "MISS"},
		{"memory", func(r *RealtimeResult) { r.BytesPerConn = 27 << 10 }, "MISS"},
		{"slower creates", func(r *RealtimeResult) { r.CreateLoadN.P50 = 4 * time.Millisecond }, "MISS"},
		{"slower event creates", func(r *RealtimeResult) { r.CreateEventN.P50 = 3 * time.Millisecond }, "MISS"},
		{"unavailable", func(r *RealtimeResult) { r.Unavailable = "no binary" }, "unavailable"},
		{"WebSocket is reported", func(r *RealtimeResult) { r.Transport = "ws" }, "reported"},
	}
	for _, tt := range tests {
		r := good
		tt.mod(&r)
		judgeRealtime(&r)
		if r.Verdict != tt.want {
			t.Errorf("%s: verdict %s, want %s (%+v)", tt.name, r.Verdict, tt.want, r)
		}
	}
	var md bytes.Buffer
	r := good
	judgeRealtime(&r)
	writeRealtimeMarkdown(&md, []RealtimeResult{r, {DB: "sqlite", Transport: "ws", Unavailable: "x", Verdict: "unavailable"}})
	for _, want := range []string{"## Realtime fan-out", "| 10 |", "**PASS**", "**unavailable**", "fan-out PASS, memory PASS, create PASS"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

// TestRealtimeClients drives the scenario's SSE and WebSocket clients and
// its create timer (this test binary, re-executed) against Plinth in
// process.
func TestRealtimeClients(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	app, err := plinth.New(ctx, plinth.Config{DataDir: dir, BcryptCost: 4, DisableRateLimits: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); app.Close() })
	if err := app.UpsertSuperuser(ctx, superEmail, superPassword); err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(srv.URL)
	su, err := api.login(ctx, "_superusers", superEmail, superPassword)
	if err != nil {
		t.Fatal(err)
	}
	api.token = su.Token
	if err := api.do(ctx, http.MethodPost, "/api/collections", map[string]any{
		"name": "ev", "listRule": "", "viewRule": "", "createRule": "",
		"fields": []map[string]any{{"name": "title", "type": "text"}, {"name": "n", "type": "number"}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	ct, err := startCreateTimer(srv.URL + "/api/collections/ev/records")
	if err != nil {
		t.Fatal(err)
	}
	defer ct.close()

	for _, transport := range []string{"sse", "ws"} {
		const n, events = 20, 3
		fo := newFanout(events, n)
		subs, err := connectSubscribers(ctx, srv.URL, transport, "ev/*", n, fo)
		if err != nil || len(subs) != n {
			t.Fatalf("%s: %d of %d connected: %v", transport, len(subs), n, err)
		}
		fo.connected = n
		var last []time.Duration
		creates := fo.createEvents(ctx, ct, 0, &last)
		lat, delivered := fo.latencies()
		for _, s := range subs {
			s.close()
		}
		if creates.Requests != events || creates.Errors != 0 {
			t.Errorf("%s: creates %+v", transport, creates)
		}
		if delivered != n*events || lat.P50 <= 0 || lat.Max > 30*time.Second || len(last) != events {
			t.Errorf("%s: delivered %d of %d, latencies %+v, last %v", transport, delivered, n*events, lat, last)
		}
	}
	raw, _ := json.Marshal(RealtimeResult{Transport: "sse"})
	if !bytes.Contains(raw, []byte(`"transport":"sse"`)) {
		t.Errorf("JSON: %s", raw)
	}
}
