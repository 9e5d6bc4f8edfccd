package realtime

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// clientKind is the transport a client is connected through.
type clientKind uint8

const (
	kindSSE clientKind = iota
	kindWS
)

// closeReason says why a client's stream ends; it is logged and, for
// WebSocket, chooses the close code.
type closeReason uint8

const (
	reasonNone     closeReason = iota
	reasonGone                 // the peer went away or a write failed
	reasonSlow                 // the send buffer was full
	reasonIdle                 // nothing was sent for IdleTimeout
	reasonLifetime             // MaxLifetime elapsed
	reasonShutdown             // Broker.Close
	reasonPing                 // WebSocket pongs were missed
	reasonProtocol             // the WebSocket peer broke the protocol
)

func (r closeReason) String() string {
	switch r {
	case reasonGone:
		return "client gone"
	case reasonSlow:
		return "slow consumer"
	case reasonIdle:
		return "idle timeout"
	case reasonLifetime:
		return "max connection lifetime"
	case reasonShutdown:
		return "shutting down"
	case reasonPing:
		return "missed pongs"
	case reasonProtocol:
		return "protocol error"
	}
	return "none"
}

// frame is one pre-encoded message, shared by every client of a rule group:
// the fan-out encodes it once and hands out the same pointer.
type frame struct {
	// sse is "event:<topic>\ndata:<json>\n\n"; the writer puts the client's
	// "id:" line in front, the only per-client part of an SSE frame.
	sse []byte
	// ws is a WebSocket text frame, header and all, of wsJSON, which is
	// {"type":"event","topic":...,"data":...}; both nil when no WebSocket
	// (or in-process) client of the group needs them.
	ws, wsJSON []byte
}

// client is one connected SSE or WebSocket stream. Its fields are kept small
// on purpose: an idle client costs a few hundred bytes here, with no
// goroutine or timer of its own (the broker's sweeper handles timeouts,
// peer checks and pings; a flush goroutine exists only while frames are
// being written, see sink).
type client struct {
	id   string
	kind clientKind

	// auth and subs are guarded by Broker.mu. subs is replaced wholesale
	// on every subscribe, never modified in place.
	auth Auth
	subs []Subscription

	// deadline is when MaxLifetime ends (unix nanoseconds, 0 = never),
	// jittered per client so a burst of connections does not reconnect as
	// one burst an hour later.
	deadline int64
	// lastWrite is when the last frame reached the connection (unix
	// nanoseconds), for the idle timeout.
	lastWrite atomic.Int64

	q sendQueue
	// out is the client's transport, set once its stream has started (see
	// Broker.attach); flushing is set while a flush goroutine runs for it,
	// and for good once that goroutine has ended the sink.
	out      atomic.Pointer[sink]
	flushing atomic.Bool
	// batch is the flush goroutine's buffer for the frames it takes, kept
	// from one flush to the next so a fan-out allocates none per client;
	// only the goroutine that set flushing uses it.
	batch []*frame

	done      chan struct{} // closed when the broker ends the client
	closeOnce sync.Once
	reason    atomic.Uint32 // closeReason, set before done is closed
}

func newClient(kind clientKind, auth Auth, sendBuffer int, now time.Time, lifetime time.Duration) *client {
	c := &client{
		id:   newClientID(),
		kind: kind,
		auth: auth,
		done: make(chan struct{}),
	}
	c.q.max = sendBuffer
	c.lastWrite.Store(now.UnixNano())
	if lifetime > 0 {
		// Up to 10% earlier than the configured lifetime.
		jitter := time.Duration(mrand.Int64N(int64(lifetime/10) + 1))
		c.deadline = now.Add(lifetime - jitter).UnixNano()
	}
	return c
}

// close ends the client once, calling before (if not nil) just before
// c.done is closed, so whatever it records is visible by the time the
// stream ends. It reports whether this call ended the client. The stream
// itself is ended by the flush goroutine (Broker.remove kicks it).
func (c *client) close(r closeReason, before func()) bool {
	first := false
	c.closeOnce.Do(func() {
		first = true
		c.reason.Store(uint32(r))
		if before != nil {
			before()
		}
		close(c.done)
	})
	return first
}

func (c *client) closeReason() closeReason { return closeReason(c.reason.Load()) }

func (c *client) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// maxKeptBatch bounds the frame slices a client keeps between flushes.
const maxKeptBatch = 32

// sendQueue is a bounded FIFO of frames. Unlike a buffered channel of
// SendBuffer slots it holds no memory while the client is idle, and the
// flush goroutine takes every pending frame at once so a burst costs one
// write.
type sendQueue struct {
	mu     sync.Mutex
	frames []*frame
	max    int
}

// push appends f without blocking; false means the queue is full.
func (q *sendQueue) push(f *frame) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) >= q.max {
		return false
	}
	q.frames = append(q.frames, f)
	return true
}

// take moves the pending frames into buf (reused by the caller) and
// returns it.
func (q *sendQueue) take(buf []*frame) []*frame {
	q.mu.Lock()
	buf = append(buf[:0], q.frames...)
	clear(q.frames)
	if cap(q.frames) > maxKeptBatch {
		// Let a burst's large backing array go instead of keeping it for
		// the life of an idle connection.
		q.frames = nil
	} else {
		q.frames = q.frames[:0]
	}
	q.mu.Unlock()
	return buf
}

// pending reports whether frames are waiting.
func (q *sendQueue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.frames) > 0
}

// drop discards the pending frames of a client that has ended.
func (q *sendQueue) drop() {
	q.mu.Lock()
	q.frames = nil
	q.mu.Unlock()
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// clientIDLength matches PocketBase's 40-character client ids.
const clientIDLength = 40

// newClientID returns 40 random characters from [a-zA-Z0-9] (about 238
// bits): the id is all a POST needs to change a client's subscriptions, so
// it must not be guessable.
func newClientID() string { return randomString(clientIDLength) }

func randomString(n int) string {
	b := make([]byte, n)
	var buf [64]byte
	i := 0
	for i < n {
		// crypto/rand.Read never fails (Go 1.24+: it crashes instead).
		_, _ = rand.Read(buf[:])
		for _, v := range buf {
			// 62*4 = 248: rejecting bytes >= 248 keeps the choice uniform.
			if v >= 248 {
				continue
			}
			b[i] = idAlphabet[v%62]
			i++
			if i == n {
				break
			}
		}
	}
	return string(b)
}
