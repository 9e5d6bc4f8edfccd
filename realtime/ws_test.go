package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a test WebSocket client that reads in the background (which
// also answers the server's pings).
type wsClient struct {
	t     testing.TB
	conn  *websocket.Conn
	id    string
	msgs  chan map[string]any
	done  chan struct{}
	err   error // why reading ended, valid after done
	pings atomic.Int64
}

func (e *env) dialWS(t testing.TB, header http.Header) *wsClient {
	t.Helper()
	c, err := e.tryDialWS(t, header)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) tryDialWS(t testing.TB, header http.Header) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c := &wsClient{t: t, msgs: make(chan map[string]any, 1024), done: make(chan struct{})}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/realtime/ws", &websocket.DialOptions{
		HTTPHeader: header,
		OnPingReceived: func(context.Context, []byte) bool {
			c.pings.Add(1)
			return true
		},
	})
	if err != nil {
		if resp != nil {
			return nil, &dialError{status: resp.StatusCode, err: err}
		}
		return nil, err
	}
	c.conn = conn
	t.Cleanup(func() { _ = conn.CloseNow(); <-c.done })
	go c.read()
	m := c.next()
	if m["type"] != "connect" {
		t.Fatalf("first message %v", m)
	}
	c.id, _ = m["clientId"].(string)
	if len(c.id) != clientIDLength {
		t.Fatalf("client id %q", c.id)
	}
	return c, nil
}

type dialError struct {
	status int
	err    error
}

func (e *dialError) Error() string { return e.err.Error() }

func (c *wsClient) read() {
	defer close(c.done)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			c.err = err
			return
		}
		c.msgs <- m
	}
}

func (c *wsClient) next() map[string]any {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.done:
		c.t.Fatalf("connection ended: %v", c.err)
	case <-time.After(wait):
		c.t.Fatal("timed out waiting for a WebSocket message")
	}
	return nil
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	data, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatal(err)
	}
}

// request sends a message and returns the reply.
func (c *wsClient) request(v any) map[string]any {
	c.t.Helper()
	c.send(v)
	return c.next()
}

func (c *wsClient) mustAck(v map[string]any) {
	c.t.Helper()
	m := c.request(v)
	if m["type"] != "ack" || fmt.Sprint(m["id"]) != fmt.Sprint(v["id"]) {
		c.t.Fatalf("request %v: got %v, want ack", v, m)
	}
}

func TestWebSocketProtocol(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.dialWS(t, nil)

	c.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"posts/*", "comments/c1"}})
	e.publish(t, "posts", "p1", "create", `{"id":"p1"}`)
	m := c.next()
	if m["type"] != "event" || m["topic"] != "posts/*" {
		t.Fatalf("got %v", m)
	}
	data, _ := m["data"].(map[string]any)
	if data["action"] != "create" || data["record"].(map[string]any)["id"] != "p1" {
		t.Fatalf("data %v", data)
	}

	// Unsubscribe a subset: comments/c1 stays.
	c.mustAck(map[string]any{"type": "unsubscribe", "id": "u", "subscriptions": []string{"posts/*"}})
	e.publish(t, "posts", "p1", "update", `{}`)
	e.publish(t, "comments", "c1", "update", `{}`)
	if m := c.next(); m["topic"] != "comments/c1" {
		t.Fatalf("got %v", m)
	}

	// Unsubscribe without a list: everything goes.
	c.mustAck(map[string]any{"type": "unsubscribe", "id": 3})
	if got := e.b.Stats().Subscriptions; got != 0 {
		t.Fatalf("subscriptions %d", got)
	}

	// Subscribe replaces the whole list; no id means an ack without one.
	if m := c.request(map[string]any{"type": "subscribe", "subscriptions": []string{"comments/*"}}); m["type"] != "ack" || m["id"] != nil {
		t.Fatalf("got %v", m)
	}

	// Application-level ping for clients (browsers) that cannot send
	// control frames.
	if m := c.request(map[string]any{"type": "ping", "id": 9}); m["type"] != "pong" || m["id"] != float64(9) {
		t.Fatalf("got %v", m)
	}

	// Errors keep the connection open and echo the id.
	for _, tt := range []struct {
		msg    any
		status float64
		text   string
	}{
		{map[string]any{"type": "subscribe", "id": 5, "subscriptions": []string{"po sts"}}, 400, "Invalid subscription"},
		{map[string]any{"type": "dance", "id": 6}, 400, "Unknown message type"},
		{"not an object", 400, "Invalid message"},
	} {
		m := c.request(tt.msg)
		if m["type"] != "error" || m["status"] != tt.status || !strings.Contains(m["message"].(string), tt.text) {
			t.Fatalf("%v: got %v", tt.msg, m)
		}
		if obj, ok := tt.msg.(map[string]any); ok && m["id"] != float64(obj["id"].(int)) {
			t.Fatalf("error without the request id: %v", m)
		}
	}

	// The WebSocket client is in the same broker: a POST works on it too.
	e.subscribe(t, "", c.id, "posts/*")
	e.publish(t, "posts", "p2", "create", `{}`)
	if m := c.next(); m["topic"] != "posts/*" {
		t.Fatalf("got %v", m)
	}
}

