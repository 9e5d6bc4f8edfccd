package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by the Broker. The HTTP handlers map them to statuses:
// ErrUnknownClient 404, ErrAuthMismatch 403, ErrInvalidSubscription 400,
// ErrClosed 503. ErrNotSubscribed comes only from SendToClient.
var (
	ErrUnknownClient = errors.New("realtime: unknown client id")
	ErrNotSubscribed = errors.New("realtime: client not subscribed to the topic")
	ErrAuthMismatch  = errors.New("realtime: the current and the previous request authorization don't match")
	ErrClosed        = errors.New("realtime: broker closed")
	ErrQueueFull     = errors.New("realtime: event queue full, event dropped")
)

// Auth is who a client is authenticated as. The zero value is a guest. It
// is plain data so it can travel over the Bus to other instances.
type Auth struct {
	// CollectionID is the auth collection's id.
	CollectionID string `json:"collectionId,omitempty"`
	// RecordID is the auth record's id.
	RecordID string `json:"recordId,omitempty"`
	// Stamp is opaque to this package and handed back to the Authorizer;
	// the application can put there whatever it needs to evaluate rules
	// (for example a token key, or a version of the auth record).
	Stamp string `json:"stamp,omitempty"`
}

// IsGuest reports whether a is unauthenticated.
func (a Auth) IsGuest() bool { return a.CollectionID == "" && a.RecordID == "" }

// sameIdentity compares the record a client is authenticated as; the
// Stamp may change (a refreshed token) without changing who it is.
func (a Auth) sameIdentity(b Auth) bool {
	return a.CollectionID == b.CollectionID && a.RecordID == b.RecordID
}

// Event is one record change to fan out.
type Event struct {
	CollectionID   string `json:"collectionId,omitempty"`
	CollectionName string `json:"collectionName,omitempty"`
	RecordID       string `json:"recordId"`
	// Action is "create", "update" or "delete".
	Action string `json:"action"`
	// Data is opaque to the broker and passed to the Authorizer; it
	// travels over the bus, so keep it to what the Authorizer needs (for
	// example the record's JSON).
	Data json.RawMessage `json:"data,omitempty"`
}

func (ev *Event) validate() error {
	if ev.RecordID == "" || ev.CollectionID == "" && ev.CollectionName == "" || ev.Action == "" {
		return errors.New("realtime: event needs a record id, a collection id or name, and an action")
	}
	return nil
}

// Authorizer decides what a subscriber may see. The broker calls it once
// per group of subscribers that would get the same answer: same Auth,
// same kind of subscription (wildcard "collection/*" → list rule, or one
// record → view rule) and same options (query and headers), and sends the
// returned bytes to all of them. It may run a SQL query; it is called
// concurrently from several goroutines, with a context that ends at
// Config.AuthorizeTimeout or when the broker closes.
type Authorizer interface {
	// Message returns the event data to send (the JSON
	// {"action":..,"record":{..}}) to subscribers with this auth and
	// subscription, or ok=false when they may not see the record. sub is
	// one representative of the group: its Topic and Collection (name or
	// id) may differ from other members'; use ev for the collection. sub's
	// maps are shared with the broker and must not be modified.
	Message(ctx context.Context, auth Auth, sub Subscription, ev Event) (data []byte, ok bool, err error)
}

// AuthorizerFunc adapts a function to the Authorizer interface.
type AuthorizerFunc func(ctx context.Context, auth Auth, sub Subscription, ev Event) ([]byte, bool, error)

// Message calls f.
func (f AuthorizerFunc) Message(ctx context.Context, auth Auth, sub Subscription, ev Event) ([]byte, bool, error) {
	return f(ctx, auth, sub, ev)
}

