package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Bus carries messages between the brokers of several instances. Delivery
// is best effort and at most once, like PocketBase's own realtime (a client
// that misses an event is not told either); every instance, the sender
// included, may receive each message.
//
// Implementations must be safe for concurrent use.
type Bus interface {
	// Publish sends msg to every subscriber of the bus.
	Publish(ctx context.Context, msg []byte) error
	// Subscribe calls handle for every message, sequentially, until ctx is
	// done or the bus is closed. It reconnects by itself after transient
	// failures; an error return means it gave up.
	Subscribe(ctx context.Context, handle func(msg []byte)) error
	// Close releases the bus's connections.
	Close() error
}

// ReadySubscriber is implemented by buses that can tell when a subscription
// is live. The broker then uses SubscribeReady instead of Subscribe, and
// Broker.WaitReady waits for ready.
type ReadySubscriber interface {
	Bus
	// SubscribeReady is Subscribe, calling ready (possibly more than once,
	// after reconnects) when messages published from then on will be
	// received.
	SubscribeReady(ctx context.Context, handle func(msg []byte), ready func()) error
}

// ErrBusClosed is returned by a Bus that was closed.
var ErrBusClosed = errors.New("realtime: bus closed")

// ErrBusUnavailable is returned by SetSubscriptions and SendToClient when
// the client is not on this instance and the request could not be sent to
// the others (503).
var ErrBusUnavailable = errors.New("realtime: bus unavailable")

// envelopeVersion is the major version of the bus message format. A
// broker ignores messages of another version, so a rolling upgrade that
// changes the format degrades to "no cross-instance realtime" between old
// and new instances instead of misreading messages.
const envelopeVersion = 1

// Message types on the bus.
const (
	msgEvent      = "event"      // Event: fan out locally
	msgDropAuth   = "dropauth"   // Auth: make its clients guests
	msgSubscribe  = "subscribe"  // Req, Client, Auth, Topics: apply if the client is here
	msgSubscribed = "subscribed" // Req, To, Status, Message: answer to msgSubscribe
	msgSignal     = "signal"     // Name, Data: for Config.OnSignal
	msgSend       = "send"       // Req, Client, Topic, Data: SendToClient if the client is here
	msgSent       = "sent"       // Req, To, Status, Message: answer to msgSend
	msgHello      = "hello"      // an instance joined the bus, or is still there; answered with msgHere
	msgHere       = "here"       // answer to msgHello
)

// Presence: an instance that has seen no other instance on the bus for
// peerTTL keeps its record events to itself, so that one instance on
// PostgreSQL does not pay a NOTIFY (and the decoding of its own echo) per
// write. Every instance says hello when its subscription becomes live and
// every helloInterval; hearing a hello, the others answer, so a newcomer
// learns of them at once. Any message from another instance counts.
const (
	helloInterval = 10 * time.Second
	peerTTL       = 3 * helloInterval
	// helloGrace is how long a broker whose subscription just became live
	// assumes there are others, before their answers to its hello arrive
	// (within milliseconds on a working bus).
	helloGrace = 5 * time.Second
)

// peersAlive reports whether another instance was heard from within
// peerTTL, or this broker's bus subscription is younger than helloGrace
// (it may not have heard the others yet).
func (b *Broker) peersAlive() bool {
	return time.Now().UnixNano()-b.peerSeen.Load() < int64(peerTTL)
}

// busLive is called each time the bus subscription becomes live.
func (b *Broker) busLive() {
	// Until the others answer, assume they are there: for helloGrace, or
	// for as long as the last one heard from still counts.
	if grace := time.Now().Add(helloGrace - peerTTL).UnixNano(); b.peerSeen.Load() < grace {
		b.peerSeen.Store(grace)
	}
	b.markBusReady()
	_ = b.sendBus(envelope{Type: msgHello})
}

// Statuses of a msgSubscribed or msgSent reply.
const (
	statusOK            = "ok"
	statusForbidden     = "forbidden"     // msgSubscribed: ErrAuthMismatch
	statusInvalid       = "invalid"       // ErrInvalidSubscription, or bad send data
	statusNotSubscribed = "notsubscribed" // msgSent: ErrNotSubscribed
	statusGone          = "gone"          // msgSent: the client ended meanwhile (ErrUnknownClient)
)

