package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
)

// natsURL is the NATS server the scale-out test uses.
func natsURL() string {
	if u := os.Getenv("PLINTH_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// requireNATS skips the test when NATS is unreachable, or fails it with
// PLINTH_REQUIRE_SERVICES=1.
func requireNATS(t *testing.T) string {
	t.Helper()
	u := natsURL()
	parsed, err := url.Parse(u)
	if err == nil {
		var conn net.Conn
		if conn, err = net.DialTimeout("tcp", parsed.Host, 3*time.Second); err == nil {
			conn.Close()
			return u
		}
	}
	if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
		t.Fatalf("NATS at %s is required (PLINTH_REQUIRE_SERVICES=1) but unreachable: %v", u, err)
	}
	t.Skipf("NATS at %s unreachable, skipping (set PLINTH_TEST_NATS_URL): %v", u, err)
	return ""
}

// sseStream is one realtime SSE connection to a server process.
type sseStream struct {
	t      *testing.T
	id     string
	frames chan sseFrame
}

// sseFrame is one SSE frame: its id, event and data lines.
type sseFrame struct{ id, event, data string }

// connectSSE opens GET /api/realtime on s and reads PB_CONNECT.
func (s *server) connectSSE() *sseStream {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/api/realtime", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		s.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		s.t.Fatalf("GET /api/realtime: status %d", res.StatusCode)
	}
	st := &sseStream{t: s.t, frames: make(chan sseFrame, 100)}
	s.t.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		defer close(st.frames)
		sc := bufio.NewScanner(res.Body)
		var f sseFrame
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id:"):
				f.id = strings.TrimPrefix(line, "id:")
			case strings.HasPrefix(line, "event:"):
				f.event = strings.TrimPrefix(line, "event:")
			case strings.HasPrefix(line, "data:"):
				f.data = strings.TrimPrefix(line, "data:")
			case line == "":
				st.frames <- f
				f = sseFrame{}
			}
		}
	}()
	f, ok := st.next(5 * time.Second)
	if !ok || f.event != "PB_CONNECT" {
		s.t.Fatalf("first frame from %s: %+v, want PB_CONNECT", s.url, f)
	}
	var connect struct{ ClientID string }
	json.Unmarshal([]byte(f.data), &connect)
	if connect.ClientID == "" || f.id != connect.ClientID {
		s.t.Fatalf("PB_CONNECT %+v: want the client id as data and as the SSE id", f)
	}
	st.id = connect.ClientID
	return st
}

// next waits up to wait for a frame; ok is false when none came.
func (st *sseStream) next(wait time.Duration) (sseFrame, bool) {
	select {
	case f, ok := <-st.frames:
		if !ok {
			st.t.Fatal("realtime stream ended")
		}
		return f, true
	case <-time.After(wait):
		return sseFrame{}, false
	}
}

// expect waits for the next frame and checks its topic and that its data
// holds every one of wants.
func (st *sseStream) expect(who, topic string, wants ...string) {
	st.t.Helper()
	f, ok := st.next(10 * time.Second)
	if !ok {
		st.t.Fatalf("%s: no event within 10s, want %s %v", who, topic, wants)
	}
	if f.event != topic || f.id != st.id {
		st.t.Fatalf("%s: got frame %+v, want topic %s and id %s", who, f, topic, st.id)
	}
	for _, w := range wants {
		if !strings.Contains(f.data, w) {
			st.t.Fatalf("%s: got %s, want it to contain %s", who, f.data, w)
		}
	}
}

// expectNothing checks that no frame arrives within wait.
func (st *sseStream) expectNothing(who string, wait time.Duration) {
	st.t.Helper()
	if f, ok := st.next(wait); ok {
		st.t.Fatalf("%s: unexpected frame %+v", who, f)
	}
}

// subscribeVia posts a client's subscriptions to s, which need not be the
// instance holding the stream. No retry: an instance serves only once its
// bus subscription is live, so the stream's instance can answer at once.
func (s *server) subscribeVia(st *sseStream, token string, topics ...string) {
	s.t.Helper()
	s.mustCall(http.MethodPost, "/api/realtime", token, map[string]any{"clientId": st.id, "subscriptions": topics}, http.StatusNoContent, nil)
}

