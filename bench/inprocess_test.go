package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plinthdev/plinth"
)

// BenchmarkPlinthHandlerHealth sends GET /api/health through Plinth's
// http.Handler in process (no sockets, no load generator): the floor of
// Plinth's own per-request cost, including its database ping on SQLite.
func BenchmarkPlinthHandlerHealth(b *testing.B) {
	ctx := context.Background()
	app, err := plinth.New(ctx, plinth.Config{DataDir: b.TempDir(), DisableRateLimits: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	h := app.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/health", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
