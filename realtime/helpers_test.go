package realtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// wait is how long a test waits for something that should happen at once.
const wait = 5 * time.Second

// testLogger discards logs unless -v is given, then writes them to t.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// fakeAuthz is an Authorizer that counts its calls and, by default, lets
// everyone see everything, rendering {"action":..,"record":<ev.Data>}.
type fakeAuthz struct {
	calls atomic.Int64
	// allow, when set, decides visibility.
	allow func(auth Auth, sub Subscription, ev Event) bool
	// render, when set, replaces the default rendering.
	render func(auth Auth, sub Subscription, ev Event) []byte
	// block, when set, is waited on by every call.
	block chan struct{}
}

func (f *fakeAuthz) Message(ctx context.Context, auth Auth, sub Subscription, ev Event) ([]byte, bool, error) {
	f.calls.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	if f.allow != nil && !f.allow(auth, sub, ev) {
		return nil, false, nil
	}
	if f.render != nil {
		return f.render(auth, sub, ev), true, nil
	}
	return renderDefault(ev), true, nil
}

func renderDefault(ev Event) []byte {
	rec := ev.Data
	if len(rec) == 0 {
		rec = json.RawMessage(`{}`)
	}
	out, _ := json.Marshal(struct {
		Action string          `json:"action"`
		Record json.RawMessage `json:"record"`
	}{ev.Action, rec})
	return out
}

// env is one instance under test: a broker and an HTTP server serving it.
type env struct {
	b     *Broker
	h     *Handler
	srv   *httptest.Server
	authz *fakeAuthz
}

type envOption func(*Config, *HandlerConfig)

// smallSendBuffers makes the server's sockets buffer little, so a client
// that stops reading backs up into the broker after a few frames instead
// of after megabytes of kernel buffers.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// tokens maps the bearer tokens tests use to identities.
var testTokens = map[string]Auth{
	"tok-u1": {CollectionID: "users", RecordID: "u1"},
	"tok-u2": {CollectionID: "users", RecordID: "u2"},
	"tok-a1": {CollectionID: "_superusers", RecordID: "a1"},
}

func testAuthenticate(_ context.Context, token string) (Auth, error) {
	if a, ok := testTokens[token]; ok {
		return a, nil
	}
	return Auth{}, fmt.Errorf("unknown token")
}

// setup starts a broker and a server with the three realtime routes; POST
// resolves its Authorization header with testTokens (unknown = guest).
func setup(t testing.TB, opts ...envOption) *env {
	return setupListener(t, nil, opts...)
}

// setupListener is setup with the server's listener wrapped by wrap.
func setupListener(t testing.TB, wrap func(net.Listener) net.Listener, opts ...envOption) *env {
	t.Helper()
	e := &env{authz: &fakeAuthz{}}
	cfg := Config{Authorizer: e.authz, Logger: testLogger(t)}
	hcfg := HandlerConfig{Authenticate: testAuthenticate, Logger: testLogger(t)}
	for _, o := range opts {
		o(&cfg, &hcfg)
	}
	if a, ok := cfg.Authorizer.(*fakeAuthz); ok {
		e.authz = a
	}
	b, err := NewBroker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.b = b
	e.h = NewHandler(b, hcfg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/realtime", e.h.ServeSSE)
	mux.HandleFunc("POST /api/realtime", func(w http.ResponseWriter, r *http.Request) {
		auth, _ := testAuthenticate(r.Context(), bearerToken(r.Header.Get("Authorization")))
		e.h.Subscribe(w, r, auth)
	})
	mux.HandleFunc("GET /api/realtime/ws", e.h.ServeWS)
	e.srv = httptest.NewUnstartedServer(mux)
	if wrap != nil {
		e.srv.Listener = wrap(e.srv.Listener)
	}
	// Server-wide timeouts as a production server would have them: the
	// stream handlers must outlive them.
	e.srv.Config.ReadTimeout = 2 * time.Second
	e.srv.Config.WriteTimeout = 2 * time.Second
	e.srv.Config.RegisterOnShutdown(func() { _ = b.Close() })
	e.srv.Start()
	t.Cleanup(func() {
		_ = b.Close()
		e.srv.Close()
	})
	return e
}

// sseFrame is one parsed SSE frame.
type sseFrame struct {
	ID, Event, Data string
}

// sseClient reads an SSE stream in the background.
type sseClient struct {
	t      testing.TB
	id     string
	resp   *http.Response
	frames chan sseFrame
	done   chan struct{} // closed at the end of the stream
	cancel context.CancelFunc
}

// connect opens GET /api/realtime and reads PB_CONNECT.
func (e *env) connect(t testing.TB) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/realtime", nil)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c := &sseClient{t: t, resp: resp, frames: make(chan sseFrame, 4096), done: make(chan struct{}), cancel: cancel}
	t.Cleanup(c.close)
	go c.read()
	f := c.next()
	if f.Event != "PB_CONNECT" {
		t.Fatalf("first frame %+v, want PB_CONNECT", f)
	}
	c.id = f.ID
	return c
}

