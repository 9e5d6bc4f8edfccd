package realtime

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// wsRequest is a message from a WebSocket client.
type wsRequest struct {
	Type          string          `json:"type"`
	ID            json.RawMessage `json:"id,omitempty"`
	Token         *string         `json:"token,omitempty"`
	Subscriptions []string        `json:"subscriptions,omitempty"`
}

// wsMessage is a non-event message to a WebSocket client. Events are
// pre-encoded by the fan-out (see encodeFrame).
type wsMessage struct {
	Type     string          `json:"type"`
	ID       json.RawMessage `json:"id,omitempty"`
	ClientID string          `json:"clientId,omitempty"`
	Status   int             `json:"status,omitempty"`
	Message  string          `json:"message,omitempty"`
}

// ServeWS handles GET /api/realtime/ws: a WebSocket carrying the same
// subscriptions and events as the SSE stream, with the JSON protocol
// described in docs/realtime.md. The Authorization header of the upgrade
// request, when present, is resolved with HandlerConfig.Authenticate; an
// invalid token leaves the client a guest and is reported with an "error"
// message, as the REST API treats invalid tokens as guests.
//
// Origins: the request's own host and requests without an Origin header
// are accepted, plus HandlerConfig.AllowedOrigins; InsecureSkipOriginCheck
// accepts all.
//
// The connection is hijacked and spoken to at the frame level (gobwas/ws):
// an event frame is encoded once for all its subscribers and written with
// one write under a write deadline, as the SSE stream is, with no per-write
// context, timer or message writer.
func (h *Handler) ServeWS(w http.ResponseWriter, r *http.Request) {
	if h.b.isClosed() {
		h.cfg.WriteError(w, r, http.StatusServiceUnavailable, msgShuttingDown)
		return
	}
	if !h.cfg.InsecureSkipOriginCheck && !originAllowed(r.Header.Get("Origin"), r.Host, h.cfg.AllowedOrigins) {
		h.cfg.WriteError(w, r, http.StatusForbidden, "WebSocket connections from this origin are not allowed.")
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		h.cfg.WriteError(w, r, http.StatusUpgradeRequired, "Expected a WebSocket upgrade request.")
		return
	}
	var auth Auth
	var authErr error
	if tok := bearerToken(r.Header.Get("Authorization")); tok != "" && h.cfg.Authenticate != nil {
		auth, authErr = h.cfg.Authenticate(r.Context(), tok)
		if authErr != nil {
			auth = Auth{}
		}
	}
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		// The upgrader has answered the malformed handshake (400 or 426)
		// on the hijacked connection.
		h.log.Debug("realtime: WebSocket upgrade refused", "err", err)
		if conn != nil {
			_ = conn.Close()
		}
		return
	}
	c, err := h.b.register(kindWS, auth)
	if err != nil {
		_ = writeDeadlined(conn, wsCloseFrame(wsStatusTryAgainLater, msgShuttingDown), time.Second)
		_ = conn.Close()
		return
	}
	wc := &wsConn{h: h, c: c, conn: conn, pongs: make(chan struct{}, 1), readerDone: make(chan struct{})}
	if err := wc.sendMessage(wsMessage{Type: "connect", ClientID: c.id}); err != nil {
		h.b.remove(c, reasonGone)
		_ = conn.Close()
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())
	if authErr != nil {
		_ = wc.sendMessage(wsMessage{Type: "error", Status: http.StatusUnauthorized, Message: "Invalid or expired token; connected as a guest."})
	}
	if h.cfg.PingInterval > 0 {
		// The first ping comes up to a quarter interval early, so clients
		// that connected in a burst are not all pinged in one sweep.
		early := mrand.Int64N(int64(h.cfg.PingInterval/4) + 1)
		wc.nextPing = time.Now().UnixNano() + int64(h.cfg.PingInterval) - early
	}
	if !h.b.attach(c, wc) {
		_ = wc.send(wsCloseFrame(ws.StatusGoingAway, reasonShutdown.String()), time.Second, true)
		_ = conn.Close()
		return
	}
	// A goroutine of its own reads the connection and the handler returns:
	// net/http's connection goroutine and its per-request state would
	// cost more. Events are written by the client's flush goroutine,
	// pings are started by the broker's sweeper. The reader outlives the
	// request, so the request's cancellation must not reach it.
	go wc.read(context.WithoutCancel(r.Context()), rw.Reader)
}

