package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
	defer h.b.remove(c, reasonGone)
	conn.SetReadLimit(h.cfg.MaxBodyBytes)

	// The connection's own context: it ends with the handler, whatever
	// ended it; r.Context() stays alive after a hijack until then.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	if err := h.wsSend(ctx, conn, wsMessage{Type: "connect", ClientID: c.id}); err != nil {
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())
	if authErr != nil {
		_ = h.wsSend(ctx, conn, wsMessage{Type: "error", Status: http.StatusUnauthorized, Message: "Invalid or expired token; connected as a guest."})
	}

	go h.wsRead(ctx, conn, c)
	if h.cfg.PingInterval > 0 {
		go h.wsPing(ctx, conn, c)
	}

	var batch []*frame
	for {
		select {
		case <-c.q.ready:
			batch = c.q.take(batch)
			if len(batch) == 0 {
				continue
			}
			err := h.wsWrite(ctx, conn, batch)
			n := len(batch)
			clear(batch)
			if cap(batch) > 32 {
				batch = nil
			}
			if err != nil {
				h.log.Debug("realtime: WebSocket write failed", "client", c.id, "err", err)
				_ = conn.CloseNow()
				return
			}
			h.b.stats.framesSent.Add(uint64(n))
			c.lastWrite.Store(time.Now().UnixNano())
		case <-c.done:
			h.wsClose(conn, c.closeReason())
			return
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

// wsRead reads the client's requests until the connection ends, then ends
// the client.
func (h *Handler) wsRead(ctx context.Context, conn *websocket.Conn, c *client) {
	reason := reasonGone
	defer func() { h.b.remove(c, reason) }()
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				reason = reasonProtocol
			}
			return
		}
		if typ != websocket.MessageText {
			reason = reasonProtocol
			return
		}
		reply := h.wsHandle(ctx, c, data)
		if err := h.wsSend(ctx, conn, reply); err != nil {
			return
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
		subs, err := ParseTopics(req.Subscriptions, h.b.cfg.MaxSubscriptions, h.b.cfg.MaxTopicLength)
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

// wsPing pings the client every PingInterval and ends it after
// MaxMissedPongs pings in a row got no pong within PongTimeout. The reader
// goroutine processes the pongs.
func (h *Handler) wsPing(ctx context.Context, conn *websocket.Conn, c *client) {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, h.cfg.PongTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err == nil {
				missed = 0
				continue
			}
			if ctx.Err() != nil {
				return
			}
			missed++
			if missed >= h.cfg.MaxMissedPongs {
				h.b.remove(c, reasonPing)
				return
			}
		}
	}
}
