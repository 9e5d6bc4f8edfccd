package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

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

// BenchmarkPlinthHandlerViewLogging views one record through Plinth's
// handler in process with the request log on (the default) and off
// (settings logs.maxDays 0): the cost of logging every request. Run it
// with -count to alternate the two.
func BenchmarkPlinthHandlerViewLogging(b *testing.B) {
	ctx := context.Background()
	app, err := plinth.New(ctx, plinth.Config{DataDir: b.TempDir(), DisableRateLimits: true, BcryptCost: 4}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	h := app.Handler()
	if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
		b.Fatal(err)
	}
	call := func(method, path, body, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec
	}
	var auth struct{ Token string }
	json.Unmarshal(call("POST", "/api/collections/_superusers/auth-with-password", `{"identity":"admin@example.com","password":"secret-pass-1"}`, "").Body.Bytes(), &auth)
	call("POST", "/api/collections", `{"name":"posts","listRule":"","viewRule":"","fields":[{"name":"title","type":"text"}]}`, auth.Token)
	var rec struct{ ID string }
	json.Unmarshal(call("POST", "/api/collections/posts/records", `{"title":"hello"}`, auth.Token).Body.Bytes(), &rec)
	path := "/api/collections/posts/records/" + rec.ID
	for _, days := range []int{5, 0} {
		call("PATCH", "/api/settings", fmt.Sprintf(`{"logs":{"maxDays":%d}}`, days), auth.Token)
		name := "log=on"
		if days == 0 {
			name = "log=off"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				call("GET", path, "", "")
			}
			// The log writer runs on another goroutine (another core):
			// wall time per request hides it, the process's CPU time
			// does not, and it is steadier on a busy machine.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
