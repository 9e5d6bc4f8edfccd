package gql_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/plinthdev/plinth/internal/testenv"
)

// subscribe opens a graphql-transport-ws connection authenticated by
// token (in connection_init) and starts query.
func (e *env) subscribe(ctx context.Context, token, query string) *websocket.Conn {
	e.t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/api/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		e.t.Fatal(err)
	}
	wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
	var ack map[string]any
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack["type"] != "connection_ack" {
		e.t.Fatalf("init: %v %v", ack, err)
	}
	wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	return conn
}

// next reads the next data message.
func next(ctx context.Context, t *testing.T, conn *websocket.Conn) string {
	t.Helper()
	for {
		var msg map[string]json.RawMessage
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			t.Fatalf("read: %v", err)
		}
		var typ string
		json.Unmarshal(msg["type"], &typ)
		switch typ {
		case "next", "error":
			return string(msg["payload"])
		case "ping":
			wsjson.Write(ctx, conn, map[string]any{"type": "pong"})
		}
	}
}

func TestSubscriptionsFollowRules(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		e := setup(t, b)
		owner, other, ownerID, otherID := e.blog()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		q := `subscription { posts_events { action record { title score owner { id } } } }`
		ownerConn := e.subscribe(ctx, owner, q)
		defer ownerConn.CloseNow()
		otherConn := e.subscribe(ctx, other, q)
		defer otherConn.CloseNow()
		filtered := e.subscribe(ctx, owner, `subscription { posts_events(filter: "score > 5") { action record { title } } }`)
		defer filtered.CloseNow()
		time.Sleep(300 * time.Millisecond) // the subscribe messages are handled
		// A create from REST reaches the owner, not the other user.
		e.rest("POST", "/api/collections/posts/records", map[string]any{"title": "owner's", "score": 1, "owner": ownerID}, owner, 200, nil)
		e.rest("POST", "/api/collections/posts/records", map[string]any{"title": "other's", "score": 2, "owner": otherID}, other, 200, nil)
		e.rest("POST", "/api/collections/posts/records", map[string]any{"title": "big", "score": 9, "owner": ownerID}, owner, 200, nil)
		// The owner's two posts may come in either order: the broker keeps
		// each record's events in order, not those of different records.
		if got := next(ctx, t, ownerConn) + next(ctx, t, ownerConn); !strings.Contains(got, `"action":"create","record":{"title":"owner's","score":1,"owner":null}`) ||
			!strings.Contains(got, `"title":"big"`) || strings.Contains(got, `"title":"other's"`) {
			t.Errorf("owner got %s", got)
		}
		if got := next(ctx, t, otherConn); !strings.Contains(got, `"title":"other's"`) {
			t.Errorf("other got %s (its own post should come first)", got)
		}
		if got := next(ctx, t, filtered); !strings.Contains(got, `"title":"big"`) {
			t.Errorf("filtered got %s", got)
		}
	})
}