// Config configures a Broker. Zero values mean the documented defaults;
// a negative duration disables that limit.
type Config struct {
	// Authorizer filters and renders events per subscriber group. Required.
	Authorizer Authorizer
	// Bus connects the brokers of several instances. Nil means a single
	// instance: events, DropAuth and subscriptions stay local. The broker
	// does not close the bus; close it after Broker.Close.
	Bus Bus
	// Logger receives the broker's logs. Default slog.Default().
	Logger *slog.Logger

	// SendBuffer is how many frames may wait for one client before it is
	// disconnected as a slow consumer. Default 256.
	SendBuffer int
	// QueueSize bounds the events waiting for fan-out; Publish drops (and
	// counts) events beyond it rather than block. Default 8192.
	QueueSize int
	// Workers is the number of fan-out goroutines. Events of one record
	// always go to the same worker, so they keep their order. Default 4.
	Workers int
	// MaxConcurrentAuthorize bounds the Authorizer calls in flight across
	// all workers. Default 16.
	MaxConcurrentAuthorize int
	// AuthorizeTimeout bounds one Authorizer call. Default 10s.
	AuthorizeTimeout time.Duration

	// IdleTimeout closes an SSE stream on which nothing was sent for this
	// long, like PocketBase (the SDK reconnects and resubscribes).
	// WebSocket clients are kept alive by pings instead. Default 5m.
	IdleTimeout time.Duration
	// MaxLifetime closes any stream this long after it opened (minus up to
	// 10% random jitter), so clients rebalance across instances and
	// re-authenticate. Default 1h.
	MaxLifetime time.Duration
	// SweepInterval is how often one goroutine checks every client for
	// the two timeouts above. Default: a tenth of the shorter one, between
	// 10ms and 10s. The same goroutine also wakes at least every second to
	// notice SSE clients that went away (peerCheckInterval), and at a
	// quarter of the WebSocket HandlerConfig.PingInterval to send pings.
	SweepInterval time.Duration

	// MaxSubscriptions per client. Default 1000 (PocketBase's limit).
	MaxSubscriptions int
	// MaxTopicLength in bytes. Default 2500 (PocketBase's limit).
	MaxTopicLength int
	// MaxOptionSets bounds the distinct options among one client's
	// subscriptions. Default DefaultMaxOptionSets.
	MaxOptionSets int

	// BusRequestTimeout is how long SetSubscriptions and SendToClient wait
	// for the instance holding a remote client to answer before reporting
	// ErrUnknownClient.
	// Default 2s.
	BusRequestTimeout time.Duration
	// BusQueueSize bounds the messages waiting to be published on the bus.
	// Default 8192.
	BusQueueSize int
	// OnSignal, when set, is called for each Signal sent by another
	// instance (not for this instance's own). It runs on the bus receive
	// goroutine: it must return quickly.
	OnSignal func(name string, data json.RawMessage)
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = 256
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 8192
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.MaxConcurrentAuthorize <= 0 {
		c.MaxConcurrentAuthorize = 16
	}
	if c.AuthorizeTimeout == 0 {
		c.AuthorizeTimeout = 10 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.MaxLifetime == 0 {
		c.MaxLifetime = time.Hour
	}
	if c.SweepInterval <= 0 {
		shortest := time.Duration(0)
		for _, d := range []time.Duration{c.IdleTimeout, c.MaxLifetime} {
			if d > 0 && (shortest == 0 || d < shortest) {
				shortest = d
			}
		}
		c.SweepInterval = 10 * time.Second
		if shortest > 0 {
			c.SweepInterval = min(max(shortest/10, 10*time.Millisecond), 10*time.Second)
		}
	}
	if c.MaxSubscriptions <= 0 {
		c.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if c.MaxTopicLength <= 0 {
		c.MaxTopicLength = DefaultMaxTopicLength
	}
	if c.BusRequestTimeout <= 0 {
		c.BusRequestTimeout = 2 * time.Second
	}
	if c.BusQueueSize <= 0 {
		c.BusQueueSize = 8192
	}
}

// Broker is one instance's registry of realtime clients and their
// subscriptions, and the fan-out of events to them. All methods are safe
// for concurrent use.
type Broker struct {
	cfg        Config
	log        *slog.Logger
	instanceID string
	seed       maphash.Seed

	mu           sync.RWMutex
	clients      map[string]*client
	byCollection map[string]map[*client]struct{} // collection name or id → subscribed clients
	closed       bool

	queues  []chan *Event // one per worker
	authSem chan struct{}
	busOut  chan []byte

	pendingMu sync.Mutex
	pending   map[string]chan envelope // remote subscribe requests awaiting a reply

	busReady     chan struct{}
	busReadyOnce sync.Once

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the broker's own goroutines, and pings

	// sinks counts the attached streams not yet ended (see attach), for
	// Close to wait on: nothing else waits for hijacked connections.
	sinks     sync.WaitGroup
	closeDone chan struct{} // closed when Close has finished

	// pingTick is the sweep period WebSocket pings need (nanoseconds, 0 =
	// none); resweep wakes the sweeper to apply a new one.
	pingTick atomic.Int64
	resweep  chan struct{}

	stats   counters
	dropLog logLimiter    // queue-full drops
	busLog  logLimiter    // bus errors and bad messages
	busSeq  atomic.Uint64 // Seq of the last bus message sent
	// ownPrefix starts every bus message this broker encodes, so its own
	// echoes are skipped without decoding them.
	ownPrefix []byte
	// peerSeen is when another instance was last heard from on the bus
	// (unix nanoseconds); see peersAlive.
	peerSeen atomic.Int64
}

// NewBroker starts a broker: its fan-out workers, its timeout sweeper and,
// with a Bus, its bus sender and receiver. Stop it with Close.
func NewBroker(cfg Config) (*Broker, error) {
	if cfg.Authorizer == nil {
		return nil, errors.New("realtime: Config.Authorizer is required")
	}
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{
		cfg:          cfg,
		log:          cfg.Logger.With("component", "realtime"),
		instanceID:   randomString(16),
		seed:         maphash.MakeSeed(),
		clients:      make(map[string]*client),
		byCollection: make(map[string]map[*client]struct{}),
		authSem:      make(chan struct{}, cfg.MaxConcurrentAuthorize),
		pending:      make(map[string]chan envelope),
		busReady:     make(chan struct{}),
		ctx:          ctx,
		cancel:       cancel,
		closeDone:    make(chan struct{}),
		resweep:      make(chan struct{}, 1),
	}
	b.ownPrefix = []byte(`{"v":` + strconv.Itoa(envelopeVersion) + `,"from":"` + b.instanceID + `"`)
	perWorker := (cfg.QueueSize + cfg.Workers - 1) / cfg.Workers
	b.queues = make([]chan *Event, cfg.Workers)
	for i := range b.queues {
		q := make(chan *Event, perWorker)
		b.queues[i] = q
		b.wg.Go(func() { b.worker(q) })
	}
	b.wg.Go(b.sweeper)
	if cfg.Bus != nil {
		b.busOut = make(chan []byte, cfg.BusQueueSize)
		b.wg.Go(b.busSender)
		b.wg.Go(b.busReceiver)
	} else {
		b.markBusReady()
	}
	return b, nil
}

// InstanceID is this broker's random id on the bus.
func (b *Broker) InstanceID() string { return b.instanceID }

// WaitReady waits until the bus subscription is live, so events published
// by other instances from now on reach this one. Without a Bus, or with a
// Bus that cannot tell (see ReadySubscriber), it returns at once.
func (b *Broker) WaitReady(ctx context.Context) error {
	select {
	case <-b.busReady:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("realtime: waiting for the bus: %w", ctx.Err())
	}
}

func (b *Broker) markBusReady() { b.busReadyOnce.Do(func() { close(b.busReady) }) }

// Wants reports whether an event of the collection (by id and name) would
// go anywhere: a client of this instance subscribed to it, or another
// instance on the bus. Publishers use it to skip encoding events nobody
// can receive; a subscription made just after the check misses that
// event, as it would had it been made just after the write.
func (b *Broker) Wants(collectionID, collectionName string) bool {
	if b.cfg.Bus != nil && b.peersAlive() {
		return true
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.byCollection[collectionID]) > 0 || len(b.byCollection[collectionName]) > 0
}

// Publish queues ev for fan-out to this instance's clients and for the
// bus (only while another instance has been heard from, see peersAlive),
// and returns without waiting for either. When a queue is full the
// event is dropped, logged and counted (Stats.EventsDropped) and
// ErrQueueFull is returned; the error is informational, the record change
// itself has happened. ctx is not used for waiting.
func (b *Broker) Publish(ctx context.Context, ev Event) error {
	if err := ev.validate(); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	b.stats.eventsPublished.Add(1)
	e := ev
	err := b.enqueue(&e)
	if b.cfg.Bus != nil && b.peersAlive() {
		if berr := b.sendBus(envelope{Type: msgEvent, Event: &e}); berr != nil && err == nil {
			err = berr
		}
	}
	return err
}

// enqueue hands ev to the worker that owns its record, without blocking.
func (b *Broker) enqueue(ev *Event) error {
	h := maphash.String(b.seed, ev.RecordID)
	q := b.queues[h%uint64(len(b.queues))]
	select {
	case q <- ev:
		return nil
	default:
		n := b.stats.eventsDropped.Add(1)
		if b.dropLog.allow() {
			b.log.Warn("realtime: event queue full, dropping event",
				"collection", ev.CollectionName, "record", ev.RecordID, "action", ev.Action, "dropped_total", n)
		}
		return ErrQueueFull
	}
}

// SetSubscriptions replaces the subscriptions of the client clientID with
// topics, on behalf of a request authenticated as auth. It is what
// POST /api/realtime does.
//
// When the client is connected to another instance, the request goes over
// the bus and waits (Config.BusRequestTimeout) for that instance's answer.
// Errors: ErrInvalidSubscription (wrapped, 400), ErrUnknownClient (404),
// ErrAuthMismatch when the client is already authenticated as someone else
// (403), ErrClosed and ErrBusUnavailable (503).
func (b *Broker) SetSubscriptions(ctx context.Context, clientID string, auth Auth, topics []string) error {
	subs, err := ParseTopics(topics, b.cfg.MaxSubscriptions, b.cfg.MaxTopicLength, b.cfg.MaxOptionSets)
	if err != nil {
		return err
	}
	err = b.applyLocal(clientID, auth, subs)
	if !errors.Is(err, ErrUnknownClient) || b.cfg.Bus == nil {
		return err
	}
	return b.remoteSubscribe(ctx, clientID, auth, topics)
}

// applyLocal sets auth and subscriptions of a client held by this
// instance, with PocketBase's rule: a client already authenticated may
// not switch to another identity (nor back to guest).
func (b *Broker) applyLocal(clientID string, auth Auth, subs []Subscription) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	c := b.clients[clientID]
	if c == nil || c.closed() {
		return ErrUnknownClient
	}
	if !c.auth.IsGuest() && !c.auth.sameIdentity(auth) {
		return ErrAuthMismatch
	}
	c.auth = auth
	b.replaceSubsLocked(c, subs)
	return nil
}

// setAuth changes a local client's auth under the same rule as applyLocal.
func (b *Broker) setAuth(c *client, auth Auth) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !c.auth.IsGuest() && !c.auth.sameIdentity(auth) {
		return ErrAuthMismatch
	}
	c.auth = auth
	return nil
}