// envelope is one bus message. Fields are omitted when empty, so each type
// carries only its own.
type envelope struct {
	V       int             `json:"v"`
	From    string          `json:"from"`
	Type    string          `json:"type"`
	Event   *Event          `json:"event,omitempty"`
	Auth    *Auth           `json:"auth,omitempty"`
	Req     string          `json:"req,omitempty"`
	To      string          `json:"to,omitempty"`
	Client  string          `json:"client,omitempty"`
	Topics  []string        `json:"topics,omitempty"`
	Topic   string          `json:"topic,omitempty"`
	Status  string          `json:"status,omitempty"`
	Message string          `json:"message,omitempty"`
	Name    string          `json:"name,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	// Seq numbers the sender's messages. Nothing reads it: it keeps two
	// otherwise identical messages distinct, because PostgreSQL delivers
	// only one of identical notifications sent in one transaction.
	Seq uint64 `json:"seq,omitempty"`
}

func (b *Broker) encode(env envelope) ([]byte, error) {
	env.V = envelopeVersion
	env.From = b.instanceID
	env.Seq = b.busSeq.Add(1)
	msg, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode bus message: %w", err)
	}
	return msg, nil
}

// sendBus queues a message for the bus sender without blocking.
func (b *Broker) sendBus(env envelope) error {
	msg, err := b.encode(env)
	if err != nil {
		return err
	}
	select {
	case b.busOut <- msg:
		return nil
	default:
		n := b.stats.busDropped.Add(1)
		if b.busLog.allow() {
			b.log.Warn("realtime: bus queue full, dropping message", "type", env.Type, "dropped_total", n)
		}
		return ErrQueueFull
	}
}

// busSender publishes queued messages in order, so a slow bus delays
// only the bus, never a write. Whatever queued up while a publish was in
// flight goes out as one batch when the bus supports it.
func (b *Broker) busSender() {
	batcher, _ := b.cfg.Bus.(BatchPublisher)
	batch := make([][]byte, 0, maxBusBatch)
	hello := time.NewTicker(helloInterval)
	defer hello.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-hello.C:
			_ = b.sendBus(envelope{Type: msgHello})
		case msg := <-b.busOut:
			batch = append(batch[:0], msg)
		drain:
			for batcher != nil && len(batch) < maxBusBatch {
				select {
				case msg := <-b.busOut:
					batch = append(batch, msg)
				default:
					break drain
				}
			}
			ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
			var err error
			if batcher != nil && len(batch) > 1 {
				err = batcher.PublishBatch(ctx, batch)
			} else {
				err = b.cfg.Bus.Publish(ctx, batch[0])
			}
			cancel()
			clear(batch)
			if err != nil && b.ctx.Err() == nil {
				n := b.stats.busErrors.Add(1)
				if b.busLog.allow() {
					b.log.Warn("realtime: bus publish failed", "err", err, "errors_total", n)
				}
			}
		}
	}
}

// maxBusBatch bounds one PublishBatch call.
const maxBusBatch = 256

// BatchPublisher is implemented by buses that send several messages
// cheaper together than one by one.
type BatchPublisher interface {
	// PublishBatch sends msgs in order, like calling Publish for each.
	PublishBatch(ctx context.Context, msgs [][]byte) error
}

// busReceiver keeps a subscription on the bus until the broker closes.
func (b *Broker) busReceiver() {
	backoff := 100 * time.Millisecond
	for {
		var err error
		if rs, ok := b.cfg.Bus.(ReadySubscriber); ok {
			err = rs.SubscribeReady(b.ctx, b.handleBus, b.busLive)
		} else {
			b.busLive()
			err = b.cfg.Bus.Subscribe(b.ctx, b.handleBus)
		}
		if b.ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrBusClosed) {
			b.log.Error("realtime: bus closed while the broker is running; cross-instance realtime stopped")
			return
		}
		b.log.Warn("realtime: bus subscription ended, retrying", "err", err, "in", backoff)
		select {
		case <-b.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// handleBus processes one message from the bus. It runs on the bus's
// receive goroutine, so everything here is quick or queued.
func (b *Broker) handleBus(msg []byte) {
	if bytes.HasPrefix(msg, b.ownPrefix) {
		// Our own message, back from the bus: applied locally when sent.
		// Recognised without decoding it, as every write's event echoes.
		return
	}
	var env envelope
	if err := json.Unmarshal(msg, &env); err != nil || env.V != envelopeVersion {
		b.stats.busInvalid.Add(1)
		if b.busLog.allow() {
			b.log.Warn("realtime: ignoring bus message", "err", err, "version", env.V)
		}
		return
	}
	if env.From == b.instanceID {
		// Our own messages were already applied locally when sent.
		return
	}
	b.peerSeen.Store(time.Now().UnixNano())
	switch env.Type {
	case msgHello:
		_ = b.sendBus(envelope{Type: msgHere})
	case msgEvent:
		if env.Event == nil || env.Event.validate() != nil {
			b.stats.busInvalid.Add(1)
			return
		}
		b.stats.eventsReceived.Add(1)
		_ = b.enqueue(env.Event) // a full queue is counted and logged there
	case msgDropAuth:
		if env.Auth != nil && env.Auth.RecordID != "" {
			b.dropAuthLocal(env.Auth.CollectionID, env.Auth.RecordID)
		}
	case msgSubscribe:
		b.handleRemoteSubscribe(env)
	case msgSend:
		b.handleRemoteSend(env)
	case msgSubscribed, msgSent:
		if env.To != b.instanceID {
			return
		}
		b.pendingMu.Lock()
		ch := b.pending[env.Req]
		b.pendingMu.Unlock()
		if ch != nil {
			select {
			case ch <- env:
			default: // a duplicate answer
			}
		}
	case msgSignal:
		if b.cfg.OnSignal != nil {
			b.cfg.OnSignal(env.Name, env.Data)
		}
	default:
		// A newer instance's message type within the same version: skip.
	}
}

// handleRemoteSubscribe applies another instance's subscribe request when
// the client is ours, and answers; instances without the client stay
// silent, so the requester's timeout means "unknown client".
func (b *Broker) handleRemoteSubscribe(env envelope) {
	if env.Client == "" || env.Req == "" {
		return
	}
	b.mu.RLock()
	_, ours := b.clients[env.Client]
	b.mu.RUnlock()
	if !ours {
		return
	}
	reply := envelope{Type: msgSubscribed, Req: env.Req, To: env.From, Status: statusOK}
	var auth Auth
	if env.Auth != nil {
		auth = *env.Auth
	}
	subs, err := ParseTopics(env.Topics, b.cfg.MaxSubscriptions, b.cfg.MaxTopicLength, b.cfg.MaxOptionSets)
	if err == nil {
		err = b.applyLocal(env.Client, auth, subs)
	}
	switch {
	case errors.Is(err, ErrUnknownClient):
		return // gone in the meantime
	case errors.Is(err, ErrAuthMismatch):
		reply.Status = statusForbidden
	case err != nil:
		reply.Status, reply.Message = statusInvalid, err.Error()
	}
	_ = b.sendBus(reply)
}

// remoteSubscribe asks the other instances to apply a subscription request
// for a client this instance does not hold, and waits for the holder.
func (b *Broker) remoteSubscribe(ctx context.Context, clientID string, auth Auth, topics []string) error {
	reply, err := b.request(ctx, "forward subscription",
		envelope{Type: msgSubscribe, Client: clientID, Auth: &auth, Topics: topics})
	if err != nil {
		return err
	}
	switch reply.Status {
	case statusOK:
		return nil
	case statusForbidden:
		return ErrAuthMismatch
	default:
		return &messageError{msg: reply.Message, err: ErrInvalidSubscription}
	}
}

// request sends env (a msgSubscribe or msgSend, given a fresh Req here) to
// the other instances and waits, at most Config.BusRequestTimeout, for the
// answer of the one holding env.Client. Instances without the client stay
// silent, so a timeout is ErrUnknownClient, as is having heard from no
// other instance lately (see peersAlive). what names the request in
// errors.
func (b *Broker) request(ctx context.Context, what string, env envelope) (envelope, error) {
	if b.peerSeen.Load() != 0 && !b.peersAlive() {
		// The bus works and no other instance is on it to hold the
		// client: answer now rather than after BusRequestTimeout. (Before
		// the bus was ever live, the request goes out, so that a bus that
		// is down is reported as such.)
		return envelope{}, ErrUnknownClient
	}
	env.Req = randomString(20)
	ch := make(chan envelope, 1)
	b.pendingMu.Lock()
	b.pending[env.Req] = ch
	b.pendingMu.Unlock()
	defer func() {
		b.pendingMu.Lock()
		delete(b.pending, env.Req)
		b.pendingMu.Unlock()
	}()

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, b.cfg.BusRequestTimeout)
	defer cancel()
	msg, err := b.encode(env)
	if err != nil {
		return envelope{}, err
	}
	// Sent directly rather than through the queue: the caller is waiting
	// anyway, and a bus error is better reported than timed out.
	if err := b.cfg.Bus.Publish(ctx, msg); err != nil {
		return envelope{}, fmt.Errorf("%w: %s: %w", ErrBusUnavailable, what, err)
	}
	select {
	case reply := <-ch:
		return reply, nil
	case <-ctx.Done():
		if err := parent.Err(); err != nil {
			return envelope{}, fmt.Errorf("realtime: %s: %w", what, err)
		}
		// No instance claimed the client in time.
		return envelope{}, ErrUnknownClient
	case <-b.ctx.Done():
		return envelope{}, ErrClosed
	}
}

// messageError carries another instance's error message while matching the
// sentinel it wraps there.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg }
func (e *messageError) Unwrap() error { return e.err }
