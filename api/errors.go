package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Error is an API error: what the client is told (Status, Message, Data)
// kept apart from the Cause that is only logged.
type Error struct {
	Status  int
	Message string
	Data    any
	Cause   error
	// MFAID is set on the 401 that asks for a second authentication
	// method; it is sent as the body's top-level "mfaId", where the SDK
	// reads it (err.response.mfaId).
	MFAID string
	// RetryAfter, when positive, is sent as the Retry-After header (429).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

func badRequest(msg string, cause error) *Error {
	return &Error{Status: http.StatusBadRequest, Message: msg, Cause: cause}
}

func notFound() *Error {
	return &Error{Status: http.StatusNotFound, Message: "The requested resource wasn't found."}
}

func forbidden(msg string) *Error { return &Error{Status: http.StatusForbidden, Message: msg} }

func unauthorized(msg string) *Error { return &Error{Status: http.StatusUnauthorized, Message: msg} }

// toError maps any error from a capability to the API error the client sees.
func toError(err error) *Error {
	var ae *Error
	var ve schema.Errors
	var fe *filter.Error
	var ee *record.ExpandError
	var mbe *http.MaxBytesError
	var fna *filter.NotAllowedError
	var afe *authflow.Error
	if he, ok := hookError(err); ok {
		return he
	}
	switch {
	case errors.As(err, &fna):
		return forbidden("Only superusers can filter or sort by " + fna.What + ".")
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &afe):
		return authflowError(afe)
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: "Request body too large.", Cause: err}
	case errors.As(err, &ve):
		return &Error{Status: http.StatusBadRequest, Message: "Failed to validate the submitted data.", Data: ve, Cause: err}
	case errors.As(err, &fe):
		return badRequest("Invalid filter or sort: "+fe.Error(), err)
	case errors.As(err, &ee):
		return badRequest("Invalid expand: "+ee.Error(), err)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, files.ErrNotFound), errors.Is(err, files.ErrInvalidKey):
		return notFound()
	case errors.Is(err, record.ErrSuperusersOnly):
		return forbidden("Only superusers can perform this action.")
	case errors.Is(err, record.ErrOutOfScope):
		return forbidden("The API key's scopes do not allow this action.")
	case errors.Is(err, record.ErrRuleFailed):
		return badRequest("Failed to create record: the collection's create rule does not allow it.", err)
	case errors.Is(err, context.Canceled):
		return &Error{Status: 499, Message: "The request was canceled.", Cause: err}
	case errors.Is(err, store.ErrBatchAborted):
		return &Error{Status: http.StatusServiceUnavailable, Message: "The write was rolled back with others in its transaction; try again.", Cause: err}
	case errors.Is(err, store.ErrRelationsChanged):
		return &Error{Status: http.StatusConflict, Message: "A related record was created meanwhile; try again.", Cause: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Message: "The request timed out.", Cause: err}
	}
	return &Error{Status: http.StatusInternalServerError, Message: "Something went wrong while processing your request.", Cause: err}
}

// authflowError maps an auth flow's refusal to the API error.
func authflowError(e *authflow.Error) *Error {
	status := http.StatusBadRequest
	switch e.Kind {
	case authflow.Unauthenticated:
		status = http.StatusUnauthorized
	case authflow.Forbidden:
		status = http.StatusForbidden
	case authflow.NotFound:
		status = http.StatusNotFound
	case authflow.TooManyAttempts:
		status = http.StatusTooManyRequests
	}
	out := &Error{Status: status, Message: e.Message, Cause: e.Cause, MFAID: e.MFAID, RetryAfter: e.RetryAfter}
	if len(e.Data) > 0 {
		out.Data = e.Data
	}
	return out
}

// errorBody is the JSON body of an error response.
type errorBody struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
	MFAID   string `json:"mfaId,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if e.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", err)
	} else if e.Cause != nil {
		s.log.DebugContext(r.Context(), "request rejected", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", err)
	}
	data := e.Data
	if data == nil {
		data = struct{}{}
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	writeJSON(w, e.Status, errorBody{Status: e.Status, Message: e.Message, Data: data, MFAID: e.MFAID})
}

// handlerFunc is a handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}
