package realtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSSEWireFormat reads the raw bytes of the stream: headers, PB_CONNECT
// first, and the id line on every frame.
func TestSSEWireFormat(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, err := e.srv.Client().Get(e.srv.URL + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-store",
		"X-Accel-Buffering": "no",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	r := bufio.NewReader(resp.Body)
	readFrame := func() string {
		t.Helper()
		var b strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v (so far %q)", err, b.String())
			}
			b.WriteString(line)
			if line == "\n" {
				return b.String()
			}
		}
	}
	first := readFrame()
	id := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(first, "\n", 2)[0], "id:"), "\n")
	if len(id) != clientIDLength {
		t.Fatalf("client id %q: length %d, want %d", id, len(id), clientIDLength)
	}
	if want := "id:" + id + "\nevent:PB_CONNECT\ndata:{\"clientId\":\"" + id + "\"}\n\n"; first != want {
		t.Fatalf("connect frame\n got %q\nwant %q", first, want)
	}

	topic := "posts/*" + opts(`{"query":{"expand":"author"}}`)
	e.subscribe(t, "", id, topic)
	e.publish(t, "posts", "r1", "create", `{"id":"r1","title":"Hi"}`)
	got := readFrame()
	want := "id:" + id + "\nevent:" + topic + "\ndata:{\"action\":\"create\",\"record\":{\"id\":\"r1\",\"title\":\"Hi\"}}\n\n"
	if got != want {
		t.Fatalf("event frame\n got %q\nwant %q", got, want)
	}
}

func TestClientIDsAreRandom(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := newClientID()
		if len(id) != 40 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		for _, c := range id {
			if !strings.ContainsRune(idAlphabet, c) {
				t.Fatalf("id %q has %q", id, c)
			}
		}
		seen[id] = true
	}
}

// TestSSEIndentedDataIsCompacted: a newline in data would end the SSE data
// line early, so the broker compacts indented JSON.
func TestSSEIndentedDataIsCompacted(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *Config, _ *HandlerConfig) {
		c.Authorizer = &fakeAuthz{render: func(Auth, Subscription, Event) []byte {
			return []byte("{\n  \"action\": \"create\",\n  \"record\": {\"t\": \"a\\nb\"}\n}")
		}}
	})
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*")
	e.publish(t, "posts", "r1", "create", "")
	if f := c.next(); f.Data != `{"action":"create","record":{"t":"a\nb"}}` {
		t.Fatalf("data %q", f.Data)
	}
}

func TestSubscribeReplacesTheList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*", "comments/c1")
	if got := e.b.Stats().Subscriptions; got != 2 {
		t.Fatalf("subscriptions gauge %d, want 2", got)
	}

	e.publish(t, "posts", "p1", "create", `{"n":1}`)
	if f := c.next(); f.Event != "posts/*" || f.ID != c.id {
		t.Fatalf("got %+v", f)
	}
	e.publish(t, "comments", "c1", "update", `{"n":2}`)
	if f := c.next(); f.Event != "comments/c1" {
		t.Fatalf("got %+v", f)
	}

	// Replace: posts/* is gone, comments/* is new.
	e.subscribe(t, "", c.id, "comments/*")
	if got := e.b.Stats().Subscriptions; got != 1 {
		t.Fatalf("subscriptions gauge %d, want 1", got)
	}
	e.publish(t, "posts", "p1", "update", `{"n":3}`)
	e.publish(t, "comments", "c9", "create", `{"n":4}`)
	if f := c.next(); f.Event != "comments/*" || !strings.Contains(f.Data, `"n":4`) {
		t.Fatalf("got %+v, want the comments event only", f)
	}

	// An empty list unsubscribes from everything; the stream stays open.
	e.subscribe(t, "", c.id)
	e.publish(t, "comments", "c9", "update", `{"n":5}`)
	// Subscribe again to the same record: the first frame must be the new
	// event, proving n:5 was not delivered (same record, same worker, so
	// events are handled in order).
	e.subscribe(t, "", c.id, "comments/c9")
	e.publish(t, "comments", "c9", "update", `{"n":6}`)
	if f := c.next(); !strings.Contains(f.Data, `"n":6`) {
		t.Fatalf("got %+v after unsubscribing", f)
	}
}