// mustCall calls s and checks the status, decoding the answer into out.
func (s *server) mustCall(method, path, token string, body any, status int, out any) {
	s.t.Helper()
	code, raw, err := s.call(method, path, token, body)
	if err != nil || code != status {
		s.t.Fatalf("%s %s on %s: %d %s %v, want %d", method, path, s.url, code, raw, err, status)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// login returns a token of collection's record with email.
func (s *server) login(collection, email, password string) string {
	s.t.Helper()
	var res struct{ Token string }
	s.mustCall(http.MethodPost, "/api/collections/"+collection+"/auth-with-password", "", map[string]string{"identity": email, "password": password}, 200, &res)
	return res.Token
}

// TestRealtimeScaleOut runs three server processes on one PostgreSQL
// database, with the realtime bus on NATS and on PostgreSQL LISTEN/NOTIFY:
// a stream held by instance B, subscribed through instance C, receives the
// writes made on instance A, filtered by the subscriber's rules, and a
// rolled-back batch publishes nothing.
func TestRealtimeScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real server processes")
	}
	t.Parallel()
	t.Run("nats", func(t *testing.T) {
		t.Parallel()
		u := requireNATS(t)
		subject := "plinth_t_" + schema.RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789")
		testScaleOut(t, "--nats", u, "--nats-subject", subject)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testScaleOut(t) // no NATS: PostgreSQL LISTEN/NOTIFY
	})
}

