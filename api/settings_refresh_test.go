package api

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/store"
)

// TestSettingsRefreshKeepsNewerSave checks the background refresh of the
// settings: what it read from the database before a save on this
// instance must not replace the saved settings afterwards. (It did: a
// PATCH answered 200 and GET then showed the old values until the next
// refresh, as the dashboard's browser test once saw on PostgreSQL.)
func TestSettingsRefreshKeepsNewerSave(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(st, auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), st), slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry(), Config{DisableRateLimits: true})
	if err := s.LoadSettings(ctx); err != nil {
		t.Fatal(err)
	}
	// Another instance saved its settings (app name "Other")...
	before := s.sys.live.Load()
	other := strings.Replace(before.stored, `"appName":"Plinth"`, `"appName":"Other"`, 1)
	if other == before.stored {
		t.Fatalf("no default app name in %s", before.stored)
	}
	// ...a refresh starts and reads them, a save here lands meanwhile...
	if _, err := s.PatchSettings(ctx, []byte(`{"meta":{"appName":"Acme backend"}}`)); err != nil {
		t.Fatal(err)
	}
	// ...and the refresh finishes with what it read.
	s.refreshFrom(before, other)
	if got := s.Settings().Meta.AppName; got != "Acme backend" {
		t.Fatalf("app name after a stale refresh: %q", got)
	}
	// A refresh that read the new value changes nothing either.
	cur := s.sys.live.Load()
	s.refreshFrom(cur, cur.stored)
	if got := s.Settings().Meta.AppName; got != "Acme backend" {
		t.Fatalf("app name after a current refresh: %q", got)
	}
}