func (c *sseClient) close() {
	c.cancel()
	<-c.done
}

func (c *sseClient) read() {
	defer close(c.done)
	defer c.resp.Body.Close()
	r := bufio.NewReader(c.resp.Body)
	var f sseFrame
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			c.frames <- f
			f = sseFrame{}
		case strings.HasPrefix(line, "id:"):
			f.ID = line[3:]
		case strings.HasPrefix(line, "event:"):
			f.Event = line[6:]
		case strings.HasPrefix(line, "data:"):
			f.Data = line[5:]
		}
	}
}

// next returns the next frame or fails the test.
func (c *sseClient) next() sseFrame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatal("SSE stream ended while waiting for a frame")
	case <-time.After(wait):
		c.t.Fatal("timed out waiting for an SSE frame")
	}
	return sseFrame{}
}

// nextWithin returns the next frame if one arrives within d.
func (c *sseClient) nextWithin(d time.Duration) (sseFrame, bool) {
	select {
	case f := <-c.frames:
		return f, true
	case <-time.After(d):
		return sseFrame{}, false
	}
}

// ended waits for the stream to end.
func (c *sseClient) ended(within time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(within):
		return false
	}
}

// post sends POST /api/realtime and returns the status and body.
func (e *env) post(t testing.TB, token string, body any) (int, string) {
	t.Helper()
	var raw []byte
	switch v := body.(type) {
	case string:
		raw = []byte(v)
	default:
		raw, _ = json.Marshal(v)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/realtime", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// subscribe posts a subscription list and requires 204.
func (e *env) subscribe(t testing.TB, token, clientID string, topics ...string) {
	t.Helper()
	if topics == nil {
		topics = []string{}
	}
	status, body := e.post(t, token, map[string]any{"clientId": clientID, "subscriptions": topics})
	if status != http.StatusNoContent {
		t.Fatalf("subscribe %v: %d %s", topics, status, body)
	}
}

// publish publishes an event and fails on error.
func (e *env) publish(t testing.TB, collection, record, action, data string) {
	t.Helper()
	ev := Event{CollectionID: "pbc_" + collection, CollectionName: collection, RecordID: record, Action: action}
	if data != "" {
		ev.Data = json.RawMessage(data)
	}
	if err := e.b.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond (for gauges that have no event to wait on).
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// collectFrames drains n frames from several clients concurrently.
func collectFrames(t testing.TB, clients []*sseClient) []sseFrame {
	t.Helper()
	out := make([]sseFrame, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			select {
			case f := <-c.frames:
				out[i] = f
			case <-time.After(wait):
			}
		})
	}
	wg.Wait()
	for i, f := range out {
		if f.Event == "" {
			t.Fatalf("client %d got no frame", i)
		}
	}
	return out
}
