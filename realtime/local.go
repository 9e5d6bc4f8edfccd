package realtime

import (
	"encoding/json"
	"errors"
	"sync"
)

// LocalEvent is one event delivered to an in-process subscriber: the topic
// it matched and the data the Authorizer rendered for the subscriber
// ({"action":..,"record":{..}} for record events).
type LocalEvent struct {
	Topic string
	Data  json.RawMessage
}

// Local is an in-process subscriber, for transports that are not SSE or
// the realtime WebSocket (GraphQL subscriptions): it is a client like the
// others, so the same Authorizer (rules) decides what it receives, and
// the same send buffer, lifetime and shutdown apply to it.
type Local struct {
	b  *Broker
	c  *client
	ch chan LocalEvent
}

// errLocalFull is a local subscriber that does not keep up.
var errLocalFull = errors.New("realtime: local subscriber not keeping up")

// SubscribeLocal registers an in-process subscriber authenticated as auth
// to topics (parsed as POST /api/realtime's). Its events arrive on
// Events until Close, Broker.Close or a slow consumer ends it, when the
// channel is closed.
func (b *Broker) SubscribeLocal(auth Auth, topics []string) (*Local, error) {
	subs, err := ParseTopics(topics, b.cfg.MaxSubscriptions, b.cfg.MaxTopicLength, b.cfg.MaxOptionSets)
	if err != nil {
		return nil, err
	}
	// A WebSocket-kind client: no SSE idle timeout, and frames carry the
	// JSON form the sink reads.
	c, err := b.register(kindWS, auth)
	if err != nil {
		return nil, err
	}
	l := &Local{b: b, c: c, ch: make(chan LocalEvent, b.cfg.SendBuffer)}
	b.replaceSubs(c, subs)
	if !b.attach(c, &localSink{l: l}) {
		b.remove(c, reasonShutdown)
		close(l.ch)
		return nil, ErrClosed
	}
	return l, nil
}

// Events is the subscriber's event stream; it is closed when the
// subscriber ends.
func (l *Local) Events() <-chan LocalEvent { return l.ch }

// Close ends the subscriber.
func (l *Local) Close() { l.b.remove(l.c, reasonGone) }

type localSink struct {
	l    *Local
	once sync.Once
}

func (s *localSink) write(frames []*frame) error {
	for _, f := range frames {
		var msg struct {
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
		}
		if f.wsJSON == nil || json.Unmarshal(f.wsJSON, &msg) != nil {
			continue
		}
		select {
		case s.l.ch <- LocalEvent{Topic: msg.Topic, Data: msg.Data}:
		default:
			return errLocalFull
		}
	}
	return nil
}

func (s *localSink) end(closeReason) { s.once.Do(func() { close(s.l.ch) }) }