func TestWebSocketAuth(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *Config, _ *HandlerConfig) {
		c.Authorizer = &fakeAuthz{render: func(auth Auth, _ Subscription, _ Event) []byte {
			return []byte(`{"auth":"` + auth.RecordID + `"}`)
		}}
	})
	authOf := func(c *wsClient) string {
		t.Helper()
		e.publish(t, "posts", "r", "update", "")
		m := c.next()
		return m["data"].(map[string]any)["auth"].(string)
	}

	c := e.dialWS(t, nil)
	c.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"posts/*"}})
	if a := authOf(c); a != "" {
		t.Fatalf("new client auth %q", a)
	}
	if m := c.request(map[string]any{"type": "auth", "id": 2, "token": "bad"}); m["type"] != "error" || m["status"] != float64(401) {
		t.Fatalf("bad token: %v", m)
	}
	c.mustAck(map[string]any{"type": "auth", "id": 3, "token": "tok-u1"})
	if a := authOf(c); a != "u1" {
		t.Fatalf("auth %q, want u1", a)
	}
	c.mustAck(map[string]any{"type": "auth", "id": 4, "token": "Bearer tok-u1"})
	if m := c.request(map[string]any{"type": "auth", "id": 5, "token": "tok-u2"}); m["type"] != "error" || m["status"] != float64(403) {
		t.Fatalf("switching user: %v", m)
	}
	if m := c.request(map[string]any{"type": "auth", "id": 6, "token": ""}); m["type"] != "error" || m["status"] != float64(403) {
		t.Fatalf("dropping to guest: %v", m)
	}

	// The Authorization header of the upgrade authenticates too.
	h := e.dialWS(t, http.Header{"Authorization": {"tok-u2"}})
	h.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"posts/*"}})
	e.publish(t, "posts", "r", "update", "")
	if m := h.next(); m["data"].(map[string]any)["auth"] != "u2" {
		t.Fatalf("header auth: %v", m)
	}
	c.next() // c's copy of the same event

	// An invalid header token: connected as a guest, told so.
	g := e.dialWS(t, http.Header{"Authorization": {"Bearer nope"}})
	if m := g.next(); m["type"] != "error" || m["status"] != float64(401) {
		t.Fatalf("invalid header token: %v", m)
	}
}

func TestWebSocketAuthUnavailable(t *testing.T) {
	t.Parallel()
	e := setup(t, func(_ *Config, h *HandlerConfig) { h.Authenticate = nil })
	c := e.dialWS(t, nil)
	if m := c.request(map[string]any{"type": "auth", "token": "tok-u1"}); m["type"] != "error" || m["status"] != float64(501) {
		t.Fatalf("got %v", m)
	}
}

// TestWebSocketPing: a client that reads answers pings and stays; one that
// does not read misses pongs and is disconnected.
func TestWebSocketPing(t *testing.T) {
	t.Parallel()
	e := setup(t, func(_ *Config, h *HandlerConfig) {
		h.PingInterval = 30 * time.Millisecond
		h.PongTimeout = 30 * time.Millisecond
		h.MaxMissedPongs = 2
	})
	alive := e.dialWS(t, nil)

	// A client that never reads: pongs are only sent while reading.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	mute, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/realtime/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.CloseNow()

	eventually(t, wait, "the mute client to be dropped", func() bool { return e.b.Stats().WSClients == 1 })
	eventually(t, wait, "pings to the live client", func() bool { return alive.pings.Load() >= 5 })
	alive.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"posts/*"}})
}

func TestWebSocketOrigin(t *testing.T) {
	t.Parallel()
	origin := func(o string) http.Header { return http.Header{"Origin": {o}} }

	strict := setup(t)
	if _, err := strict.tryDialWS(t, origin("https://evil.example")); !isStatus(err, http.StatusForbidden) {
		t.Fatalf("foreign origin: %v", err)
	}
	host := strings.TrimPrefix(strict.srv.URL, "http://")
	strict.dialWS(t, origin("http://"+host)) // same origin
	strict.dialWS(t, nil)                    // no Origin: not a browser

	listed := setup(t, func(_ *Config, h *HandlerConfig) { h.AllowedOrigins = []string{"*.example.com"} })
	listed.dialWS(t, origin("https://app.example.com"))
	if _, err := listed.tryDialWS(t, origin("https://example.org")); !isStatus(err, http.StatusForbidden) {
		t.Fatalf("unlisted origin: %v", err)
	}

	open := setup(t, func(_ *Config, h *HandlerConfig) { h.InsecureSkipOriginCheck = true })
	open.dialWS(t, origin("https://evil.example"))
}