// replaceSubs sets a local client's subscriptions, keeping its auth.
func (b *Broker) replaceSubs(c *client, subs []Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.clients[c.id] == c {
		b.replaceSubsLocked(c, subs)
	}
}

// removeSubs drops the given topics from a local client's subscriptions;
// no topics means all of them.
func (b *Broker) removeSubs(c *client, topics []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.clients[c.id] != c {
		return
	}
	if len(topics) == 0 {
		b.replaceSubsLocked(c, nil)
		return
	}
	drop := make(map[string]struct{}, len(topics))
	for _, t := range topics {
		drop[t] = struct{}{}
	}
	keep := make([]Subscription, 0, len(c.subs))
	for _, s := range c.subs {
		if _, ok := drop[s.Topic]; !ok {
			keep = append(keep, s)
		}
	}
	b.replaceSubsLocked(c, keep)
}

func (b *Broker) replaceSubsLocked(c *client, subs []Subscription) {
	b.unindexLocked(c)
	b.stats.subscriptions.Add(int64(len(subs) - len(c.subs)))
	c.subs = subs
	for _, s := range subs {
		if s.Custom {
			continue // record events never look for custom topics
		}
		m := b.byCollection[s.Collection]
		if m == nil {
			m = make(map[*client]struct{})
			b.byCollection[s.Collection] = m
		}
		m[c] = struct{}{}
	}
}

