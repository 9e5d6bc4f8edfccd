package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestParseCustomTopic(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", MaxCustomTopicLength)
	tests := []struct {
		in    string
		query map[string]string
	}{
		{in: "@oauth2"},
		{in: "oauth2"},
		{in: "posts"}, // a bare collection name is a custom topic, as in PocketBase
		{in: "x"},
		{in: "@A.b:c-d_9"},
		{in: long},
		{in: "@" + long},
		{in: "@oauth2" + opts(`{"query":{"a":"1"}}`), query: map[string]string{"a": "1"}},
		{in: "@oauth2?x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			s, err := ParseTopic(tt.in, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Custom || s.Topic != tt.in || s.Collection != "" || s.RecordID != "" || s.Wildcard() {
				t.Fatalf("got %+v", s)
			}
			if !maps.Equal(s.Query, tt.query) {
				t.Fatalf("query %v, want %v", s.Query, tt.query)
			}
		})
	}
	if s, err := ParseTopic("posts/*", 0); err != nil || s.Custom {
		t.Fatalf("record topic: %+v %v", s, err)
	}
}

func TestParseCustomTopicInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, wantInMessage string }{
		{"", "custom topic"},
		{"@", "custom topic"},
		{"@@x", "custom topic"},
		{"a b", "custom topic"},
		{"a#b", "custom topic"},
		{"a*", "custom topic"},
		{"é", "custom topic"},
		{"@oauth2\nevent:x", "control character"},
		{"@oauth2\x7f", "control character"},
		{strings.Repeat("a", MaxCustomTopicLength+1), "custom topic"},
		{"@" + strings.Repeat("a", MaxCustomTopicLength+1), "custom topic"},
		{"@x" + strings.Repeat("a", DefaultMaxTopicLength), "longer than"},
		{"@x?options=%ZZ", "query string"},
		{"@x" + opts(`[1]`), "invalid options"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseTopic(tt.in, 0)
			if !errors.Is(err, ErrInvalidSubscription) {
				t.Fatalf("err = %v, want ErrInvalidSubscription", err)
			}
			if !strings.Contains(err.Error(), tt.wantInMessage) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.wantInMessage)
			}
		})
	}
	if _, err := ParseTopics([]string{"@ok", "not ok"}, 0, 0, 0); !errors.Is(err, ErrInvalidSubscription) {
		t.Fatalf("ParseTopics: %v", err)
	}
}

// oauth2Message is what the OAuth2 redirect handler sends.
const oauth2Message = `{"state":"S","code":"C","error":""}`

func TestSendToClientSSE(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.connect(t)
	// The SDK's OAuth2 popup flow subscribes with a POST like any other.
	e.subscribe(t, "", c.id, "posts/*", "@oauth2")
	// Indented data is compacted, as an SSE data line cannot hold newlines.
	if err := e.b.SendToClient(context.Background(), c.id, "@oauth2", json.RawMessage("{\n  \"state\": \"S\",\n  \"code\": \"C\",\n  \"error\": \"\"\n}")); err != nil {
		t.Fatal(err)
	}
	if f := c.next(); f != (sseFrame{ID: c.id, Event: "@oauth2", Data: oauth2Message}) {
		t.Fatalf("got %+v", f)
	}
	// Record events still flow on the same stream.
	e.publish(t, "posts", "r1", "create", `{}`)
	if f := c.next(); f.Event != "posts/*" {
		t.Fatalf("got %+v", f)
	}
	if got := e.authz.calls.Load(); got != 1 {
		t.Fatalf("authorizer calls %d, want 1 (none for SendToClient)", got)
	}
}

func TestSendToClientWS(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.dialWS(t, nil)
	c.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"@oauth2"}})
	if err := e.b.SendToClient(context.Background(), c.id, "@oauth2", json.RawMessage(oauth2Message)); err != nil {
		t.Fatal(err)
	}
	m := c.next()
	data, _ := json.Marshal(m["data"])
	if m["type"] != "event" || m["topic"] != "@oauth2" || string(data) != `{"code":"C","error":"","state":"S"}` {
		t.Fatalf("got %v", m)
	}
	c.mustAck(map[string]any{"type": "unsubscribe", "id": 2, "subscriptions": []string{"@oauth2"}})
	if err := e.b.SendToClient(context.Background(), c.id, "@oauth2", json.RawMessage(oauth2Message)); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("after unsubscribing: %v", err)
	}
}

func TestSendToClientErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.connect(t)
	ctx := context.Background()
	msg := json.RawMessage(oauth2Message)
	e.subscribe(t, "", c.id, "posts/*", "@other", "@oauth2"+opts(`{"query":{"a":"1"}}`))

	// Topics match exactly: not another custom topic, not the same name
	// with options.
	for _, topic := range []string{"@oauth2", "@Other", "posts"} {
		if err := e.b.SendToClient(ctx, c.id, topic, msg); !errors.Is(err, ErrNotSubscribed) {
			t.Fatalf("%s: %v, want ErrNotSubscribed", topic, err)
		}
	}
	for _, id := range []string{"nobody", ""} {
		if err := e.b.SendToClient(ctx, id, "@other", msg); !errors.Is(err, ErrUnknownClient) {
			t.Fatalf("client %q: %v, want ErrUnknownClient", id, err)
		}
	}
	for _, data := range []string{"", "{", `{"a":1} x`, "not json"} {
		err := e.b.SendToClient(ctx, c.id, "@other", json.RawMessage(data))
		if err == nil || errors.Is(err, ErrNotSubscribed) || errors.Is(err, ErrUnknownClient) {
			t.Fatalf("data %q: %v, want an invalid data error", data, err)
		}
	}
	if err := e.b.SendToClient(ctx, c.id, "", msg); err == nil {
		t.Fatal("empty topic accepted")
	}
	// A record topic it is subscribed to works too (the caller decides).
	if err := e.b.SendToClient(ctx, c.id, "posts/*", msg); err != nil {
		t.Fatal(err)
	}
	if f := c.next(); f.Event != "posts/*" || f.Data != oauth2Message {
		t.Fatalf("got %+v", f)
	}
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.b.SendToClient(ctx, c.id, "@other", msg); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestSendToClientSlowConsumer: SendToClient queues like the fan-out; a
// full buffer drops the client instead of waiting.
func TestSendToClientSlowConsumer(t *testing.T) {
	t.Parallel()
	b, err := NewBroker(Config{Authorizer: &fakeAuthz{}, Logger: testLogger(t), SendBuffer: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	c, err := b.register(kindSSE, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetSubscriptions(ctx, c.id, Auth{}, []string{"@x"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.SendToClient(ctx, c.id, "@x", json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SendToClient(ctx, c.id, "@x", json.RawMessage(`1`)); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("full buffer: %v, want ErrUnknownClient", err)
	}
	if !c.closed() || c.closeReason() != reasonSlow || b.Stats().ClientsDroppedSlow != 1 || b.Stats().Clients != 0 {
		t.Fatalf("client not dropped as slow: %+v", b.Stats())
	}
}

// TestCustomTopicsIgnoreRecordEvents: custom topics named like a
// collection, its id or a record never receive record events.
func TestCustomTopicsIgnoreRecordEvents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	custom := e.connect(t)
	both := e.dialWS(t, nil)
	e.subscribe(t, "", custom.id, "posts", "pbc_posts", "r1", "@posts", "posts?x=1")
	both.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"posts", "posts/*"}})

	e.publish(t, "posts", "r1", "create", `{"n":1}`)
	if m := both.next(); m["topic"] != "posts/*" {
		t.Fatalf("got %v", m)
	}
	// One frame only: the next one is the marker sent afterwards.
	for _, id := range []string{custom.id, both.id} {
		if err := e.b.SendToClient(context.Background(), id, "posts", json.RawMessage(`"marker"`)); err != nil {
			t.Fatal(err)
		}
	}
	if f := custom.next(); f.Event != "posts" || f.Data != `"marker"` {
		t.Fatalf("custom-only client got %+v before the marker", f)
	}
	if m := both.next(); m["topic"] != "posts" || m["data"] != "marker" {
		t.Fatalf("got %v, want the marker", m)
	}
	if got := e.authz.calls.Load(); got != 1 {
		t.Fatalf("authorizer calls %d, want 1", got)
	}
	// Nor is anything indexed for them.
	e.b.mu.RLock()
	n := len(e.b.byCollection)
	_, empty := e.b.byCollection[""]
	e.b.mu.RUnlock()
	if n != 1 || empty {
		t.Fatalf("byCollection has %d collections (empty key: %v), want posts only", n, empty)
	}
	if got := e.b.Stats().Subscriptions; got != 7 {
		t.Fatalf("subscriptions gauge %d, want 7", got)
	}
}

// sendSuite is the cross-instance part of SendToClient, run on every bus.
func sendSuite(t *testing.T, pair busPair) {
	t.Run("SendToClient through another instance", func(t *testing.T) {
		t.Parallel()
		a, b := instances(t, pair)
		ctx := context.Background()
		sse, ws := a.connect(t), a.dialWS(t, nil)
		b.subscribe(t, "", sse.id, "@oauth2") // the POST lands on B
		ws.mustAck(map[string]any{"type": "subscribe", "id": 1, "subscriptions": []string{"@oauth2", "posts/*"}})

		if err := b.b.SendToClient(ctx, sse.id, "@oauth2", json.RawMessage("{\n\"state\":\"S\",\"code\":\"C\",\"error\":\"\"}")); err != nil {
			t.Fatal(err)
		}
		if f := sse.next(); f != (sseFrame{ID: sse.id, Event: "@oauth2", Data: oauth2Message}) {
			t.Fatalf("got %+v", f)
		}
		if err := b.b.SendToClient(ctx, ws.id, "@oauth2", json.RawMessage(`{"x":[1,2]}`)); err != nil {
			t.Fatal(err)
		}
		if m := ws.next(); m["type"] != "event" || m["topic"] != "@oauth2" {
			t.Fatalf("got %v", m)
		}

		// Not subscribed: answered by the holder, not timed out.
		start := time.Now()
		for _, id := range []string{sse.id, ws.id} {
			if err := b.b.SendToClient(ctx, id, "@other", json.RawMessage(`{}`)); !errors.Is(err, ErrNotSubscribed) {
				t.Fatalf("%v, want ErrNotSubscribed", err)
			}
		}
		if d := time.Since(start); d >= 400*time.Millisecond {
			t.Fatalf("ErrNotSubscribed took %v; the holder should answer", d)
		}

		// Nobody holds it: BusRequestTimeout (500ms), then ErrUnknownClient.
		start = time.Now()
		if err := b.b.SendToClient(ctx, "nobody-holds-this-id", "@oauth2", json.RawMessage(`{}`)); !errors.Is(err, ErrUnknownClient) {
			t.Fatalf("%v, want ErrUnknownClient", err)
		}
		if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
			t.Fatalf("answered after %v; want about BusRequestTimeout", d)
		}

		// The caller's context still bounds the wait.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := b.b.SendToClient(cctx, "nobody-holds-this-id", "@oauth2", json.RawMessage(`{}`)); !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled: %v", err)
		}
	})

	t.Run("SendToClient to a slow client on another instance", func(t *testing.T) {
		t.Parallel()
		a, b := instances(t, pair, func(c *Config, _ *HandlerConfig) { c.SendBuffer = 1 })
		ctx := context.Background()
		c, err := a.b.register(kindSSE, Auth{}) // nobody reads its queue
		if err != nil {
			t.Fatal(err)
		}
		if err := b.b.SetSubscriptions(ctx, c.id, Auth{}, []string{"@x"}); err != nil {
			t.Fatal(err)
		}
		if err := b.b.SendToClient(ctx, c.id, "@x", json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = b.b.SendToClient(ctx, c.id, "@x", json.RawMessage(`2`))
		if !errors.Is(err, ErrUnknownClient) || !strings.Contains(err.Error(), "send buffer was full") {
			t.Fatalf("full buffer: %v", err)
		}
		if d := time.Since(start); d >= 400*time.Millisecond {
			t.Fatalf("took %v; the holder should answer", d)
		}
		if s := a.b.Stats(); s.ClientsDroppedSlow != 1 || s.Clients != 0 {
			t.Fatalf("stats of A: %+v", s)
		}
	})
}

func TestSendToClientBusMemory(t *testing.T)   { t.Parallel(); sendSuite(t, memoryPair) }
func TestSendToClientBusNATS(t *testing.T)     { t.Parallel(); sendSuite(t, natsPair) }
func TestSendToClientBusPostgres(t *testing.T) { t.Parallel(); sendSuite(t, pgPair) }
