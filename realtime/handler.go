package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Messages of the HTTP errors, PocketBase's where it has one.
const (
	msgInvalidClient = "Missing or invalid client id."
	msgAuthMismatch  = "The current and the previous request authorization don't match."
	msgBadBody       = "Failed to load the submitted data due to invalid formatting."
	msgShuttingDown  = "The realtime service is shutting down."
	msgInternal      = "Something went wrong while processing your request."
)

// DefaultMaxBodyBytes bounds a subscribe request body or WebSocket message:
// room for 1000 topics of 2500 bytes and their JSON quoting.
const DefaultMaxBodyBytes = 4 << 20

// HandlerConfig configures the HTTP side of a Broker. Zero values mean the
// documented defaults; a negative duration disables that feature.
type HandlerConfig struct {
	// WriteError writes an error response, so the application's single
	// error mapping is used. Default: PocketBase's shape
	// {"status":404,"message":"...","data":{}} as application/json.
	WriteError func(w http.ResponseWriter, r *http.Request, status int, message string)
	// Authenticate resolves a token (the Authorization header of a
	// WebSocket upgrade, or a WebSocket "auth" message) to an Auth. The
	// token comes without a "Bearer " prefix. Nil: WebSocket clients stay
	// guests and "auth" messages are answered with an error.
	Authenticate func(ctx context.Context, token string) (Auth, error)
	// Logger receives the handlers' logs. Default slog.Default().
	Logger *slog.Logger

	// WriteTimeout bounds every write to a client, so a peer that stopped
	// reading cannot hold a goroutine. It replaces the http.Server's
	// WriteTimeout for streams. Default 10s.
	WriteTimeout time.Duration
	// MaxBodyBytes bounds a POST /api/realtime body and a WebSocket
	// message. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// PingInterval is how often a WebSocket client is pinged (by the
	// Broker's sweeper, which then runs at least every quarter interval).
	// Default 25s.
	PingInterval time.Duration
	// PongTimeout is how long a pong may take before the ping counts as
	// missed. Default 10s.
	PongTimeout time.Duration
	// MaxMissedPongs consecutive missed pongs close the connection.
	// Default 2.
	MaxMissedPongs int

	// AllowedOrigins lists host patterns (path.Match syntax, e.g.
	// "app.example.com" or "*.example.com"; with "://" they match
	// scheme://host) of pages allowed to open a WebSocket from another
	// origin. The request's own host is always allowed, and so are
	// clients that send no Origin header (non-browser clients).
	AllowedOrigins []string
	// InsecureSkipOriginCheck accepts WebSocket upgrades from any origin.
	// A page on any site could then open a realtime connection with the
	// user's cookies; Plinth authenticates by token, not cookie, so the
	// risk is limited to what a guest may see, but leave it off unless
	// needed.
	InsecureSkipOriginCheck bool
}

func (c *HandlerConfig) setDefaults() {
	if c.WriteError == nil {
		c.WriteError = WriteJSONError
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.PingInterval == 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = 10 * time.Second
	}
	if c.MaxMissedPongs <= 0 {
		c.MaxMissedPongs = 2
	}
}

// Handler serves the realtime HTTP endpoints of one Broker:
//
//	GET  /api/realtime     ServeSSE   (http.HandlerFunc)
//	POST /api/realtime     Subscribe  (call with the request's resolved Auth)
//	GET  /api/realtime/ws  ServeWS    (http.HandlerFunc)
type Handler struct {
	b   *Broker
	cfg HandlerConfig
	log *slog.Logger
	// chunkBufs recycles the buffers SSE batches are assembled in, so a
	// fan-out to many clients does not allocate one per client.
	chunkBufs sync.Pool
}

// NewHandler returns the HTTP handlers for b.
func NewHandler(b *Broker, cfg HandlerConfig) *Handler {
	cfg.setDefaults()
	if cfg.PingInterval > 0 {
		// The broker's sweeper starts the pings: a ping is then at most a
		// quarter interval late.
		b.needSweep(cfg.PingInterval / 4)
	}
	h := &Handler{b: b, cfg: cfg, log: cfg.Logger.With("component", "realtime")}
	h.chunkBufs.New = func() any { return new([]byte) }
	return h
}

// subscribeBody is the body of POST /api/realtime.
type subscribeBody struct {
	ClientID      string   `json:"clientId"`
	Subscriptions []string `json:"subscriptions"`
}

// Subscribe handles POST /api/realtime: it replaces the subscriptions of
// the client named in the body, on behalf of auth (the caller resolves the
// request's Authorization header first; a missing or invalid token is a
// guest). 204 on success; 400 for a bad body or topic, 403 when the client
// is already authenticated as someone else, 404 for an unknown client id,
// 413 for a body over MaxBodyBytes. The client may be connected to
// another instance (see Broker.SetSubscriptions).
func (h *Handler) Subscribe(w http.ResponseWriter, r *http.Request, auth Auth) {
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	var body subscribeBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.cfg.WriteError(w, r, http.StatusRequestEntityTooLarge, "Request body too large.")
			return
		}
		h.cfg.WriteError(w, r, http.StatusBadRequest, msgBadBody)
		return
	}
	if body.ClientID == "" || len(body.ClientID) > 255 {
		// PocketBase validates 1..255 characters; longer cannot exist.
		h.cfg.WriteError(w, r, http.StatusNotFound, msgInvalidClient)
		return
	}
	err := h.b.SetSubscriptions(r.Context(), body.ClientID, auth, body.Subscriptions)
	if err != nil {
		status, msg := h.errorStatus(err)
		h.cfg.WriteError(w, r, status, msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// errorStatus maps a broker error to an HTTP status and client message.
func (h *Handler) errorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrInvalidSubscription):
		return http.StatusBadRequest, sentence(err.Error())
	case errors.Is(err, ErrUnknownClient):
		return http.StatusNotFound, msgInvalidClient
	case errors.Is(err, ErrAuthMismatch):
		return http.StatusForbidden, msgAuthMismatch
	case errors.Is(err, ErrClosed):
		return http.StatusServiceUnavailable, msgShuttingDown
	case errors.Is(err, ErrBusUnavailable):
		h.log.Warn("realtime: subscribe for a client on another instance failed", "err", err)
		return http.StatusServiceUnavailable, "The realtime service is temporarily unavailable."
	case errors.Is(err, context.Canceled):
		return 499, "The request was canceled."
	}
	h.log.Error("realtime: subscribe failed", "err", err)
	return http.StatusInternalServerError, msgInternal
}

// sentence makes an error text a client message: capitalised, with a full
// stop.
func sentence(s string) string {
	s = strings.TrimPrefix(s, "realtime: ")
	if r, n := utf8.DecodeRuneInString(s); n > 0 {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// WriteJSONError writes PocketBase's error shape
// {"status":N,"message":"...","data":{}}; it is HandlerConfig.WriteError's
// default.
func WriteJSONError(w http.ResponseWriter, _ *http.Request, status int, message string) {
	body, _ := json.Marshal(struct {
		Status  int      `json:"status"`
		Message string   `json:"message"`
		Data    struct{} `json:"data"`
	}{status, message, struct{}{}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bearerToken returns an Authorization header's token, accepting
// PocketBase's bare form and "Bearer <token>".
func bearerToken(header string) string {
	header = strings.TrimSpace(header)
	if len(header) > 7 && strings.EqualFold(header[:7], "Bearer ") {
		return strings.TrimSpace(header[7:])
	}
	return header
}
