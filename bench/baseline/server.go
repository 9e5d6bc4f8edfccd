package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"time"
)

// collection identifies one collection with the posts schema.
type collection struct {
	id, name  string
	table     string // quoted table name
	ownerRule bool   // list/view rule is owner = @request.auth.id
}

// server is the baseline's http.Handler.
type server struct {
	st          *store
	collections map[string]*collection
	users       *usersTable // nil when auth is disabled
	mux         *http.ServeMux
}

func newServer(ctx context.Context, cfg config, st *store) (*server, error) {
	s := &server{st: st, collections: map[string]*collection{}, mux: http.NewServeMux()}
	for name, id := range cfg.collections {
		s.collections[name] = &collection{id: id, name: name, table: quoteIdent(name), ownerRule: cfg.ownerRule[name]}
	}
	if cfg.usersID != "" {
		u, err := loadUsersTable(ctx, st, cfg.usersID)
		if err != nil {
			log.Printf("baseline: auth disabled: %v", err)
		} else {
			s.users = u
		}
	}
	s.routes()
	return s, nil
}

// routes registers every endpoint the baseline serves.
func (s *server) routes() {
	s.mux.Handle("GET /api/health", handle(s.health))
	s.mux.Handle("GET /api/collections/{c}/records", handle(s.list))
	s.mux.Handle("GET /api/collections/{c}/records/{id}", handle(s.view))
	s.mux.Handle("POST /api/collections/{c}/records", handle(s.create))
	s.mux.Handle("PATCH /api/collections/{c}/records/{id}", handle(s.update))
	s.mux.Handle("POST /api/batch", handle(s.batch))
	s.mux.Handle("POST /api/collections/{c}/auth-with-password", handle(s.authWithPassword))
	s.mux.Handle("POST /api/collections/{c}/auth-refresh", handle(s.authRefresh))
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// fieldError is one entry of a PocketBase validation error's data.
type fieldError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// apiError is an error with the HTTP status and PocketBase error body.
type apiError struct {
	Status  int                   `json:"status"`
	Message string                `json:"message"`
	Data    map[string]fieldError `json:"data"`
	cause   error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.Message + ": " + e.cause.Error()
	}
	return e.Message
}

func newAPIError(status int, msg string, cause error) *apiError {
	return &apiError{Status: status, Message: msg, Data: map[string]fieldError{}, cause: cause}
}

var errNotFound = newAPIError(http.StatusNotFound, "The requested resource wasn't found.", nil)

// handle adapts a handler that returns an error into an http.Handler.
// Unknown errors become 500s and are logged.
func handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var ae *apiError
		if !errors.As(err, &ae) {
			log.Printf("baseline: %s %s: %v", r.Method, r.URL.Path, err)
			ae = newAPIError(http.StatusInternalServerError, "Something went wrong while processing your request.", err)
		}
		writeJSON(w, ae.Status, ae)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return newAPIError(http.StatusBadRequest, "Failed to load the submitted data due to invalid formatting.", err)
	}
	return nil
}

// health pings the database first, as Plinth does, so that both servers do
// the same work for the same answer.
func (s *server) health(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.read.PingContext(ctx); err != nil {
		return newAPIError(http.StatusServiceUnavailable, "The database is unavailable.", err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"code": 200, "message": "API is healthy.", "data": map[string]any{}})
}

// newID returns a PocketBase-style id: 15 characters of [a-z0-9].
func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [15]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// nowText formats t the way PocketBase stores dates.
func nowText() string {
	return time.Now().UTC().Format("2006-01-02 15:04:05.000Z")
}