func testScaleOut(t *testing.T, busArgs ...string) {
	b := testenv.New(t, "postgres")
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append(dbArgs(b), "--rate-limits", "off"), busArgs...)
	newServer := func() *server { return &server{t: t, bin: bin, args: args} }

	// A creates the schema before B and C start: an instance reads the
	// collection definitions when it starts.
	a := newServer()
	a.cli("superuser", "upsert", "ops@example.com", "ops-password-1")
	a.start()
	su := a.login("_superusers", "ops@example.com", "ops-password-1")
	owner := "owner = @request.auth.id"
	a.mustCall("POST", "/api/collections", su, map[string]any{
		"name": "notes", "listRule": owner, "viewRule": owner, "createRule": "", "updateRule": owner, "deleteRule": owner,
		"fields": []map[string]any{{"name": "text", "type": "text"}, {"name": "owner", "type": "relation", "collectionId": "users", "maxSelect": 1}},
	}, 200, nil)
	a.mustCall("POST", "/api/collections", su, map[string]any{
		"name": "news", "listRule": "", "viewRule": "", "createRule": "",
		"fields": []map[string]any{{"name": "title", "type": "text"}},
	}, 200, nil)
	ids := map[string]string{}
	for _, name := range []string{"ann", "bob"} {
		var rec struct{ ID string }
		a.mustCall("POST", "/api/collections/users/records", "", map[string]any{
			"email": name + "@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1",
		}, 200, &rec)
		ids[name] = rec.ID
	}
	annTok, bobTok := a.login("users", "ann@example.com", "user-password-1"), a.login("users", "bob@example.com", "user-password-1")

	bSrv, cSrv := newServer(), newServer()
	bSrv.start()
	cSrv.start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("A log:\n%s\nB log:\n%s\nC log:\n%s", a.log, bSrv.log, cSrv.log)
		}
	})

	// Streams on B, subscriptions sent to C; a guest on C subscribes through A.
	ann, bob, guest := bSrv.connectSSE(), bSrv.connectSSE(), cSrv.connectSSE()
	cSrv.subscribeVia(ann, annTok, "notes/*")
	cSrv.subscribeVia(bob, bobTok, "notes/*")
	a.subscribeVia(guest, "", "notes/*", "news/*")

	// A write on A reaches the owner on B, and only the owner.
	var note struct{ ID string }
	a.mustCall("POST", "/api/collections/notes/records", annTok, map[string]any{"text": "ann's first", "owner": ids["ann"]}, 200, &note)
	ann.expect("ann", "notes/*", `"action":"create"`, `"text":"ann's first"`, `"id":"`+note.ID+`"`)

	// A public write on A reaches the guest on C.
	a.mustCall("POST", "/api/collections/news/records", "", map[string]any{"title": "hello"}, 200, nil)
	guest.expect("guest", "news/*", `"action":"create"`, `"title":"hello"`)

	// A rolled-back batch on A publishes nothing.
	code, body, err := a.call("POST", "/api/batch", su, map[string]any{"requests": []map[string]any{
		{"method": "POST", "url": "/api/collections/notes/records", "body": map[string]any{"text": "ghost", "owner": ids["ann"]}},
		{"method": "POST", "url": "/api/collections/news/records", "body": map[string]any{"title": "ghost news"}},
		{"method": "POST", "url": "/api/collections/notes/records", "body": map[string]any{"text": "bad", "owner": "nope"}},
	}})
	if err != nil || code/100 == 2 {
		t.Fatalf("batch with an invalid relation: %d %s %v, want an error", code, body, err)
	}

	// Bob's note reaches bob on B, never ann or the guest; ann's update
	// and delete reach ann.
	a.mustCall("POST", "/api/collections/notes/records", bobTok, map[string]any{"text": "bob's", "owner": ids["bob"]}, 200, nil)
	bob.expect("bob", "notes/*", `"text":"bob's"`)
	a.mustCall("PATCH", "/api/collections/notes/records/"+note.ID, annTok, map[string]any{"text": "ann's edited"}, 200, nil)
	ann.expect("ann", "notes/*", `"action":"update"`, `"text":"ann's edited"`)
	a.mustCall("DELETE", "/api/collections/notes/records/"+note.ID, annTok, nil, 204, nil)
	ann.expect("ann", "notes/*", `"action":"delete"`, `"id":"`+note.ID+`"`)

	// A write on C reaches B too, so every instance publishes.
	cSrv.mustCall("POST", "/api/collections/notes/records", bobTok, map[string]any{"text": "bob's from C", "owner": ids["bob"]}, 200, nil)
	bob.expect("bob", "notes/*", `"text":"bob's from C"`)

	// Nothing else arrived: not the ghost writes, not the other user's notes.
	ann.expectNothing("ann", 700*time.Millisecond)
	bob.expectNothing("bob", 100*time.Millisecond)
	guest.expectNothing("guest", 100*time.Millisecond)

	// An unknown client id is 404 on every instance, after the others had
	// their say on the bus.
	for _, s := range []*server{a, bSrv, cSrv} {
		s.mustCall("POST", "/api/realtime", "", map[string]any{"clientId": "nope", "subscriptions": []string{"news/*"}}, 404, nil)
	}
	// Another user may not take over ann's client through any instance.
	a.mustCall("POST", "/api/realtime", bobTok, map[string]any{"clientId": ann.id, "subscriptions": []string{"notes/*"}}, 403, nil)

	// A collection created on B after everyone started is usable on A and
	// C at once: schema changes are signalled over the bus.
	bSrv.mustCall("POST", "/api/collections", su, map[string]any{
		"name": "late", "listRule": "", "viewRule": "", "createRule": "",
		"fields": []map[string]any{{"name": "title", "type": "text"}},
	}, 200, nil)
	for _, s := range []*server{a, cSrv} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body, err := s.call("POST", "/api/collections/late/records", "", map[string]any{"title": "x"})
			if err == nil && code == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("collection created on B still unknown elsewhere: %d %s %v", code, body, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestRealtimeIdleTimeoutFlag: --realtime-idle-timeout and
// PLINTH_REALTIME_IDLE_TIMEOUT set the SSE idle timeout; flags win.
func TestRealtimeIdleTimeoutFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		env     string
		want    time.Duration
		wantErr bool
	}{
		{nil, "", 5 * time.Minute, false},
		{[]string{"--realtime-idle-timeout", "4s"}, "", 4 * time.Second, false},
		{nil, "90s", 90 * time.Second, false},
		{[]string{"--realtime-idle-timeout=-1s"}, "90s", -time.Second, false},
		{nil, "4", 0, true},
		{[]string{"--realtime-idle-timeout", "soon"}, "", 0, true},
	} {
		getenv := func(k string) string {
			if k == "PLINTH_REALTIME_IDLE_TIMEOUT" {
				return tc.env
			}
			return ""
		}
		cfg, _, _, err := parseFlags("serve", tc.args, getenv, io.Discard)
		if (err != nil) != tc.wantErr || err == nil && cfg.RealtimeIdleTimeout != tc.want {
			t.Errorf("%v env=%q: %v, err %v; want %v (error: %v)", tc.args, tc.env, cfg.RealtimeIdleTimeout, err, tc.want, tc.wantErr)
		}
	}
}
