package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/gobwas/ws"
)

// worker fans out the events of its queue one at a time, which keeps the
// events of one record in order for every client.
func (b *Broker) worker(q chan *Event) {
	for {
		select {
		case <-b.ctx.Done():
			return
		case ev := <-q:
			b.dispatch(ev)
		}
	}
}

// member is one client subscription that matched an event.
type member struct {
	c     *client
	topic string
}

// group is the set of matching subscriptions that get the same answer from
// the Authorizer, hence the same bytes.
type group struct {
	auth    Auth
	sub     Subscription
	members []member
	hasWS   bool
}

// groupKey is what decides the Authorizer's answer besides the event: who
// asks, which rule applies (list for "*", view for one record) and the
// options that rules and the record's rendering can read.
type groupKey struct {
	auth     Auth
	wildcard bool
	opts     string
}

// dispatch delivers one event to every matching subscriber.
func (b *Broker) dispatch(ev *Event) {
	groups := b.collect(ev)
	if len(groups) == 1 {
		if b.acquire() {
			b.deliver(ev, groups[0])
			b.release()
		}
		return
	}
	// Several groups (typically several distinct users): ask the Authorizer
	// for them in parallel, bounded across the broker by authSem.
	var wg sync.WaitGroup
	for _, g := range groups {
		if !b.acquire() {
			break
		}
		wg.Go(func() {
			defer b.release()
			b.deliver(ev, g)
		})
	}
	wg.Wait()
}

func (b *Broker) acquire() bool {
	select {
	case b.authSem <- struct{}{}:
		return true
	case <-b.ctx.Done():
		return false
	}
}

func (b *Broker) release() { <-b.authSem }

// collect finds the subscriptions matching ev and groups them. A
// subscription matches when its collection is the event's name or id and
// its record is "*" or the event's record; custom topics never match.
func (b *Broker) collect(ev *Event) []*group {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var groups []*group
	var byKey map[groupKey]*group
	visit := func(collection string) {
		for c := range b.byCollection[collection] {
			for i := range c.subs {
				s := &c.subs[i]
				// A client indexed under both the collection's name and id
				// is visited twice; each visit takes only the subscriptions
				// spelled that way, so none is counted twice.
				if s.Custom || s.Collection != collection || (s.RecordID != "*" && s.RecordID != ev.RecordID) {
					continue
				}
				k := groupKey{auth: c.auth, wildcard: s.RecordID == "*", opts: s.optKey}
				g := byKey[k]
				if g == nil {
					if byKey == nil {
						byKey = make(map[groupKey]*group)
					}
					g = &group{auth: c.auth, sub: *s}
					byKey[k] = g
					groups = append(groups, g)
				}
				g.members = append(g.members, member{c: c, topic: s.Topic})
				if c.kind == kindWS {
					g.hasWS = true
				}
			}
		}
	}
	if ev.CollectionName != "" {
		visit(ev.CollectionName)
	}
	if ev.CollectionID != "" && ev.CollectionID != ev.CollectionName {
		visit(ev.CollectionID)
	}
	return groups
}

// deliver asks the Authorizer once for the group and queues the same
// pre-encoded frame to each member.
func (b *Broker) deliver(ev *Event, g *group) {
	data, ok := b.authorize(ev, g)
	if !ok {
		return
	}
	// Nearly always one topic per group; a short list beats a map.
	type topicFrame struct {
		topic string
		f     *frame
	}
	var frames []topicFrame
	frameFor := func(topic string) *frame {
		for _, tf := range frames {
			if tf.topic == topic {
				return tf.f
			}
		}
		f := encodeFrame(topic, data, g.hasWS)
		frames = append(frames, topicFrame{topic, f})
		return f
	}
	for _, m := range g.members {
		if m.c.closed() {
			continue
		}
		if !b.push(m.c, frameFor(m.topic)) {
			b.remove(m.c, reasonSlow)
		}
	}
}

// authorize calls the Authorizer for a group and returns valid, single-line
// JSON, or ok=false when the group gets nothing.
func (b *Broker) authorize(ev *Event, g *group) (data []byte, ok bool) {
	b.stats.authCalls.Add(1)
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.AuthorizeTimeout)
	defer cancel()
	data, ok, err := b.callAuthorizer(ctx, ev, g)
	if err != nil {
		b.stats.authErrors.Add(1)
		b.log.Warn("realtime: authorizer failed", "collection", ev.CollectionName, "record", ev.RecordID,
			"topic", g.sub.Topic, "subscribers", len(g.members), "err", err)
		return nil, false
	}
	if !ok {
		return nil, false
	}
	if !json.Valid(data) {
		b.stats.authErrors.Add(1)
		b.log.Error("realtime: authorizer returned invalid JSON", "collection", ev.CollectionName, "record", ev.RecordID)
		return nil, false
	}
	if data, err = singleLine(data); err != nil {
		return nil, false
	}
	return data, true
}

// singleLine returns valid JSON data without raw line breaks: an SSE
// "data:" line ends at a line break, so indented JSON would be cut;
// compacting removes every raw newline (strings escape theirs).
func singleLine(data []byte) ([]byte, error) {
	if !bytes.ContainsAny(data, "\r\n") {
		return data, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// callAuthorizer turns a panic in the application's rule code into an
// error: it runs on a broker goroutine, where a panic would end the
// process rather than one request.
func (b *Broker) callAuthorizer(ctx context.Context, ev *Event, g *group) (data []byte, ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, ok, err = nil, false, fmt.Errorf("authorizer panic: %v", p)
		}
	}()
	return b.cfg.Authorizer.Message(ctx, g.auth, g.sub, *ev)
}

// encodeFrame builds the shared bytes of one event frame.
func encodeFrame(topic string, data []byte, withWS bool) *frame {
	f := &frame{}
	f.sse = make([]byte, 0, len("event:\ndata:\n\n")+len(topic)+len(data))
	f.sse = append(f.sse, "event:"...)
	f.sse = append(f.sse, topic...)
	f.sse = append(f.sse, "\ndata:"...)
	f.sse = append(f.sse, data...)
	f.sse = append(f.sse, "\n\n"...)
	if withWS {
		// The whole WebSocket frame, header included: every subscriber
		// gets the same bytes.
		quoted, _ := json.Marshal(topic) // a string always marshals
		n := len(`{"type":"event","topic":,"data":}`) + len(quoted) + len(data)
		f.ws = appendWSHeader(make([]byte, 0, maxWSHeader+n), ws.OpText, n)
		body := len(f.ws)
		f.ws = append(f.ws, `{"type":"event","topic":`...)
		f.ws = append(f.ws, quoted...)
		f.ws = append(f.ws, `,"data":`...)
		f.ws = append(f.ws, data...)
		f.ws = append(f.ws, '}')
		f.wsJSON = f.ws[body:]
	}
	return f
}