// TestWebSocketNeedsUpgrade: a plain GET gets a JSON 426, not a hijacked
// connection.
func TestWebSocketNeedsUpgrade(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, err := http.Get(e.srv.URL + "/api/realtime/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Upgrade") != "websocket" {
		t.Fatalf("status %d, Upgrade %q", resp.StatusCode, resp.Header.Get("Upgrade"))
	}
}

// TestWebSocketBadHandshake: an upgrade request the WebSocket handshake
// refuses gets a 4xx response, not a hung or reset connection.
func TestWebSocketBadHandshake(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for name, header := range map[string]http.Header{
		"no key":      {"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Version": {"13"}},
		"old version": {"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Version": {"8"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/realtime/ws", nil)
		req.Header = header
		resp, err := (&http.Client{Timeout: wait}).Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("%s: status %d", name, resp.StatusCode)
		}
	}
	if got := e.b.Stats().WSClients; got != 0 {
		t.Fatalf("WebSocket clients %d after refused handshakes", got)
	}
}

// TestWebSocketSlowConsumerDropped: a WebSocket client that stops reading
// is dropped when its send buffer fills, its blocked write gives up within
// WriteTimeout, and the other clients keep getting every event.
func TestWebSocketSlowConsumerDropped(t *testing.T) {
	t.Parallel()
	e := setupListener(t, func(l net.Listener) net.Listener { return smallSendBuffers{l} }, func(c *Config, h *HandlerConfig) {
		c.SendBuffer = 8
		h.WriteTimeout = 500 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// A client that stops reading, with a small receive buffer.
	nd := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := nd.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}}
	mute, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/realtime/ws", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer mute.CloseNow()
	if err := mute.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe","id":1,"subscriptions":["posts/*"]}`)); err != nil {
		t.Fatal(err)
	}
	good := e.dialWS(t, nil)
	good.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"posts/*"}})
	eventually(t, wait, "both subscribed", func() bool { return e.b.Stats().Subscriptions == 2 })

	payload := `{"blob":"` + strings.Repeat("x", 16<<10) + `"}`
	for i := 0; e.b.Stats().ClientsDroppedSlow == 0; i++ {
		if i == 1000 {
			t.Fatal("the slow client was never dropped")
		}
		e.publish(t, "posts", "r1", "update", payload)
		if m := good.next(); m["type"] != "event" {
			t.Fatalf("good client got %v", m)
		}
	}
	eventually(t, wait, "the slow client to be gone", func() bool { return e.b.Stats().WSClients == 1 })
	e.publish(t, "posts", "r2", "create", `{"after":true}`)
	for {
		m := good.next()
		if data, _ := json.Marshal(m["data"]); strings.Contains(string(data), "after") {
			break
		}
	}
}

func isStatus(err error, status int) bool {
	var de *dialError
	return errors.As(err, &de) && de.status == status
}

// TestWebSocketCloseCodes: Close sends "going away"; a slow client gets a
// policy violation.
func TestWebSocketClose(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.dialWS(t, nil)
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(wait):
		t.Fatal("not closed")
	}
	if code := websocket.CloseStatus(c.err); code != websocket.StatusGoingAway {
		t.Fatalf("close status %v (%v)", code, c.err)
	}
	if _, err := e.tryDialWS(t, nil); !isStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("dial after Close: %v", err)
	}
}

func TestWebSocketLifetime(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *Config, _ *HandlerConfig) { c.MaxLifetime = 200 * time.Millisecond })
	c := e.dialWS(t, nil)
	select {
	case <-c.done:
	case <-time.After(wait):
		t.Fatal("not closed")
	}
	if code := websocket.CloseStatus(c.err); code != websocket.StatusGoingAway {
		t.Fatalf("close status %v (%v)", code, c.err)
	}
}

func TestWebSocketMessageLimit(t *testing.T) {
	t.Parallel()
	e := setup(t, func(_ *Config, h *HandlerConfig) { h.MaxBodyBytes = 1024 })
	c := e.dialWS(t, nil)
	c.send(map[string]any{"type": "subscribe", "subscriptions": []string{"posts/" + strings.Repeat("a", 2000)}})
	select {
	case <-c.done:
	case <-time.After(wait):
		t.Fatal("not closed")
	}
	if code := websocket.CloseStatus(c.err); code != websocket.StatusMessageTooBig {
		t.Fatalf("close status %v (%v)", code, c.err)
	}
}

// TestWebSocketAndSSEShareGroups: one Authorizer call serves both kinds of
// client.
func TestWebSocketAndSSEShareGroups(t *testing.T) {
	t.Parallel()
	e := setup(t)
	s := e.connect(t)
	w := e.dialWS(t, nil)
	e.subscribe(t, "", s.id, "posts/*")
	w.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"posts/*"}})
	e.publish(t, "posts", "r1", "create", `{"x":1}`)
	if f := s.next(); f.Event != "posts/*" {
		t.Fatalf("sse %+v", f)
	}
	if m := w.next(); m["topic"] != "posts/*" {
		t.Fatalf("ws %v", m)
	}
	if got := e.authz.calls.Load(); got != 1 {
		t.Fatalf("authorizer calls %d", got)
	}
}