// wsConn is a client's WebSocket as its sink. Writes (events, replies,
// pings, pongs, the close frame) come from several goroutines and are
// serialised by mu, each a whole frame or batch of frames.
type wsConn struct {
	h    *Handler
	c    *client
	conn net.Conn

	mu sync.Mutex
	// broken is set after a failed write (the stream may hold half a
	// frame), closing once the close frame went out: nothing is written
	// after either.
	broken, closing bool

	// closeCode is the close code of a protocol error the reader found;
	// set before it removes the client, read by end after.
	closeCode ws.StatusCode
	// readerDone is closed when the reader returns.
	readerDone chan struct{}
	// pongs receives the pongs the reader sees (buffer of one).
	pongs chan struct{}

	// nextPing is when the next ping is due (unix nanoseconds); only the
	// sweeper uses it. pinging is set while a ping waits for its pong;
	// missed counts the pings in a row that got none, and is only used
	// by the ping goroutine, one at a time.
	nextPing int64
	pinging  atomic.Bool
	missed   int
}

// send writes p, whole frames, under the write lock and a deadline; close
// marks p as the close frame, after which nothing more is sent.
func (w *wsConn) send(p []byte, timeout time.Duration, close bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken || w.closing {
		return net.ErrClosed
	}
	w.closing = close
	if err := writeDeadlined(w.conn, p, timeout); err != nil {
		w.broken = true
		return err
	}
	return nil
}

// writeDeadlined writes p to conn within timeout.
func writeDeadlined(conn net.Conn, p []byte, timeout time.Duration) error {
	err := conn.SetWriteDeadline(time.Now().Add(timeout))
	if err == nil {
		_, err = conn.Write(p)
	}
	return err
}

// write sends a batch of event frames, already encoded, with one write.
func (w *wsConn) write(frames []*frame) error {
	if len(frames) == 1 {
		return w.send(frames[0].ws, w.h.cfg.WriteTimeout, false)
	}
	bp := w.h.chunkBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	for _, f := range frames {
		buf = append(buf, f.ws...)
	}
	err := w.send(buf, w.h.cfg.WriteTimeout, false)
	if cap(buf) <= maxPooledChunk {
		*bp = buf
		w.h.chunkBufs.Put(bp)
	}
	return err
}

// sendMessage sends a non-event message.
func (w *wsConn) sendMessage(m wsMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return w.send(wsFrame(ws.OpText, data), w.h.cfg.WriteTimeout, false)
}

// wsCloseWait bounds how long end waits for the client's answer to the
// close frame before closing the connection.
const wsCloseWait = time.Second

// end closes the connection with a close code that tells the client
// whether to reconnect now (going away) or back off (policy violation).
// After a close frame it gives the client a moment to answer (the reader
// takes the answer), so the client sees a clean close, not a reset.
func (w *wsConn) end(r closeReason) {
	var code ws.StatusCode
	switch r {
	case reasonShutdown, reasonLifetime, reasonIdle:
		code = ws.StatusGoingAway
	case reasonSlow:
		code = ws.StatusPolicyViolation
	case reasonProtocol:
		code = cmp.Or(w.closeCode, ws.StatusUnsupportedData)
	default:
		// The peer is gone or unresponsive: a close handshake would only
		// wait for it.
		_ = w.conn.Close()
		return
	}
	if w.send(wsCloseFrame(code, r.String()), min(w.h.cfg.WriteTimeout, wsCloseWait), true) == nil {
		// The read deadline ends a reader waiting for bytes; the timer
		// one busy answering a request (which may call Authenticate).
		_ = w.conn.SetReadDeadline(time.Now().Add(wsCloseWait))
		t := time.NewTimer(wsCloseWait)
		select {
		case <-w.readerDone:
		case <-t.C:
		}
		t.Stop()
	}
	_ = w.conn.Close()
}

// maybePing pings the client every PingInterval; the sweeper calls it.
func (w *wsConn) maybePing(now int64) {
	if w.h.cfg.PingInterval <= 0 || now < w.nextPing || w.c.closed() || !w.pinging.CompareAndSwap(false, true) {
		return
	}
	w.nextPing = now + int64(w.h.cfg.PingInterval)
	// Counted with the broker's goroutines: the sweeper calling this is
	// one of them, so the count is not zero.
	w.h.b.wg.Go(w.ping)
}

