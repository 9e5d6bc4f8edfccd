package api

import (
	"context"
	"net/http"
	"time"
)

// health answers PocketBase's health check after pinging the database, so
// a load balancer stops sending traffic to an instance that lost it.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "The database is unavailable.", Cause: err}
	}
	data := map[string]any{}
	if isSuperuser(authRecord(r)) {
		data["version"] = s.cfg.Version
		data["database"] = s.store.Dialect().Name()
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": 200, "message": "API is healthy.", "data": data})
	return nil
}
