package realtime

import "time"

// sink is where a client's frames go: a hijacked SSE connection
// (sseConn), a WebSocket (wsConn), or an SSE response still owned by its
// handler (sseResponse). A client gets its sink once its stream has
// started (Broker.attach); from then on a flush goroutine, started on
// demand, writes each batch of queued frames to it and, once the client is
// removed, ends it. No goroutine exists for an idle client beyond what the
// transport needs (none for hijacked SSE, the reader for WebSocket).
type sink interface {
	// write sends frames. It is called by one flush goroutine at a time,
	// never after end, and bounds its own time (HandlerConfig.WriteTimeout).
	write(frames []*frame) error
	// end closes the stream for the given reason. It is called once, by
	// the flush goroutine, after the client was removed.
	end(r closeReason)
}

// Sinks that need looking after while idle implement one of these. The
// broker's sweeper calls them without holding the broker's lock; they must
// return at once.
type (
	// peerWatcher is a sink nobody reads from (hijacked SSE), so nothing
	// notices when its peer goes away unless it looks.
	peerWatcher interface {
		// peerGone reports whether the peer closed or reset the connection.
		peerGone() bool
	}
	// pinger is a sink kept alive by pings (WebSocket).
	pinger interface {
		// maybePing starts a ping in the background if one is due at now
		// (unix nanoseconds) and none is in flight.
		maybePing(now int64)
	}
)

// attach hands c's stream over to s, and flushes whatever was queued (or
// ends s if c was removed) in the meantime. It returns false, attaching
// nothing, when the broker is closed: the caller then ends s itself.
func (b *Broker) attach(c *client, s sink) bool {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false
	}
	// Counted under the lock that Close takes before waiting, so every
	// Add happens before that Wait.
	b.sinks.Add(1)
	c.out.Store(&s)
	b.mu.Unlock()
	b.kick(c)
	return true
}

// push queues f for c and makes sure a flush goroutine will write it. It
// returns false, queueing nothing, when c's send buffer is full.
func (b *Broker) push(c *client, f *frame) bool {
	if !c.q.push(f) {
		return false
	}
	b.kick(c)
	return true
}

// kick starts a flush goroutine for c unless one is running or c has no
// sink yet (attach kicks once it has).
func (b *Broker) kick(c *client) {
	if c.out.Load() == nil || !c.flushing.CompareAndSwap(false, true) {
		return
	}
	go b.flush(c)
}

// flush writes c's queued frames batch by batch until the queue is empty,
// then exits; when c has been removed it ends the sink instead and leaves
// c.flushing set, so no flush goroutine ever starts for c again.
func (b *Broker) flush(c *client) {
	s := *c.out.Load()
	batch := c.batch
	for {
		if c.closed() {
			c.batch = nil
			c.q.drop()
			s.end(c.closeReason())
			b.sinks.Done()
			return
		}
		if batch = c.q.take(batch); len(batch) > 0 {
			err := s.write(batch)
			n := len(batch)
			clear(batch)
			if err != nil {
				b.log.Debug("realtime: write failed", "client", c.id, "err", err)
				b.remove(c, reasonGone)
				continue
			}
			b.stats.framesSent.Add(uint64(n))
			c.lastWrite.Store(time.Now().UnixNano())
			continue
		}
		// Stand down. A push (or remove) between the take above and the
		// Store saw c.flushing set and started nothing: look again, and
		// carry on only if no other flush goroutine took over meanwhile.
		if cap(batch) <= maxKeptBatch {
			c.batch = batch
		} else {
			c.batch = nil // a burst's array: not for the life of the client
		}
		c.flushing.Store(false)
		if !c.q.pending() && !c.closed() || !c.flushing.CompareAndSwap(false, true) {
			return
		}
	}
}
