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
	if !isSuperuser(authRecord(r)) {
		// Load balancers poll this: the common answer is written as is.
		writeRaw(w, http.StatusOK, healthyBody)
		return nil
	}
	// canBackup is PocketBase's: whether a backup can be made now (the
	// dashboard greys its button otherwise).
	data := map[string]any{"version": s.cfg.Version, "database": s.store.Dialect().Name(), "canBackup": s.backups != nil}
	writeJSON(w, http.StatusOK, map[string]any{"code": 200, "message": "API is healthy.", "data": data})
	return nil
}

var healthyBody = []byte(`{"code":200,"data":{},"message":"API is healthy."}`)
