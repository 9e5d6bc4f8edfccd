package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
)

// needService skips (or, with PLINTH_REQUIRE_SERVICES=1, fails) a test
// whose service is unreachable.
func needService(t testing.TB, what, url string, err error) {
	t.Helper()
	if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s at %s is required (PLINTH_REQUIRE_SERVICES=1) but unreachable: %v", what, url, err)
	}
	t.Skipf("%s at %s unreachable, skipping: %v", what, url, err)
}

func natsTestURL() string {
	if u := os.Getenv("PLINTH_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

func pgTestURL() string {
	if u := os.Getenv("PLINTH_TEST_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func uniqueName(prefix string) string {
	return prefix + strings.ToLower(randomString(12))
}

// busPair returns two buses that reach each other, as two instances would
// have.
type busPair func(t *testing.T) (Bus, Bus)

func memoryPair(t *testing.T) (Bus, Bus) {
	m := NewMemoryBus()
	t.Cleanup(func() { m.Close() })
	return m, m
}

func natsPair(t *testing.T) (Bus, Bus) {
	prefix := uniqueName("plinth_test_")
	mk := func() *NATSBus {
		b, err := NewNATSBus(NATSConfig{URL: natsTestURL(), SubjectPrefix: prefix, Logger: testLogger(t),
			Options: []nats.Option{nats.Timeout(2 * time.Second)}})
		if err != nil {
			needService(t, "NATS", natsTestURL(), err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	return mk(), mk()
}

// pgSchema creates a unique schema, dropped when the test ends, and returns
// a connection string whose search_path is that schema.
func pgSchema(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgTestURL())
	if err != nil {
		needService(t, "PostgreSQL", pgTestURL(), err)
	}
	defer conn.Close(context.Background())
	schema := uniqueName("plinth_rt_")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgTestURL())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(pgTestURL(), "?") {
		sep = "&"
	}
	return pgTestURL() + sep + "search_path=" + schema
}

func pgPairWith(t *testing.T, mod func(*PostgresConfig)) (*PostgresBus, *PostgresBus) {
	url := pgSchema(t)
	channel := uniqueName("plinth_rt_")
	mk := func() *PostgresBus {
		cfg := PostgresConfig{ConnString: url, Channel: channel, Logger: testLogger(t)}
		if mod != nil {
			mod(&cfg)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := NewPostgresBus(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	return mk(), mk()
}

func pgPair(t *testing.T) (Bus, Bus) {
	a, b := pgPairWith(t, nil)
	return a, b
}

func TestBusMemory(t *testing.T)   { t.Parallel(); busSuite(t, memoryPair) }
func TestBusNATS(t *testing.T)     { t.Parallel(); busSuite(t, natsPair) }
func TestBusPostgres(t *testing.T) { t.Parallel(); busSuite(t, pgPair) }

// instances starts two brokers with their servers on a pair of buses and
// waits until both listen.
func instances(t *testing.T, pair busPair, opts ...envOption) (a, b *env) {
	t.Helper()
	busA, busB := pair(t)
	mk := func(bus Bus) *env {
		e := setup(t, append([]envOption{func(c *Config, _ *HandlerConfig) {
			c.Bus = bus
			c.BusRequestTimeout = 500 * time.Millisecond
		}}, opts...)...)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := e.b.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		return e
	}
	return mk(busA), mk(busB)
}

func busSuite(t *testing.T, pair busPair) {
	t.Run("events cross and stay local once", func(t *testing.T) {
		t.Parallel()
		a, b := instances(t, pair)
		ca, cb := a.connect(t), b.connect(t)
		a.subscribe(t, "", ca.id, "posts/*")
		b.subscribe(t, "", cb.id, "posts/*")

		a.publish(t, "posts", "r1", "create", `{"n":1}`)
		for _, c := range []*sseClient{ca, cb} {
			if f := c.next(); f.Data != `{"action":"create","record":{"n":1}}` || f.ID != c.id {
				t.Fatalf("got %+v", f)
			}
		}
		// Exactly once on the publishing instance: the next frame there is
		// the next event, not its own echo from the bus.
		a.publish(t, "posts", "r1", "update", `{"n":2}`)
		for _, c := range []*sseClient{ca, cb} {
			if f := c.next(); !strings.Contains(f.Data, `"n":2`) {
				t.Fatalf("got %+v, want n:2", f)
			}
		}
		b.publish(t, "posts", "r1", "update", `{"n":3}`)
		for _, c := range []*sseClient{ca, cb} {
			if f := c.next(); !strings.Contains(f.Data, `"n":3`) {
				t.Fatalf("got %+v, want n:3", f)
			}
		}
		if s := b.b.Stats(); s.EventsReceived != 2 || s.EventsPublished != 1 {
			t.Fatalf("stats of B: %+v", s)
		}
	})

	t.Run("events stay local while no other instance is heard", func(t *testing.T) {
		t.Parallel()
		a, b := instances(t, pair)
		if msg, err := a.b.encode(envelope{Type: msgHello}); err != nil || !bytes.HasPrefix(msg, a.b.ownPrefix) {
			t.Fatalf("own messages are not recognised by their prefix: %s %v", msg, err)
		}
		ca, cb := a.connect(t), b.connect(t)
		a.subscribe(t, "", ca.id, "posts/*")
		b.subscribe(t, "", cb.id, "posts/*")
		// Let the start-up hello and its answer settle, so nothing from B
		// reaches A in the next steps, then make A believe it has heard
		// nobody for longer than peerTTL.
		time.Sleep(300 * time.Millisecond)
		a.b.peerSeen.Store(time.Now().Add(-peerTTL - time.Second).UnixNano())
		a.publish(t, "posts", "r1", "create", `{"n":1}`)
		if f := ca.next(); !strings.Contains(f.Data, `"n":1`) {
			t.Fatalf("A's own subscriber got %+v", f)
		}
		if f, ok := cb.nextWithin(200 * time.Millisecond); ok {
			t.Fatalf("B got %+v from an instance that believes it is alone", f)
		}
		// Believing it is alone, A also answers at once that a client it
		// does not hold is unknown, instead of asking the bus.
		start := time.Now()
		if err := a.b.SetSubscriptions(context.Background(), cb.id, Auth{}, []string{"posts/*"}); !errors.Is(err, ErrUnknownClient) || time.Since(start) > 100*time.Millisecond {
			t.Fatalf("alone: SetSubscriptions for B's client: %v after %s", err, time.Since(start))
		}
		// B says hello (as every helloInterval); A hears it and publishes again.
		if err := b.b.sendBus(envelope{Type: msgHello}); err != nil {
			t.Fatal(err)
		}
		eventually(t, wait, "A hears B", a.b.peersAlive)
		a.publish(t, "posts", "r1", "update", `{"n":2}`)
		for _, c := range []*sseClient{ca, cb} {
			if f := c.next(); !strings.Contains(f.Data, `"n":2`) {
				t.Fatalf("got %+v, want n:2", f)
			}
		}
	})

	t.Run("large event", func(t *testing.T) {
		t.Parallel()
		a, b := instances(t, pair)
		cb := b.connect(t)
		b.subscribe(t, "", cb.id, "posts/*")
		big := `{"body":"` + strings.Repeat("é", 10000) + `"}` // 20 kB: over NOTIFY's limit
		a.publish(t, "posts", "r1", "create", big)
		if f := cb.next(); f.Data != `{"action":"create","record":`+big+`}` {
			t.Fatalf("got %d bytes", len(f.Data))
		}
	})

	t.Run("subscribe through another instance", func(t *testing.T) {
		t.Parallel()
		a, b := instances(t, pair)
		ca := a.connect(t)
		// The POST lands on B; the stream is on A.
		b.subscribe(t, "tok-u1", ca.id, "posts/*")
		b.publish(t, "posts", "r1", "create", `{}`)
		if f := ca.next(); f.Event != "posts/*" {
			t.Fatalf("got %+v", f)
		}
		// PocketBase's auth rule holds across instances.
		status, body := b.post(t, "tok-u2", map[string]any{"clientId": ca.id, "subscriptions": []string{"posts/*"}})
		if status != http.StatusForbidden || !strings.Contains(body, msgAuthMismatch) {
			t.Fatalf("auth change through B: %d %s", status, body)
		}
		// Replace semantics through B as well.
		b.subscribe(t, "tok-u1", ca.id, "comments/*")
		b.publish(t, "posts", "r2", "create", `{}`)
		b.publish(t, "comments", "c1", "create", `{}`)
		if f := ca.next(); f.Event != "comments/*" {
			t.Fatalf("got %+v", f)
		}
		// Topics are validated before anything is sent.
		if status, _ := b.post(t, "", map[string]any{"clientId": ca.id, "subscriptions": []string{"no pe"}}); status != 400 {
			t.Fatalf("bad topic through B: %d", status)
		}
	})

	t.Run("unknown client through the bus", func(t *testing.T) {
		t.Parallel()
		_, b := instances(t, pair)
		start := time.Now()
		status, body := b.post(t, "", map[string]any{"clientId": "nobody-holds-this-id", "subscriptions": []string{"posts/*"}})
		if status != http.StatusNotFound || !strings.Contains(body, msgInvalidClient) {
			t.Fatalf("got %d %s", status, body)
		}
		if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
			t.Fatalf("answered after %v; want about BusRequestTimeout (500ms)", d)
		}
	})

	t.Run("DropAuth crosses", func(t *testing.T) {
		t.Parallel()
		render := func(c *Config, _ *HandlerConfig) {
			c.Authorizer = &fakeAuthz{render: func(auth Auth, _ Subscription, _ Event) []byte {
				return []byte(`{"auth":"` + auth.RecordID + `"}`)
			}}
		}
		a, b := instances(t, pair, render)
		ca := a.connect(t)
		a.subscribe(t, "tok-u1", ca.id, "posts/*")
		b.publish(t, "posts", "r", "update", "")
		if f := ca.next(); f.Data != `{"auth":"u1"}` {
			t.Fatalf("before: %s", f.Data)
		}
		if err := b.b.DropAuth(context.Background(), "users", "u1"); err != nil {
			t.Fatal(err)
		}
		// B sends the DropAuth before the event, in order, on one bus.
		b.publish(t, "posts", "r", "update", "")
		if f := ca.next(); f.Data != `{"auth":""}` {
			t.Fatalf("after DropAuth on B: %s", f.Data)
		}
	})

	t.Run("signals", func(t *testing.T) {
		t.Parallel()
		got := make(chan string, 4)
		onSignal := func(c *Config, _ *HandlerConfig) {
			c.OnSignal = func(name string, data json.RawMessage) { got <- name + " " + string(data) }
		}
		a, b := instances(t, pair, onSignal)
		if err := b.b.Signal(context.Background(), "schema", json.RawMessage(`{"v":2}`)); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != `schema {"v":2}` {
				t.Fatalf("got %q", s)
			}
		case <-time.After(wait):
			t.Fatal("signal not received")
		}
		// Not delivered to the sender itself.
		if err := a.b.Signal(context.Background(), "second", nil); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != "second " {
				t.Fatalf("got %q", s)
			}
		case <-time.After(wait):
			t.Fatal("signal not received")
		}
		select {
		case s := <-got:
			t.Fatalf("echo %q", s)
		default:
		}
	})
}

// TestBrokerIgnoresForeignMessages: garbage and other versions on the bus
// are counted and skipped.
func TestBrokerIgnoresForeignMessages(t *testing.T) {
	t.Parallel()
	bus := NewMemoryBus()
	defer bus.Close()
	a, _ := instances(t, func(*testing.T) (Bus, Bus) { return bus, bus })
	c := a.connect(t)
	a.subscribe(t, "", c.id, "posts/*")
	ctx := context.Background()
	for _, m := range []string{
		`not json`,
		`{"v":2,"from":"x","type":"event","event":{"collectionName":"posts","recordId":"r","action":"create"}}`,
		`{"v":1,"from":"x","type":"event","event":{"collectionName":"posts"}}`,
	} {
		if err := bus.Publish(ctx, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if err := bus.Publish(ctx, []byte(`{"v":1,"from":"x","type":"event","event":{"collectionName":"posts","recordId":"r","action":"create","data":{"ok":1}}}`)); err != nil {
		t.Fatal(err)
	}
	if f := c.next(); !strings.Contains(f.Data, `"ok":1`) {
		t.Fatalf("got %+v", f)
	}
	if got := a.b.Stats().BusInvalid; got != 3 {
		t.Fatalf("BusInvalid %d, want 3", got)
	}
}

// TestPostgresOutbox: a message too large for NOTIFY, or not text, goes
// through the outbox table and arrives intact; Sweep removes old rows.
// listenReady subscribes to b and returns the received messages once the
// subscription is live.
func listenReady(ctx context.Context, t *testing.T, b *PostgresBus, buffer int) <-chan []byte {
	t.Helper()
	got := make(chan []byte, buffer)
	ready := make(chan struct{}, 1)
	go func() {
		_ = b.SubscribeReady(ctx, func(m []byte) { got <- m }, func() { ready <- struct{}{} })
	}()
	select {
	case <-ready:
	case <-time.After(wait):
		t.Fatal("not ready")
	}
	return got
}

// expectMessages reads len(msgs) messages from got and wants them in order.
func expectMessages(t *testing.T, got <-chan []byte, msgs [][]byte) {
	t.Helper()
	for i, want := range msgs {
		select {
		case m := <-got:
			if !bytes.Equal(m, want) {
				t.Fatalf("message %d: got %.40q, want %.40q", i, m, want)
			}
		case <-time.After(wait):
			t.Fatalf("message %d not received", i)
		}
	}
}

func TestPostgresOutbox(t *testing.T) {
	t.Parallel()
	a, b := pgPairWith(t, func(c *PostgresConfig) { c.OutboxRetention = time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := listenReady(ctx, t, b, 8)
	msgs := [][]byte{
		[]byte("small"),
		bytes.Repeat([]byte("x"), notifyMaxPayload), // one byte over with the prefix
		{0xff, 0x00, 0x01},                          // not text
		bytes.Repeat([]byte("y"), 1<<20),
	}
	for _, m := range msgs {
		if err := a.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	expectMessages(t, got, msgs)
	var rows int
	if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM "+a.table).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 3 {
		t.Fatalf("outbox rows %d, want 3", rows)
	}
	time.Sleep(5 * time.Millisecond) // let the rows age past the 1ms retention
	if err := a.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM "+a.table).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Fatalf("outbox rows after sweep %d", rows)
	}
}

// TestPostgresPublishBatch: a batch mixing notifications and outbox
// messages arrives complete and in order.
func TestPostgresPublishBatch(t *testing.T) {
	t.Parallel()
	a, b := pgPairWith(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := listenReady(ctx, t, b, 512)
	var msgs [][]byte
	for i := range 300 {
		switch i {
		case 7:
			msgs = append(msgs, bytes.Repeat([]byte("x"), notifyMaxPayload)) // outbox
		case 150:
			msgs = append(msgs, []byte{0xff, 0x00}) // outbox: not text
		default:
			msgs = append(msgs, fmt.Appendf(nil, `{"n":%d}`, i))
		}
	}
	if err := a.PublishBatch(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	expectMessages(t, got, msgs)
}

// TestPostgresReconnect: when the LISTEN session is killed, the bus
// reconnects, LISTENs again and delivers what is published afterwards.
func TestPostgresReconnect(t *testing.T) {
	t.Parallel()
	a, b := pgPairWith(t, func(c *PostgresConfig) { c.MaxBackoff = 200 * time.Millisecond })
	got := make(chan string, 8)
	var readies atomic.Int64
	ready := make(chan struct{}, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = b.SubscribeReady(ctx, func(m []byte) { got <- string(m) }, func() { readies.Add(1); ready <- struct{}{} })
	}()
	waitReady := func() {
		t.Helper()
		select {
		case <-ready:
		case <-time.After(wait):
			t.Fatal("not ready")
		}
	}
	waitReady()
	res, err := a.pool.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1", b.listenQ)
	if err != nil || res.RowsAffected() != 1 {
		t.Fatalf("terminate the listener: %v, %d rows", err, res.RowsAffected())
	}
	waitReady()
	if err := a.Publish(ctx, []byte("after")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "after" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(wait):
		t.Fatal("nothing received after the reconnect")
	}
}

func TestBusClosed(t *testing.T) {
	t.Parallel()
	m := NewMemoryBus()
	m.Close()
	if err := m.Publish(context.Background(), []byte("x")); !errors.Is(err, ErrBusClosed) {
		t.Fatalf("Publish: %v", err)
	}
	if err := m.Subscribe(context.Background(), func([]byte) {}); !errors.Is(err, ErrBusClosed) {
		t.Fatalf("Subscribe: %v", err)
	}
}

// TestBrokerSurvivesClosedBus: a broker whose bus is closed under it still
// serves local clients.
func TestBrokerSurvivesClosedBus(t *testing.T) {
	t.Parallel()
	bus := NewMemoryBus()
	e := setup(t, func(c *Config, _ *HandlerConfig) { c.Bus = bus })
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*")
	bus.Close()
	e.publish(t, "posts", "r", "create", `{}`)
	if f := c.next(); f.Event != "posts/*" {
		t.Fatalf("got %+v", f)
	}
	eventually(t, wait, "the bus error to be counted", func() bool { return e.b.Stats().BusPublishErrors == 1 })
}

// TestSubscribeBusDown: a POST for a client that is not here, while the
// bus cannot send, is 503 rather than a misleading 404.
func TestSubscribeBusDown(t *testing.T) {
	t.Parallel()
	bus := NewMemoryBus()
	e := setup(t, func(c *Config, _ *HandlerConfig) { c.Bus = bus })
	bus.Close()
	status, body := e.post(t, "", map[string]any{"clientId": "elsewhere", "subscriptions": []string{"posts/*"}})
	if status != http.StatusServiceUnavailable {
		t.Fatalf("got %d %s", status, body)
	}
}

// TestPostgresHealthCheck: quiet periods trigger pings on the LISTEN
// connection, which must leave it working.
func TestPostgresHealthCheck(t *testing.T) {
	t.Parallel()
	a, b := pgPairWith(t, func(c *PostgresConfig) { c.HealthInterval = 20 * time.Millisecond })
	got := make(chan string, 8)
	var readies atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{}, 8)
	go func() {
		_ = b.SubscribeReady(ctx, func(m []byte) { got <- string(m) }, func() { readies.Add(1); ready <- struct{}{} })
	}()
	<-ready
	for i := range 3 {
		time.Sleep(70 * time.Millisecond) // quiet for a few health intervals
		want := fmt.Sprint("m", i)
		if err := a.Publish(ctx, []byte(want)); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m != want {
				t.Fatalf("got %q, want %q", m, want)
			}
		case <-time.After(wait):
			t.Fatalf("%s not received", want)
		}
	}
	if n := readies.Load(); n != 1 {
		t.Fatalf("the LISTEN session was replaced %d times; health pings should keep it", n-1)
	}
}

// TestWants: events are wanted by a local subscription to the collection
// (by name or id) or by another instance on the bus, and by nothing else.
func TestWants(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if e.b.Wants("pbc_posts", "posts") {
		t.Fatal("wanted with no subscriber and no bus")
	}
	c := e.connect(t)
	e.subscribe(t, "", c.id, "posts/*")
	if !e.b.Wants("pbc_posts", "posts") || e.b.Wants("pbc_other", "other") {
		t.Fatal("a subscription by name is not what is wanted")
	}
	e.subscribe(t, "", c.id, "pbc_other/r1")
	if !e.b.Wants("pbc_other", "other") {
		t.Fatal("a subscription by id is not wanted")
	}

	a, _ := instances(t, memoryPair)
	if !a.b.Wants("pbc_x", "x") {
		t.Fatal("not wanted although another instance is on the bus")
	}
}
