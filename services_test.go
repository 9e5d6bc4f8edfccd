package plinth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
)

// TestSettingsFromGo: settings read and patched from Go are what the REST
// API serves, and a bad patch is refused with field errors.
func TestSettingsFromGo(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		ctx := context.Background()
		next, err := h.app.PatchSettings(ctx, []byte(`{"meta":{"appName":"From Go"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if next.Meta.AppName != "From Go" || h.app.Settings().Meta.AppName != "From Go" {
			t.Fatalf("appName = %q / %q", next.Meta.AppName, h.app.Settings().Meta.AppName)
		}
		var got struct{ Meta struct{ AppName string } }
		h.call("GET", "/api/settings", "", h.su, 200, &got)
		if got.Meta.AppName != "From Go" {
			t.Fatalf("REST appName = %q", got.Meta.AppName)
		}
		var ve schema.Errors
		if _, err := h.app.PatchSettings(ctx, []byte(`{"meta":{"appName":""}}`)); !errors.As(err, &ve) {
			t.Fatalf("empty appName: %v, want schema.Errors", err)
		}
	})
}