// TestSubscriptionByCollectionIDAndName: a topic may name the collection
// by id or name; both match, and each produces its own frame.
func TestSubscriptionByCollectionIDAndName(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.connect(t)
	e.subscribe(t, "", c.id, "pbc_posts/*", "posts/r1")
	e.publish(t, "posts", "r1", "create", `{}`)
	got := map[string]bool{c.next().Event: true, c.next().Event: true}
	if !got["pbc_posts/*"] || !got["posts/r1"] {
		t.Fatalf("got frames for %v", got)
	}
}

func TestSubscribeErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.connect(t)
	tooMany := make([]string, DefaultMaxSubscriptions+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("posts/r%d", i)
	}
	tests := []struct {
		name   string
		token  string
		body   any
		status int
		msg    string
	}{
		{"unknown client", "", map[string]any{"clientId": "nope", "subscriptions": []string{"posts/*"}}, 404, msgInvalidClient},
		{"missing client", "", map[string]any{"subscriptions": []string{"posts/*"}}, 404, msgInvalidClient},
		{"not JSON", "", "{", 400, msgBadBody},
		{"wrong type", "", `{"clientId":"x","subscriptions":"posts/*"}`, 400, msgBadBody},
		{"bad topic", "", map[string]any{"clientId": c.id, "subscriptions": []string{"po sts"}}, 400, `Invalid subscription "po sts"`},
		{"bad options", "", map[string]any{"clientId": c.id, "subscriptions": []string{"posts/*?options=%7Bx"}}, 400, "invalid options"},
		{"too many", "", map[string]any{"clientId": c.id, "subscriptions": tooMany}, 400, "at most 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.post(t, tt.token, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%s)", status, tt.status, body)
			}
			var got struct {
				Status  int            `json:"status"`
				Message string         `json:"message"`
				Data    map[string]any `json:"data"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if got.Status != tt.status || !strings.Contains(got.Message, tt.msg) || got.Data == nil {
				t.Fatalf("body %s, want status %d and message containing %q", body, tt.status, tt.msg)
			}
		})
	}
	// A rejected list leaves the previous one in place.
	e.subscribe(t, "", c.id, "posts/*")
	if status, _ := e.post(t, "", map[string]any{"clientId": c.id, "subscriptions": []string{"b ad"}}); status != 400 {
		t.Fatal(status)
	}
	e.publish(t, "posts", "p", "create", `{}`)
	if f := c.next(); f.Event != "posts/*" {
		t.Fatalf("got %+v", f)
	}
}

func TestSubscribeBodyLimit(t *testing.T) {
	t.Parallel()
	e := setup(t, func(_ *Config, h *HandlerConfig) { h.MaxBodyBytes = 100 })
	status, body := e.post(t, "", `{"clientId":"`+strings.Repeat("x", 200)+`"}`)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d %s", status, body)
	}
}

func TestCustomWriteError(t *testing.T) {
	t.Parallel()
	e := setup(t, func(_ *Config, h *HandlerConfig) {
		h.WriteError = func(w http.ResponseWriter, _ *http.Request, status int, message string) {
			w.Header().Set("X-Custom", "1")
			http.Error(w, message, status)
		}
	})
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/realtime", strings.NewReader(`{"clientId":"nope"}`))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("X-Custom") != "1" {
		t.Fatalf("status %d, custom header %q", resp.StatusCode, resp.Header.Get("X-Custom"))
	}
}

// TestAuthChange follows PocketBase: guest → user is allowed, the same user
// again (new token) is allowed, another user or back to guest is 403.
func TestAuthChange(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*")
	e.subscribe(t, "tok-u1", c.id, "posts/*")
	e.subscribe(t, "Bearer tok-u1", c.id, "posts/*", "comments/*")
	for _, tok := range []string{"tok-u2", "", "tok-a1"} {
		status, body := e.post(t, tok, map[string]any{"clientId": c.id, "subscriptions": []string{"posts/*"}})
		if status != 403 || !strings.Contains(body, msgAuthMismatch) {
			t.Fatalf("token %q: %d %s", tok, status, body)
		}
	}
	// The refused requests changed nothing: still u1, still two topics.
	if got := e.b.Stats().Subscriptions; got != 2 {
		t.Fatalf("subscriptions %d", got)
	}
}

// TestRuleFiltering: the Authorizer decides per auth what each client sees.
func TestRuleFiltering(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *Config, _ *HandlerConfig) {
		c.Authorizer = &fakeAuthz{allow: func(auth Auth, _ Subscription, ev Event) bool {
			var rec struct {
				Public bool   `json:"public"`
				Owner  string `json:"owner"`
			}
			_ = json.Unmarshal(ev.Data, &rec)
			return rec.Public || (rec.Owner != "" && rec.Owner == auth.RecordID)
		}}
	})
	guest, u1, u2 := e.connect(t), e.connect(t), e.connect(t)
	e.subscribe(t, "", guest.id, "posts/*")
	e.subscribe(t, "tok-u1", u1.id, "posts/*")
	e.subscribe(t, "tok-u2", u2.id, "posts/*")

	// All on one record, so the events are fanned out in this order.
	e.publish(t, "posts", "r", "update", `{"n":1,"owner":"u1"}`)
	e.publish(t, "posts", "r", "update", `{"n":2,"owner":"u2"}`)
	e.publish(t, "posts", "r", "update", `{"n":3,"public":true}`)

	check := func(c *sseClient, want ...string) {
		t.Helper()
		for _, w := range want {
			if f := c.next(); !strings.Contains(f.Data, w) {
				t.Fatalf("got %s, want %s", f.Data, w)
			}
		}
	}
	check(guest, `"n":3`)
	check(u1, `"n":1`, `"n":3`)
	check(u2, `"n":2`, `"n":3`)
}

// TestAuthorizerCalledOncePerGroup is the grouping contract: identical
// subscribers cost one Authorizer call, whatever their number.
func TestAuthorizerCalledOncePerGroup(t *testing.T) {
	t.Parallel()
	authz := &fakeAuthz{}
	b, err := NewBroker(Config{Authorizer: authz, Logger: testLogger(t), SendBuffer: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	const n = 10000
	clients := make([]*client, n)
	for i := range clients {
		c, err := b.register(kindSSE, Auth{})
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
		if err := b.SetSubscriptions(context.Background(), c.id, Auth{}, []string{"posts/*"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(context.Background(), Event{CollectionName: "posts", RecordID: "r1", Action: "create", Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	var first *frame
	for i, c := range clients {
		// These clients have no stream: their frames stay queued.
		var fs []*frame
		eventually(t, wait, fmt.Sprintf("a frame for client %d", i), func() bool {
			fs = c.q.take(fs)
			return len(fs) > 0
		})
		if len(fs) != 1 {
			t.Fatalf("client %d: %d frames", i, len(fs))
		}
		if first == nil {
			first = fs[0]
		} else if fs[0] != first {
			t.Fatal("frames are not shared within the group")
		}
	}
	if got := authz.calls.Load(); got != 1 {
		t.Fatalf("authorizer called %d times for %d identical subscribers, want 1", got, n)
	}
}

// TestGrouping checks what splits groups: auth, list vs view, options;
// and what does not: option key order, collection name vs id.
func TestGrouping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		subs  [][2]string // {token, topic} per client
		calls int64
	}{
		{"same guests", [][2]string{{"", "posts/*"}, {"", "posts/*"}, {"", "posts/*"}}, 1},
		{"guest and user", [][2]string{{"", "posts/*"}, {"tok-u1", "posts/*"}, {"tok-u1", "posts/*"}}, 2},
		{"two users", [][2]string{{"tok-u1", "posts/*"}, {"tok-u2", "posts/*"}}, 2},
		{"list and view", [][2]string{{"", "posts/*"}, {"", "posts/r1"}, {"", "posts/r1"}}, 2},
		{"name and id", [][2]string{{"", "posts/*"}, {"", "pbc_posts/*"}}, 1},
		{"option order", [][2]string{
			{"", "posts/*" + opts(`{"query":{"a":"1","b":"2"}}`)},
			{"", "posts/*" + opts(`{"query":{"b":"2","a":"1"}}`)},
		}, 1},
		{"different options", [][2]string{
			{"", "posts/*" + opts(`{"query":{"expand":"a"}}`)},
			{"", "posts/*" + opts(`{"query":{"expand":"b"}}`)},
			{"", "posts/*" + opts(`{"headers":{"expand":"a"}}`)},
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			var clients []*sseClient
			for _, s := range tt.subs {
				c := e.connect(t)
				e.subscribe(t, s[0], c.id, s[1])
				clients = append(clients, c)
			}
			e.publish(t, "posts", "r1", "create", `{}`)
			for i, f := range collectFrames(t, clients) {
				if f.Event != tt.subs[i][1] {
					t.Fatalf("client %d got event %q, want %q", i, f.Event, tt.subs[i][1])
				}
			}
			if got := e.authz.calls.Load(); got != tt.calls {
				t.Fatalf("authorizer calls %d, want %d", got, tt.calls)
			}
		})
	}
}

// TestAuthorizerFailures: errors, panics and invalid JSON skip the group
// and are counted; the broker keeps working.
func TestAuthorizerFailures(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *Config, _ *HandlerConfig) {
		c.Authorizer = AuthorizerFunc(func(_ context.Context, _ Auth, _ Subscription, ev Event) ([]byte, bool, error) {
			switch ev.Action {
			case "error":
				return nil, false, errors.New("boom")
			case "panic":
				panic("rule bug")
			case "invalid":
				return []byte(`{"unterminated`), true, nil
			}
			return renderDefault(ev), true, nil
		})
	})
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*")
	for _, a := range []string{"error", "panic", "invalid", "create"} {
		e.publish(t, "posts", "r1", a, `{}`)
	}
	if f := c.next(); !strings.Contains(f.Data, `"create"`) {
		t.Fatalf("got %+v", f)
	}
	if got := e.b.Stats().AuthorizerErrors; got != 3 {
		t.Fatalf("AuthorizerErrors %d, want 3", got)
	}
}