func (b *Broker) unindexLocked(c *client) {
	for _, s := range c.subs {
		if s.Custom {
			continue
		}
		if m := b.byCollection[s.Collection]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(b.byCollection, s.Collection)
			}
		}
	}
}

// DropAuth turns every client authenticated as the given record into a
// guest, here and (through the bus) on every other instance: call it when
// the record's password changes or it is deleted. Subscriptions are kept
// and from then on filtered as for a guest, as PocketBase does. The bus
// message is queued without waiting; ErrQueueFull reports that it was
// dropped.
func (b *Broker) DropAuth(ctx context.Context, collectionID, recordID string) error {
	if recordID == "" {
		return errors.New("realtime: DropAuth needs a record id")
	}
	b.dropAuthLocal(collectionID, recordID)
	if b.cfg.Bus == nil {
		return nil
	}
	return b.sendBus(envelope{Type: msgDropAuth, Auth: &Auth{CollectionID: collectionID, RecordID: recordID}})
}

func (b *Broker) dropAuthLocal(collectionID, recordID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.clients {
		if c.auth.RecordID == recordID && c.auth.CollectionID == collectionID {
			c.auth = Auth{}
		}
	}
}

// Signal sends an application-defined message to every other instance on
// the bus (for example "schema changed"), where Config.OnSignal receives
// it. It is queued without waiting. Without a Bus it does nothing.
func (b *Broker) Signal(ctx context.Context, name string, data json.RawMessage) error {
	if b.cfg.Bus == nil {
		return nil
	}
	return b.sendBus(envelope{Type: msgSignal, Name: name, Data: data})
}

