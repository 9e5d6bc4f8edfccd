package realtime

import (
	"context"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
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
func (h *Handler) ServeWS(w http.ResponseWriter, r *http.Request) {
	if h.b.isClosed() {
		h.cfg.WriteError(w, r, http.StatusServiceUnavailable, msgShuttingDown)
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
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:     h.cfg.AllowedOrigins,
		InsecureSkipVerify: h.cfg.InsecureSkipOriginCheck,
		// Compression keeps a flate state per connection: too much memory
		// for many mostly idle clients of small JSON messages.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		// Accept has written the response (403 for a foreign origin).
		h.log.Debug("realtime: WebSocket upgrade refused", "err", err)
		return
	}
	c, err := h.b.register(kindWS, auth)
	if err != nil {
		_ = conn.Close(websocket.StatusTryAgainLater, msgShuttingDown)
		return
	}
	conn.SetReadLimit(h.cfg.MaxBodyBytes)
	// The reader outlives the handler, so the request's cancellation (when
	// the handler returns) must not reach it; closing the connection ends it.
	ctx := context.WithoutCancel(r.Context())

	if err := h.wsSend(ctx, conn, wsMessage{Type: "connect", ClientID: c.id}); err != nil {
		h.b.remove(c, reasonGone)
		_ = conn.CloseNow()
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())
	if authErr != nil {
		_ = h.wsSend(ctx, conn, wsMessage{Type: "error", Status: http.StatusUnauthorized, Message: "Invalid or expired token; connected as a guest."})
	}

	ws := &wsConn{h: h, c: c, conn: conn}
	if h.cfg.PingInterval > 0 {
		// The first ping comes up to a quarter interval early, so clients
		// that connected in a burst are not all pinged in one sweep.
		early := mrand.Int64N(int64(h.cfg.PingInterval/4) + 1)
		ws.nextPing = time.Now().UnixNano() + int64(h.cfg.PingInterval) - early
	}
	if !h.b.attach(c, ws) {
		h.wsClose(conn, reasonShutdown)
		return
	}
	// A goroutine of its own reads the connection and the handler returns:
	// net/http's connection goroutine and its per-request state would
	// cost more. Events are written by the client's flush goroutine,
	// pings are started by the broker's sweeper.
	go func() { h.b.remove(c, h.wsRead(ctx, conn, c)) }()
}

// wsConn is a client's WebSocket as its sink. coder/websocket allows
// writes (events, replies, pings) concurrently with the one reader.
type wsConn struct {
	h    *Handler
	c    *client
	conn *websocket.Conn

	// nextPing is when the next ping is due (unix nanoseconds); only the
	// sweeper uses it. pinging is set while a ping waits for its pong;
	// missed counts the pings in a row that got none, and is only used
	// by the ping goroutine, one at a time.
	nextPing int64
	pinging  atomic.Bool
	missed   int
}

func (w *wsConn) write(frames []*frame) error {
	return w.h.wsWrite(context.Background(), w.conn, frames)
}

func (w *wsConn) end(r closeReason) { w.h.wsClose(w.conn, r) }

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
// reader processes it). MaxMissedPongs misses in a row end the client.
func (w *wsConn) ping() {
	defer w.pinging.Store(false)
	b := w.h.b
	ctx, cancel := context.WithTimeout(b.ctx, w.h.cfg.PongTimeout)
	err := w.conn.Ping(ctx)
	cancel()
	switch {
	case err == nil:
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

// wsWrite writes a batch of event frames under one deadline.
func (h *Handler) wsWrite(ctx context.Context, conn *websocket.Conn, frames []*frame) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
	defer cancel()
	for _, f := range frames {
		if err := conn.Write(ctx, websocket.MessageText, f.ws); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) wsSend(ctx context.Context, conn *websocket.Conn, m wsMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, data)
}

// wsClose ends the connection with a close code that tells the client
// whether to reconnect now (going away) or back off (policy violation).
func (h *Handler) wsClose(conn *websocket.Conn, r closeReason) {
	switch r {
	case reasonShutdown, reasonLifetime, reasonIdle:
		_ = conn.Close(websocket.StatusGoingAway, r.String())
	case reasonSlow:
		_ = conn.Close(websocket.StatusPolicyViolation, r.String())
	case reasonProtocol:
		_ = conn.Close(websocket.StatusUnsupportedData, r.String())
	default:
		// The peer is gone or unresponsive: a close handshake would only
		// wait for it.
		_ = conn.CloseNow()
	}
}

// wsRead reads and answers the client's requests until the connection
// ends, and returns why it ended.
func (h *Handler) wsRead(ctx context.Context, conn *websocket.Conn, c *client) closeReason {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				return reasonProtocol
			}
			return reasonGone
		}
		if typ != websocket.MessageText {
			return reasonProtocol
		}
		reply := h.wsHandle(ctx, c, data)
		if err := h.wsSend(ctx, conn, reply); err != nil {
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