// slowSSE opens a stream with a raw TCP connection whose receive buffer is
// tiny and which stops reading after PB_CONNECT.
func slowSSE(t *testing.T, e *env) (id string, conn net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /api/realtime HTTP/1.1\r\nHost: %s\r\n\r\n", e.srv.Listener.Addr())
	r := bufio.NewReaderSize(conn, 256)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if rest, ok := strings.CutPrefix(line, "id:"); ok {
			return strings.TrimSpace(rest), conn
		}
	}
}

// TestSlowConsumerDropped: a client that stops reading is dropped when its
// buffer fills; Publish never blocks and other clients keep getting every
// event promptly.
func TestSlowConsumerDropped(t *testing.T) {
	t.Parallel()
	e := setupListener(t, func(l net.Listener) net.Listener { return smallSendBuffers{l} }, func(c *Config, h *HandlerConfig) {
		c.SendBuffer = 8
		h.WriteTimeout = 500 * time.Millisecond
	})
	slowID, _ := slowSSE(t, e)
	e.subscribe(t, "", slowID, "posts/*")
	var good []*sseClient
	for range 3 {
		c := e.connect(t)
		e.subscribe(t, "", c.id, "posts/*")
		good = append(good, c)
	}

	payload := `{"blob":"` + strings.Repeat("x", 16<<10) + `"}`
	var worstPublish, worstDelivery time.Duration
	i := 0
	for ; e.b.Stats().ClientsDroppedSlow == 0; i++ {
		if i == 1000 {
			t.Fatal("the slow client was never dropped")
		}
		start := time.Now()
		e.publish(t, "posts", "r1", "update", payload)
		worstPublish = max(worstPublish, time.Since(start))
		for _, f := range collectFrames(t, good) {
			if len(f.Data) < 16<<10 {
				t.Fatalf("truncated frame %d bytes", len(f.Data))
			}
		}
		worstDelivery = max(worstDelivery, time.Since(start))
	}
	t.Logf("slow client dropped after %d events; Publish took at most %v, delivery %v", i, worstPublish, worstDelivery)
	// Publish only enqueues: it takes microseconds. The bound is loose for
	// loaded CI machines but well below the 500ms a blocked write would take.
	if worstPublish > 250*time.Millisecond {
		t.Errorf("Publish took up to %v; it must not wait for fan-out", worstPublish)
	}
	if worstDelivery > 2*time.Second {
		t.Errorf("good clients waited up to %v for an event", worstDelivery)
	}
	// The slow client's handler gives up within WriteTimeout; the good
	// clients are still connected and served.
	eventually(t, wait, "the slow client to be gone", func() bool { return e.b.Stats().Clients == 3 })
	e.publish(t, "posts", "r2", "create", `{"after":true}`)
	for _, f := range collectFrames(t, good) {
		if !strings.Contains(f.Data, "after") {
			t.Fatalf("got %q", f.Data)
		}
	}
	if s := e.b.Stats(); s.ClientsDroppedSlow != 1 {
		t.Fatalf("ClientsDroppedSlow %d", s.ClientsDroppedSlow)
	}
	// Its id is gone.
	if status, _ := e.post(t, "", map[string]any{"clientId": slowID, "subscriptions": []string{}}); status != 404 {
		t.Fatalf("dropped client still known: %d", status)
	}
}

