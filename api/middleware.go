package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/ratelimit"
	"github.com/plinthdev/plinth/schema"
)

// recoverPanics turns a handler panic into a logged 500 instead of a
// dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request and feeds the request metrics, labelled by
// the matched route pattern (never the raw path, whose cardinality is
// unbounded).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// With tracing on, the request's span is in the context (otelhttp,
		// around this handler): its trace id goes back to the client and
		// into the request log, and the span is named by the route.
		span := trace.SpanFromContext(r.Context())
		if sc := span.SpanContext(); sc.IsValid() {
			w.Header().Set("X-Trace-Id", sc.TraceID().String())
		}
		sw := &statusWriter{ResponseWriter: w}
		r, note := s.withLogNote(r)
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.logRequest(r, note, sw.status, d)
		route := note.pattern
		if route == "" {
			route = "unmatched"
		}
		if span.IsRecording() {
			span.SetName(route)
		}
		s.metrics.observe(route, sw.status, d)
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.DebugContext(r.Context(), "request", "method", r.Method, "route", route, "status", sw.status, "duration", d, "ip", s.clientIP(r))
		}
	})
}

// superuserAllowed reports whether rec may act from the request's client
// IP: any record may, except a superuser while the settings' superuserIPs
// name other addresses (the token then counts for nothing: a guest).
func (s *Server) superuserAllowed(r *http.Request, rec *schema.Record) bool {
	if !isSuperuser(rec) {
		return true
	}
	allowed := s.currentSettings().superuserIPs
	return len(allowed) == 0 || ratelimit.ContainsIP(allowed, s.clientIP(r))
}

// clientIP is the address the request came from: the connection's peer,
// unless the settings' trustedProxy names a header to read it from. Every
// use (rate limits and their excludedIPs, failed-login throttling, logs)
// goes through it, so they all agree on who the client is.
func (s *Server) clientIP(r *http.Request) string {
	return s.currentSettings().proxy.ClientIP(r)
}

// cors allows browser apps on other origins, as PocketBase does by default.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
				h.Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
				h.Set("Access-Control-Max-Age", "86400")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loadAuth resolves the Authorization header ("<token>" or "Bearer
// <token>"). As in PocketBase, an invalid token makes the request a guest's
// rather than failing it; rules then decide.
func (s *Server) loadAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimSpace(r.Header.Get("Authorization"))
		if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
			token = strings.TrimSpace(token[7:])
		}
		key := strings.TrimSpace(r.Header.Get("X-API-Key"))
		if key == "" && auth.LooksLikeAPIKey(token) {
			key, token = token, ""
		}
		if key != "" {
			// Unlike a stale user token, a bad server key is an error:
			// a misconfigured server should fail loudly, not act as a guest.
			k, err := s.apiKeys.verify(r.Context(), key)
			if errors.Is(err, errInvalidAPIKey) {
				s.writeError(w, r, unauthorized("The API key is invalid, expired or revoked."))
				return
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			r = r.WithContext(withAPIKey(r.Context(), k))
		} else if token != "" {
			if rec, claims, err := s.tokens.Verify(r.Context(), token, auth.TypeAuth); err == nil && s.superuserAllowed(r, rec) {
				r = r.WithContext(withAuth(r.Context(), rec, claims))
				noteAuth(r.Context(), rec)
			}
		}
		next.ServeHTTP(w, r)
	})
}