// register adds a new client and returns it.
func (b *Broker) register(kind clientKind, auth Auth) (*client, error) {
	c := newClient(kind, auth, b.cfg.SendBuffer, time.Now(), b.cfg.MaxLifetime)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	b.clients[c.id] = c
	b.mu.Unlock()
	b.stats.clients.Add(1)
	if kind == kindWS {
		b.stats.wsClients.Add(1)
	} else {
		b.stats.sseClients.Add(1)
	}
	return c, nil
}

// remove ends a client (if it is not already) and forgets it. Its flush
// goroutine ends the stream (closing a hijacked connection, or sending a
// WebSocket close frame); a handler still holding the stream notices
// through c.done.
func (b *Broker) remove(c *client, r closeReason) {
	if c.close(r, func() { b.countClose(c, r) }) {
		b.kick(c)
	}
	b.mu.Lock()
	present := b.clients[c.id] == c
	if present {
		delete(b.clients, c.id)
		b.unindexLocked(c)
		b.stats.subscriptions.Add(-int64(len(c.subs)))
		c.subs = nil
	}
	b.mu.Unlock()
	if present {
		b.stats.clients.Add(-1)
		if c.kind == kindWS {
			b.stats.wsClients.Add(-1)
		} else {
			b.stats.sseClients.Add(-1)
		}
	}
}