// TestPublishNeverBlocks: with the Authorizer stuck, Publish still returns
// at once, and drops (counted) once the queue is full.
func TestPublishNeverBlocks(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	authz := &fakeAuthz{block: block}
	b, err := NewBroker(Config{Authorizer: authz, Logger: testLogger(t), QueueSize: 8, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	defer close(block)
	c, _ := b.register(kindSSE, Auth{})
	if err := b.SetSubscriptions(context.Background(), c.id, Auth{}, []string{"posts/*"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var full int
	for i := range 100 {
		err := b.Publish(context.Background(), Event{CollectionName: "posts", RecordID: "r", Action: "create", Data: json.RawMessage(fmt.Sprint(i))})
		if errors.Is(err, ErrQueueFull) {
			full++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("100 Publish calls took %v", d)
	}
	s := b.Stats()
	if full == 0 || s.EventsDropped != uint64(full) || s.EventsPublished != 100 {
		t.Fatalf("full=%d stats=%+v", full, s)
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *Config, _ *HandlerConfig) {
		c.IdleTimeout = 200 * time.Millisecond
		c.MaxLifetime = -1
	})
	idle := e.connect(t)
	busy := e.connect(t)
	e.subscribe(t, "", busy.id, "posts/*")
	start := time.Now()
	// Keep the busy client busy for longer than the idle timeout.
	for time.Since(start) < 600*time.Millisecond {
		e.publish(t, "posts", "r1", "update", `{}`)
		busy.next()
		time.Sleep(50 * time.Millisecond) // the pace of events, not synchronisation
	}
	if !idle.ended(wait) {
		t.Fatal("idle stream not closed")
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
	select {
	case <-busy.done:
		t.Fatal("a stream that receives events was closed as idle")
	default:
	}
	if got := e.b.Stats().ClientsClosedIdle; got != 1 {
		t.Fatalf("ClientsClosedIdle %d", got)
	}
}

func TestMaxLifetime(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *Config, _ *HandlerConfig) {
		c.IdleTimeout = -1
		c.MaxLifetime = 300 * time.Millisecond
	})
	start := time.Now()
	c := e.connect(t)
	if !c.ended(wait) {
		t.Fatal("stream outlived MaxLifetime")
	}
	// Jitter is at most 10% early.
	if d := time.Since(start); d < 270*time.Millisecond {
		t.Fatalf("closed after %v", d)
	}
	if got := e.b.Stats().ClientsClosedLifetime; got != 1 {
		t.Fatalf("ClientsClosedLifetime %d", got)
	}
}

// TestStreamOutlivesServerTimeouts: the test server has 2s read and write
// timeouts; a stream must keep working past them.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for the server timeouts")
	}
	e := setup(t)
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*")
	time.Sleep(2500 * time.Millisecond) // past the server's ReadTimeout and WriteTimeout
	e.publish(t, "posts", "r1", "create", `{}`)
	if f := c.next(); f.Event != "posts/*" {
		t.Fatalf("got %+v", f)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a, b := e.connect(t), e.connect(t)
	e.subscribe(t, "", a.id, "posts/*")
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	if !a.ended(wait) || !b.ended(wait) {
		t.Fatal("streams not closed by Close")
	}
	if err := e.b.Publish(context.Background(), Event{CollectionName: "posts", RecordID: "r", Action: "create"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
	if err := e.b.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	resp, err := e.srv.Client().Get(e.srv.URL + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("connect after Close: %d %s", resp.StatusCode, body)
	}
	if s := e.b.Stats(); s.Clients != 0 || s.Subscriptions != 0 {
		t.Fatalf("stats after Close: %+v", s)
	}
}

// TestServerShutdown: http.Server.Shutdown with Close registered through
// RegisterOnShutdown ends the streams, so Shutdown does not hang on them.
func TestServerShutdown(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := e.srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !c.ended(wait) {
		t.Fatal("stream survived Shutdown")
	}
}

func TestClientDisconnectUnregisters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*", "comments/*")
	c.close()
	eventually(t, wait, "the client to be unregistered", func() bool {
		s := e.b.Stats()
		return s.Clients == 0 && s.Subscriptions == 0
	})
	if status, _ := e.post(t, "", map[string]any{"clientId": c.id, "subscriptions": []string{}}); status != 404 {
		t.Fatalf("status %d", status)
	}
}

func TestDropAuthLocal(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *Config, _ *HandlerConfig) {
		c.Authorizer = &fakeAuthz{render: func(auth Auth, _ Subscription, _ Event) []byte {
			return []byte(`{"auth":"` + auth.RecordID + `"}`)
		}}
	})
	u1, u2 := e.connect(t), e.connect(t)
	e.subscribe(t, "tok-u1", u1.id, "posts/*")
	e.subscribe(t, "tok-u2", u2.id, "posts/*")
	if err := e.b.DropAuth(context.Background(), "users", "u1"); err != nil {
		t.Fatal(err)
	}
	e.publish(t, "posts", "r", "create", "")
	if f := u1.next(); f.Data != `{"auth":""}` {
		t.Fatalf("u1 after DropAuth: %s", f.Data)
	}
	if f := u2.next(); f.Data != `{"auth":"u2"}` {
		t.Fatalf("u2: %s", f.Data)
	}
	// Now a guest, u1's client may be claimed by another identity.
	e.subscribe(t, "tok-u2", u1.id, "posts/*")
}

func TestHeadDoesNotOpenAStream(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, err := e.srv.Client().Head(e.srv.URL + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || e.b.Stats().Clients != 0 {
		t.Fatalf("status %d, clients %d", resp.StatusCode, e.b.Stats().Clients)
	}
}

// TestRecordOrder: events of one record reach a client in publish order,
// whichever worker handles them.
func TestRecordOrder(t *testing.T) {
	t.Parallel()
	const n = 300
	e := setup(t, func(c *Config, _ *HandlerConfig) {
		c.Workers = 8
		c.SendBuffer = 2 * n // the test publishes faster than it reads
	})
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*")
	for i := range n {
		e.publish(t, "posts", fmt.Sprint("r", i%3), "update", fmt.Sprintf(`{"i":%d}`, i))
	}
	last := map[string]int{}
	for range n {
		f := c.next()
		var m struct {
			Record struct {
				I int `json:"i"`
			} `json:"record"`
		}
		if err := json.Unmarshal([]byte(f.Data), &m); err != nil {
			t.Fatal(err)
		}
		rec := fmt.Sprint("r", m.Record.I%3)
		if prev, ok := last[rec]; ok && m.Record.I <= prev {
			t.Fatalf("%s: event %d after %d", rec, m.Record.I, prev)
		}
		last[rec] = m.Record.I
	}
}

// TestConcurrentUse exercises publish, subscribe, auth drops and
// disconnects at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	authz := &fakeAuthz{}
	b, err := NewBroker(Config{Authorizer: authz, Logger: testLogger(t), SendBuffer: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() { // connect, subscribe, switch topics, leave
			for i := range 300 {
				select {
				case <-stop:
					return
				default:
				}
				c, err := b.register(kindSSE, Auth{})
				if err != nil {
					return
				}
				auth := Auth{CollectionID: "users", RecordID: fmt.Sprint("u", i%3)}
				_ = b.SetSubscriptions(ctx, c.id, auth, []string{"posts/*", fmt.Sprint("posts/r", g)})
				_ = b.SetSubscriptions(ctx, c.id, auth, []string{"pbc_posts/*"})
				c.q.take(nil)
				b.remove(c, reasonGone)
			}
		})
	}
	wg.Go(func() {
		for i := range 300 {
			select {
			case <-stop:
				return
			default:
			}
			_ = b.DropAuth(ctx, "users", fmt.Sprint("u", i%3))
		}
	})
	for i := range 1000 {
		_ = b.Publish(ctx, Event{CollectionID: "pbc_posts", CollectionName: "posts", RecordID: fmt.Sprint("r", i%5), Action: "update", Data: json.RawMessage(`{}`)})
	}
	close(stop)
	wg.Wait()
	if s := b.Stats(); s.Clients != 0 || s.Subscriptions != 0 {
		t.Fatalf("after everyone left: %+v", s)
	}
}
