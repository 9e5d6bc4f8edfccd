package api

import (
	"errors"
	"net/http"

	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
)

// Handle mounts a custom route on the API's own mux. It runs behind the
// same middleware as the built-in routes: panic recovery, metrics, CORS,
// token loading and the rate limits of the settings (a rule for the
// route's path, or the catch-all ones, applies to it as to any other).
// Patterns are net/http's ("POST /api/myapp/things/{id}"); a pattern that
// conflicts with a built-in route panics, as ServeMux does.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleFunc mounts h like Handle; the error it returns is answered in
// PocketBase's {status, message, data} shape (an *Error as it says, a
// *record.HookError with its status, anything else as a logged 500).
func (s *Server) HandleFunc(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.mux.Handle(pattern, s.handle(h))
}

// Records is the record service the API uses, hooks included, for Go code
// that reads and writes records without HTTP.
func (s *Server) Records() *record.Service { return s.records }

// AuthRecord returns the authenticated record of a request handled by the
// server (a user's or a superuser's), or nil for guests.
func AuthRecord(r *http.Request) *schema.Record { return authRecord(r) }

// Caller is the request's caller as the record service sees it: its auth
// record, API key and what rules read as @request.*.
func (s *Server) Caller(r *http.Request) *record.Caller { return s.caller(r, nil) }

// RequireAuth wraps h so that only authenticated callers (of one of the
// given auth collections, by name or id, when any are given) reach it.
func RequireAuth(h http.Handler, collections ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := authRecord(r)
		if rec == nil {
			WriteError(w, http.StatusUnauthorized, "The request requires valid record authorization token.", nil)
			return
		}
		if len(collections) > 0 && !inCollections(rec.Collection, collections) {
			WriteError(w, http.StatusForbidden, "The authorized record is not allowed to perform this action.", nil)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// RequireSuperuser wraps h so that only superusers reach it.
func RequireSuperuser(h http.Handler) http.Handler { return RequireAuth(h, superusersID) }

// RequireRule wraps h so that only callers whose own auth record satisfies
// rule reach it: the rule is a filter expression evaluated with the
// caller's record as the root record of its collection (for example
// `verified = true && role = "editor"`), with @request.* and @collection.*
// as in collection rules. Superusers pass; guests are refused.
func (s *Server) RequireRule(rule string, h http.Handler) http.Handler {
	return RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := authRecord(r)
		if isSuperuser(rec) {
			h.ServeHTTP(w, r)
			return
		}
		ok, err := s.store.MatchesRecord(r.Context(), rec, s.caller(r, nil).Request, rule)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !ok {
			WriteError(w, http.StatusForbidden, "The authorized record is not allowed to perform this action.", nil)
			return
		}
		h.ServeHTTP(w, r)
	}))
}

func inCollections(c *schema.Collection, names []string) bool {
	for _, n := range names {
		if n == c.ID || n == c.Name {
			return true
		}
	}
	return false
}

// WriteError answers with an error in PocketBase's shape:
// {"status": status, "message": message, "data": data}.
func WriteError(w http.ResponseWriter, status int, message string, data map[string]any) {
	var body any = struct{}{}
	if data != nil {
		body = data
	}
	writeJSON(w, status, errorBody{Status: status, Message: message, Data: body})
}

// hookError maps a hook's refusal to the API error it describes.
func hookError(err error) (*Error, bool) {
	var he *record.HookError
	if !errors.As(err, &he) {
		return nil, false
	}
	status := he.Status
	if status < 400 || status > 499 {
		status = http.StatusBadRequest
	}
	msg := he.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	var data any
	if he.Data != nil {
		data = he.Data
	}
	return &Error{Status: status, Message: msg, Data: data, Cause: err}, true
}