// countClose logs and counts why a client ended.
func (b *Broker) countClose(c *client, r closeReason) {
	switch r {
	case reasonSlow:
		b.stats.droppedSlow.Add(1)
		b.log.Warn("realtime: disconnecting client", "client", c.id, "reason", r.String())
	case reasonIdle:
		b.stats.closedIdle.Add(1)
		b.log.Debug("realtime: closing client", "client", c.id, "reason", r.String())
	case reasonLifetime:
		b.stats.closedLifetime.Add(1)
		b.log.Debug("realtime: closing client", "client", c.id, "reason", r.String())
	default:
		b.log.Debug("realtime: client closed", "client", c.id, "reason", r.String())
	}
}

func (b *Broker) isClosed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}

// Close ends every client stream (SSE responses end, WebSocket
// connections get a 1001 "going away" close frame), stops the broker's
// goroutines and unsubscribes from the bus, and returns once every stream
// has been ended (each within HandlerConfig.WriteTimeout, or the
// WebSocket close handshake's few seconds). It does not close the Bus.
// Later calls wait for the first to finish. Call it when the HTTP server
// shuts down (for example from http.Server.RegisterOnShutdown): SSE
// streams live on hijacked connections that http.Server.Shutdown does not
// track, and Shutdown does not interrupt the handlers of the others.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.closeDone
		return nil
	}
	b.closed = true
	all := make([]*client, 0, len(b.clients))
	for _, c := range b.clients {
		all = append(all, c)
	}
	b.mu.Unlock()
	for _, c := range all {
		b.remove(c, reasonShutdown)
	}
	b.cancel()
	b.wg.Wait()
	b.sinks.Wait()
	close(b.closeDone)
	return nil
}

// peerCheckInterval is how often the sweeper looks for SSE peers that
// closed their connection.
const peerCheckInterval = time.Second

// sweeper closes idle and expired clients, notices SSE peers that went
// away and starts WebSocket pings: one goroutine for all clients instead of
// a timer or goroutine each.
func (b *Broker) sweeper() {
	t := time.NewTimer(b.sweepEvery())
	defer t.Stop()
	var sw sweep
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.resweep:
		case now := <-t.C:
			sw.run(b, now)
		}
		t.Reset(b.sweepEvery())
	}
}

// sweepEvery is the sweeper's period: the timeouts' SweepInterval, but at
// least every peerCheckInterval and as often as pings need.
func (b *Broker) sweepEvery() time.Duration {
	d := min(b.cfg.SweepInterval, peerCheckInterval)
	if p := time.Duration(b.pingTick.Load()); p > 0 {
		d = min(d, p)
	}
	return max(d, 10*time.Millisecond)
}

// needSweep asks the sweeper to run at least every d (for pings).
func (b *Broker) needSweep(d time.Duration) {
	for {
		cur := b.pingTick.Load()
		if cur != 0 && cur <= int64(d) {
			return
		}
		if b.pingTick.CompareAndSwap(cur, int64(d)) {
			break
		}
	}
	select {
	case b.resweep <- struct{}{}:
	default:
	}
}

// sweep is the sweeper's state, its lists reused from one run to the next.
type sweep struct {
	expired   []expiry
	pingers   []pinger
	watched   []watchedClient
	lastPeers time.Time
}

type expiry struct {
	c *client
	r closeReason
}

type watchedClient struct {
	c *client
	w peerWatcher
}

