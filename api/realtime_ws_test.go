package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/plinthdev/plinth/internal/testenv"
)

// wsClient is a Go client of /api/realtime/ws.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	id   string
	msgs chan wsMsg
}

// wsMsg is any server message of the WebSocket protocol.
type wsMsg struct {
	Type     string          `json:"type"`
	ID       json.RawMessage `json:"id,omitempty"`
	ClientID string          `json:"clientId,omitempty"`
	Topic    string          `json:"topic,omitempty"`
	Status   int             `json:"status,omitempty"`
	Message  string          `json:"message,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// connectWS dials the app's WebSocket, with an Authorization header when
// token is set, and reads the connect message.
func (ta *testApp) connectWS(token string) *wsClient {
	ta.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+token)
	}
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ta.srv.URL, "http")+"/api/realtime/ws", opts)
	if err != nil {
		ta.t.Fatalf("dial: %v (%v)", err, res)
	}
	c := &wsClient{t: ta.t, conn: conn, msgs: make(chan wsMsg, 100)}
	ta.t.Cleanup(func() { conn.CloseNow() })
	go func() {
		defer close(c.msgs)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var m wsMsg
			if err := json.Unmarshal(data, &m); err != nil {
				ta.t.Errorf("message is not JSON: %s", data)
				return
			}
			c.msgs <- m
		}
	}()
	m := c.next(5 * time.Second)
	if m.Type != "connect" || len(m.ClientID) != 40 {
		ta.t.Fatalf("first message %+v, want connect with a client id", m)
	}
	c.id = m.ClientID
	return c
}

// next returns the next message, or a zero one after wait.
func (c *wsClient) next(wait time.Duration) wsMsg {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatal("WebSocket closed")
		}
		return m
	case <-time.After(wait):
		return wsMsg{}
	}
}

// send writes one JSON message.
func (c *wsClient) send(v any) {
	c.t.Helper()
	data, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatal(err)
	}
}

// call sends a request with a numeric id and returns the answer to it.
func (c *wsClient) call(id int, v map[string]any) wsMsg {
	c.t.Helper()
	v["id"] = id
	c.send(v)
	m := c.next(5 * time.Second)
	if string(m.ID) != jsonNumber(id) {
		c.t.Fatalf("answer %+v, want one to id %d", m, id)
	}
	return m
}

func jsonNumber(n int) string { b, _ := json.Marshal(n); return string(b) }

// event waits for the next event and returns its topic and data.
func (c *wsClient) event(wait time.Duration) (string, string) {
	c.t.Helper()
	m := c.next(wait)
	if m.Type == "" {
		return "", ""
	}
	if m.Type != "event" {
		c.t.Fatalf("got %+v, want an event", m)
	}
	return m.Topic, string(m.Data)
}

// TestRealtimeWebSocket drives the WebSocket protocol through the whole
// app: token by message and by header, subscribe, rule-filtered events,
// ping/pong, unsubscribe, and a POST /api/realtime naming a WebSocket
// client.
// TestRealtimeWebSocketCrossOrigin: a page on another origin opens the
// WebSocket as it may use REST, SSE and GraphQL subscriptions, and is a
// guest until it authenticates.
func TestRealtimeWebSocketCrossOrigin(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ta.srv.URL, "http")+"/api/realtime/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://app.example.org"}}})
		if err != nil {
			t.Fatalf("dial from another origin: %v (%v)", err, res)
		}
		defer conn.CloseNow()
		_, data, err := conn.Read(ctx)
		if err != nil || !strings.Contains(string(data), `"type":"connect"`) {
			t.Fatalf("first message %s (%v)", data, err)
		}
	})
}

func TestRealtimeWebSocket(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ann, annTok := ta.signUp("ann@example.com")
		bob, bobTok := ta.signUp("bob@example.com")
		owner := "owner = @request.auth.id"
		ta.createCollection(map[string]any{"name": "notes", "listRule": owner, "viewRule": owner, "createRule": "", "updateRule": owner,
			"fields": []map[string]any{{"name": "text", "type": "text"}, {"name": "owner", "type": "relation", "collectionId": "users", "maxSelect": 1}}})

		// Ann authenticates by message, bob by header; a bad token is a guest.
		annWS := ta.connectWS("")
		if m := annWS.call(1, map[string]any{"type": "auth", "token": annTok}); m.Type != "ack" {
			t.Fatalf("auth: %+v", m)
		}
		if m := annWS.call(2, map[string]any{"type": "subscribe", "subscriptions": []string{"notes/*"}}); m.Type != "ack" {
			t.Fatalf("subscribe: %+v", m)
		}
		if m := annWS.call(3, map[string]any{"type": "ping"}); m.Type != "pong" {
			t.Fatalf("ping: %+v", m)
		}
		if m := annWS.call(4, map[string]any{"type": "auth", "token": bobTok}); m.Type != "error" || m.Status != 403 {
			t.Fatalf("switching identity: %+v, want error 403", m)
		}
		if m := annWS.call(5, map[string]any{"type": "subscribe", "subscriptions": []string{"no spaces/*"}}); m.Type != "error" || m.Status != 400 {
			t.Fatalf("bad topic: %+v, want error 400", m)
		}
		bobWS := ta.connectWS(bobTok)
		if m := bobWS.call(1, map[string]any{"type": "subscribe", "subscriptions": []string{"notes/*"}}); m.Type != "ack" {
			t.Fatalf("bob subscribe: %+v", m)
		}
		guestWS := ta.connectWS("not-a-token")
		if m := guestWS.next(5 * time.Second); m.Type != "error" || m.Status != 401 {
			t.Fatalf("bad header token: %+v, want error 401", m)
		}
		guestWS.call(1, map[string]any{"type": "subscribe", "subscriptions": []string{"notes/*"}})

		// Each gets their own note only.
		ta.mustJSON("POST", "/api/collections/notes/records", map[string]any{"text": "bob's", "owner": bob}, bobTok, 200, nil)
		note := ta.create("notes", map[string]any{"text": "ann's", "owner": ann})
		if topic, data := annWS.event(5 * time.Second); topic != "notes/*" || !strings.Contains(data, `"action":"create"`) || !strings.Contains(data, `"text":"ann's"`) {
			t.Fatalf("ann got %s %s", topic, data)
		}
		if topic, data := bobWS.event(5 * time.Second); topic != "notes/*" || !strings.Contains(data, `"text":"bob's"`) {
			t.Fatalf("bob got %s %s", topic, data)
		}

		// A record topic through POST /api/realtime, with the WebSocket
		// client's id: the same broker, the same rules.
		ta.mustJSON("POST", "/api/realtime", map[string]any{"clientId": annWS.id, "subscriptions": []string{"notes/" + note["id"].(string)}}, annTok, 204, nil)
		ta.mustJSON("PATCH", "/api/collections/notes/records/"+note["id"].(string), map[string]any{"text": "edited"}, annTok, 200, nil)
		if topic, data := annWS.event(5 * time.Second); topic != "notes/"+note["id"].(string) || !strings.Contains(data, `"action":"update"`) {
			t.Fatalf("ann's record topic got %s %s", topic, data)
		}
		// Unsubscribing everything stops events; the connection stays.
		if m := annWS.call(6, map[string]any{"type": "unsubscribe"}); m.Type != "ack" {
			t.Fatalf("unsubscribe: %+v", m)
		}
		ta.create("notes", map[string]any{"text": "ann's second", "owner": ann})
		if topic, data := annWS.event(300 * time.Millisecond); topic != "" {
			t.Errorf("event after unsubscribe: %s %s", topic, data)
		}
		if m := annWS.call(7, map[string]any{"type": "ping"}); m.Type != "pong" {
			t.Fatalf("ping after unsubscribe: %+v", m)
		}
		for who, c := range map[string]*wsClient{"bob": bobWS, "guest": guestWS} {
			if topic, data := c.event(200 * time.Millisecond); topic != "" {
				t.Errorf("%s got %s %s", who, topic, data)
			}
		}
	})
}
