package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/realtime"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// What other transports (GraphQL) need of the server so that they resolve
// callers, run writes and report errors exactly as the REST handlers do.

// ErrorOf maps an error of a capability service (record, authflow, filter,
// store) to the API error REST answers with: the same status, message and
// data. A Status of 500 or more means the message is generic and the cause
// should be logged, not shown.
func ErrorOf(err error) *Error { return toError(err) }

// AuthClaims returns the claims of the request's verified auth token, or
// nil (guests, API keys).
func AuthClaims(r *http.Request) *auth.Claims { return authClaims(r) }

// ClientIP is the request's client IP as the settings' trusted proxy
// configuration decides it (rate limits, failed-login throttling).
func (s *Server) ClientIP(r *http.Request) string { return s.clientIP(r) }

// WriteTx runs fn in one transaction as REST record writes do: file
// uploads and deletions commit or roll back with it.
func (s *Server) WriteTx(ctx context.Context, fn func(ctx context.Context, tx *store.Tx) error) error {
	return s.fileTx(ctx, fn)
}

// WithToken returns r authenticated by token (a record auth token or an
// API key) as the Authorization header would make it, for transports that
// receive credentials elsewhere (a WebSocket's connection_init payload).
// An invalid record token leaves r a guest's, as for the header; an
// invalid API key is an error.
func (s *Server) WithToken(r *http.Request, token string) (*http.Request, error) {
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if token == "" {
		return r, nil
	}
	if auth.LooksLikeAPIKey(token) {
		k, err := s.apiKeys.verify(r.Context(), token)
		if err != nil {
			return nil, unauthorized("The API key is invalid, expired or revoked.")
		}
		return r.WithContext(withAPIKey(r.Context(), k)), nil
	}
	if rec, claims, err := s.tokens.Verify(r.Context(), token, auth.TypeAuth); err == nil && s.superuserAllowed(r, rec) {
		return r.WithContext(withAuth(r.Context(), rec, claims)), nil
	}
	return r, nil
}

// EncodeOptions are the options REST encodes records with for viewer
// (nil for guests): hidden fields for superusers only, an auth record's
// email only to itself, superusers, or everyone when it is made visible.
func EncodeOptions(viewer *schema.Record) schema.EncodeOptions {
	return encodeOptions{viewer: viewer}.schemaOptions()
}

// Broker is the realtime broker (nil when realtime failed to start), for
// transports that deliver record events (GraphQL subscriptions).
func (s *Server) Broker() *realtime.Broker { return s.broker }

// RealtimeAuth is how the realtime broker identifies a subscriber
// authenticated as rec (nil: a guest), so that its Authorizer applies the
// same rules to it as to SSE and WebSocket clients.
func RealtimeAuth(rec *schema.Record) realtime.Auth { return realtimeAuthOf(rec) }