// run makes one pass over the clients. It only collects under the
// broker's read lock; the removals, peer checks (a system call each) and
// pings happen after it is released.
func (sw *sweep) run(b *Broker, now time.Time) {
	n := now.UnixNano()
	idle := int64(b.cfg.IdleTimeout)
	checkPeers := now.Sub(sw.lastPeers) >= peerCheckInterval
	if checkPeers {
		sw.lastPeers = now
	}
	b.mu.RLock()
	for _, c := range b.clients {
		switch {
		case c.deadline != 0 && n >= c.deadline:
			sw.expired = append(sw.expired, expiry{c, reasonLifetime})
			continue
		case idle > 0 && c.kind == kindSSE && n-c.lastWrite.Load() >= idle:
			sw.expired = append(sw.expired, expiry{c, reasonIdle})
			continue
		}
		out := c.out.Load()
		if out == nil {
			continue
		}
		switch s := (*out).(type) {
		case pinger:
			sw.pingers = append(sw.pingers, s)
		case peerWatcher:
			// A client written to since the last check is skipped: its
			// next write or the one after fails once the peer has gone
			// (the first draws a reset), and at the pace of a busy stream
			// those ten thousand system calls a second would slow the
			// fan-out they compete with.
			if checkPeers && n-c.lastWrite.Load() >= int64(peerCheckInterval) {
				sw.watched = append(sw.watched, watchedClient{c, s})
			}
		}
	}
	b.mu.RUnlock()
	for _, e := range sw.expired {
		b.remove(e.c, e.r)
	}
	for _, p := range sw.pingers {
		p.maybePing(n)
	}
	for _, w := range sw.watched {
		if w.w.peerGone() {
			b.remove(w.c, reasonGone)
		}
	}
	// Keep the arrays, not the clients.
	clear(sw.expired)
	clear(sw.pingers)
	clear(sw.watched)
	sw.expired, sw.pingers, sw.watched = sw.expired[:0], sw.pingers[:0], sw.watched[:0]
}

// Stats is a snapshot of the broker's gauges and counters, for metrics.
// Counters only grow for the broker's lifetime.
type Stats struct {
	Clients       int64 // gauge: connected clients (SSE + WebSocket)
	SSEClients    int64 // gauge
	WSClients     int64 // gauge
	Subscriptions int64 // gauge: subscriptions of connected clients

	EventsPublished       uint64 // events accepted by Publish on this instance
	EventsReceived        uint64 // events received from other instances
	EventsDropped         uint64 // events dropped because the fan-out queue was full
	FramesSent            uint64 // frames written to clients (connect frames excluded)
	ClientsDroppedSlow    uint64 // clients disconnected because their send buffer was full
	ClientsClosedIdle     uint64 // SSE clients closed by the idle timeout
	ClientsClosedLifetime uint64 // clients closed at their maximum lifetime
	AuthorizerCalls       uint64
	AuthorizerErrors      uint64 // errors and panics
	BusPublishErrors      uint64 // failed Bus.Publish calls
	BusDropped            uint64 // bus messages dropped because the bus queue was full
	BusInvalid            uint64 // undecodable or wrong-version bus messages
}

type counters struct {
	clients, sseClients, wsClients, subscriptions atomic.Int64

	eventsPublished, eventsReceived, eventsDropped, framesSent atomic.Uint64
	droppedSlow, closedIdle, closedLifetime                    atomic.Uint64
	authCalls, authErrors                                      atomic.Uint64
	busErrors, busDropped, busInvalid                          atomic.Uint64
}

// Stats returns the current figures.
func (b *Broker) Stats() Stats {
	s := &b.stats
	return Stats{
		Clients:               s.clients.Load(),
		SSEClients:            s.sseClients.Load(),
		WSClients:             s.wsClients.Load(),
		Subscriptions:         s.subscriptions.Load(),
		EventsPublished:       s.eventsPublished.Load(),
		EventsReceived:        s.eventsReceived.Load(),
		EventsDropped:         s.eventsDropped.Load(),
		FramesSent:            s.framesSent.Load(),
		ClientsDroppedSlow:    s.droppedSlow.Load(),
		ClientsClosedIdle:     s.closedIdle.Load(),
		ClientsClosedLifetime: s.closedLifetime.Load(),
		AuthorizerCalls:       s.authCalls.Load(),
		AuthorizerErrors:      s.authErrors.Load(),
		BusPublishErrors:      s.busErrors.Load(),
		BusDropped:            s.busDropped.Load(),
		BusInvalid:            s.busInvalid.Load(),
	}
}

// logLimiter lets one log line through per second, so a flood of drops
// does not become a flood of logs (the counters keep the exact figure).
type logLimiter struct{ last atomic.Int64 }

func (l *logLimiter) allow() bool {
	now := time.Now().UnixNano()
	last := l.last.Load()
	return now-last >= int64(time.Second) && l.last.CompareAndSwap(last, now)
}
