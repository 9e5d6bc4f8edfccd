package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/examples/internal/e2e"
	"github.com/plinthdev/plinth/internal/testenv"
)

type rec struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Text string `json:"text"`
	User string `json:"user"`
	Room string `json:"room"`
}

func TestChat(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := newApp(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, DisableRateLimits: true}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		c := e2e.New(t, srv)
		alice, aliceTok := c.SignUp("alice@example.com")
		bob, bobTok := c.SignUp("bob@example.com")
		_, carolTok := c.SignUp("carol@example.com")

		var general rec
		c.Call("POST", "/api/collections/rooms/records", aliceTok, map[string]any{"name": "general", "owner": alice}, 200, &general)
		c.Call("POST", "/api/collections/rooms/records", bobTok, map[string]any{"name": "forged", "owner": alice}, 400, nil)
		// Only the owner adds members.
		var bobM rec
		c.Call("POST", "/api/collections/members/records", bobTok, map[string]any{"room": general.ID, "user": bob}, 400, nil)
		c.Call("POST", "/api/collections/members/records", aliceTok, map[string]any{"room": general.ID, "user": bob}, 200, &bobM)

		// Realtime: members get the room's messages, carol none.
		bobRT, carolRT := c.Connect(), c.Connect()
		bobRT.Subscribe(bobTok, "messages/*", "members/*")
		carolRT.Subscribe(carolTok, "messages/*", "rooms/"+general.ID)
		post := func(token, author, text string, want int) rec {
			t.Helper()
			var m rec
			c.Call("POST", "/api/collections/messages/records", token, map[string]any{"room": general.ID, "author": author, "text": text}, want, &m)
			return m
		}
		post(aliceTok, alice, "hello bob", 200)
		post(aliceTok, alice, "are you there?", 200)
		// Events of different records may arrive in either order (each
		// record's events are ordered; the broker works on records in
		// parallel): the client sorts by created.
		var got []string
		for range 2 {
			ev, ok := bobRT.Next(5 * time.Second)
			if !ok || ev.Name != "messages/*" {
				t.Fatalf("bob's event %+v", ev)
			}
			got = append(got, ev.Data)
		}
		for _, want := range []string{"hello bob", "are you there?"} {
			if !strings.Contains(strings.Join(got, "\n"), want) {
				t.Fatalf("bob's events %q lack %q", got, want)
			}
		}
		// Non-members neither read, post nor see the room.
		post(carolTok, alice, "as alice", 400)
		c.Call("GET", "/api/collections/rooms/records/"+general.ID, carolTok, nil, 404, nil)
		var p e2e.Page[rec]
		c.Call("GET", "/api/collections/messages/records", carolTok, nil, 200, &p)
		if p.TotalItems != 0 {
			t.Errorf("carol reads %d messages", p.TotalItems)
		}
		if ev, ok := carolRT.Next(200 * time.Millisecond); ok {
			t.Errorf("carol received %+v", ev)
		}
		// Members may not post as someone else.
		post(bobTok, alice, "as alice", 400)

		// Unread counts: bob has two, alice none (her own messages).
		unread := func(token string) map[string]int {
			t.Helper()
			var u map[string]int
			c.Call("GET", "/api/chat/unread", token, nil, 200, &u)
			return u
		}
		if u := unread(bobTok); u[general.ID] != 2 {
			t.Errorf("bob's unread %v, want 2", u)
		}
		if u := unread(aliceTok); u[general.ID] != 0 {
			t.Errorf("alice's unread %v, want 0", u)
		}
		if u := unread(carolTok); len(u) != 0 {
			t.Errorf("carol's unread %v", u)
		}
		c.Call("POST", "/api/chat/rooms/"+general.ID+"/read", bobTok, nil, 204, nil)
		if ev, ok := bobRT.Next(5 * time.Second); !ok || ev.Name != "members/*" || !strings.Contains(ev.Data, `"action":"update"`) {
			t.Errorf("bob's read marker event %+v", ev)
		}
		if u := unread(bobTok); u[general.ID] != 0 {
			t.Errorf("bob's unread after reading %v", u)
		}
		time.Sleep(5 * time.Millisecond) // the next message is later than the marker
		post(bobTok, bob, "here!", 200)
		post(aliceTok, alice, "great", 200)
		if u := unread(bobTok); u[general.ID] != 1 {
			t.Errorf("bob's unread %v, want 1", u)
		}
		if u := unread(aliceTok); u[general.ID] != 1 {
			t.Errorf("alice's unread %v, want 1", u)
		}
		c.Call("POST", "/api/chat/rooms/"+general.ID+"/read", carolTok, nil, 404, nil)
		// Nobody moves someone else's read marker.
		c.Call("PATCH", "/api/collections/members/records/"+bobM.ID, aliceTok, map[string]any{"lastReadAt": "2000-01-01 00:00:00.000Z"}, 404, nil)

		// Removed from the room, bob's subscription goes quiet.
		for range 2 {
			bobRT.Next(time.Second) // his own message and alice's
		}
		c.Call("DELETE", "/api/collections/members/records/"+bobM.ID, aliceTok, nil, 204, nil)
		bobRT.Next(time.Second) // the membership's deletion
		post(aliceTok, alice, "bob left", 200)
		if ev, ok := bobRT.Next(300 * time.Millisecond); ok {
			t.Errorf("bob received %+v after leaving", ev)
		}
		c.Call("GET", "/api/collections/messages/records", bobTok, nil, 200, &p)
		if p.TotalItems != 0 {
			t.Errorf("bob still reads %d messages", p.TotalItems)
		}
	})
}