// ping sends one ping and waits up to PongTimeout for its pong (the
// reader sees it). MaxMissedPongs misses in a row end the client.
func (w *wsConn) ping() {
	defer w.pinging.Store(false)
	b := w.h.b
	select {
	case <-w.pongs: // a late answer to an earlier ping
	default:
	}
	answered := false
	if w.send(wsPingFrame, w.h.cfg.WriteTimeout, false) == nil {
		t := time.NewTimer(w.h.cfg.PongTimeout)
		select {
		case <-w.pongs:
			answered = true
		case <-t.C:
		case <-b.ctx.Done():
		}
		t.Stop()
	}
	switch {
	case answered:
		w.missed = 0
	case b.ctx.Err() != nil || w.c.closed():
		// Shutting down, or the client ended meanwhile.
	default:
		w.missed++
		if w.missed >= w.h.cfg.MaxMissedPongs {
			b.remove(w.c, reasonPing)
		}
	}
}

// The reader's control frames (wsControl).

func (w *wsConn) onPing(p []byte) error {
	return w.send(wsFrame(ws.OpPong, p), w.h.cfg.WriteTimeout, false)
}

func (w *wsConn) onPong() {
	select {
	case w.pongs <- struct{}{}:
	default:
	}
}

func (w *wsConn) onClose(p []byte) {
	_ = w.send(wsCloseReply(p), min(w.h.cfg.WriteTimeout, wsCloseWait), true)
}

// read reads and answers the client's requests until the connection ends,
// then removes the client with the reason.
func (w *wsConn) read(ctx context.Context, br *bufio.Reader) {
	r := w.h.wsRead(ctx, w, br)
	close(w.readerDone)
	w.h.b.remove(w.c, r)
}

// wsRead reads and answers the client's requests until the connection
// ends, and returns why it ended.
func (h *Handler) wsRead(ctx context.Context, w *wsConn, br *bufio.Reader) closeReason {
	for {
		op, data, err := readWSMessage(br, h.cfg.MaxBodyBytes, w)
		if err != nil {
			if pe, ok := errors.AsType[*wsProtocolError](err); ok {
				w.closeCode = pe.code
				return reasonProtocol
			}
			return reasonGone
		}
		if op != ws.OpText {
			return reasonProtocol
		}
		if err := w.sendMessage(h.wsHandle(ctx, w.c, data)); err != nil {
			return reasonGone
		}
	}
}

// wsHandle applies one client request and returns the answer.
func (h *Handler) wsHandle(ctx context.Context, c *client, data []byte) wsMessage {
	var req wsRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return wsMessage{Type: "error", Status: http.StatusBadRequest, Message: "Invalid message: " + err.Error() + "."}
	}
	fail := func(status int, msg string) wsMessage {
		return wsMessage{Type: "error", ID: req.ID, Status: status, Message: msg}
	}
	switch req.Type {
	case "auth":
		if h.cfg.Authenticate == nil {
			return fail(http.StatusNotImplemented, "Authentication is not available on this connection.")
		}
		var auth Auth
		if req.Token != nil && *req.Token != "" {
			var err error
			if auth, err = h.cfg.Authenticate(ctx, bearerToken(*req.Token)); err != nil {
				return fail(http.StatusUnauthorized, "Invalid or expired token.")
			}
		}
		if err := h.b.setAuth(c, auth); err != nil {
			return fail(http.StatusForbidden, msgAuthMismatch)
		}
	case "subscribe":
		subs, err := ParseTopics(req.Subscriptions, h.b.cfg.MaxSubscriptions, h.b.cfg.MaxTopicLength, h.b.cfg.MaxOptionSets)
		if err != nil {
			return fail(http.StatusBadRequest, sentence(err.Error()))
		}
		h.b.replaceSubs(c, subs)
	case "unsubscribe":
		h.b.removeSubs(c, req.Subscriptions)
	case "ping":
		return wsMessage{Type: "pong", ID: req.ID}
	default:
		return fail(http.StatusBadRequest, `Unknown message type; expected "auth", "subscribe", "unsubscribe" or "ping".`)
	}
	return wsMessage{Type: "ack", ID: req.ID}
}
