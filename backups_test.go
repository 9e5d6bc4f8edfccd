package plinth_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestScheduledBackups: the backup schedule in the settings is checked
// when saved, and the cron __pbDBBackup__ (run now through the crons API
// here) makes a backup when the schedule names the minute, keeping the
// cronMaxKeep newest scheduled ones and never touching backups made by
// hand.
func TestScheduledBackups(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		if err := h.app.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.call("PATCH", "/api/settings", `{"backups":{"cron":"61 * * * *"}}`, h.su, 400, nil)
		h.call("PATCH", "/api/settings", `{"backups":{"cron":"@daily","cronMaxKeep":2}}`, h.su, 200, nil)
		h.call("POST", "/api/backups", `{"name":"by_hand.zip"}`, h.su, 204, nil)
		auto := func() []string {
			var list []struct{ Key string }
			h.call("GET", "/api/backups", "", h.su, 200, &list)
			var out []string
			for _, b := range list {
				if strings.HasPrefix(b.Key, "auto_") {
					out = append(out, b.Key)
				}
			}
			return out
		}
		// @daily does not name this minute (unless the test runs at
		// midnight): running the cron makes nothing.
		if now := time.Now().UTC(); now.Hour() != 0 || now.Minute() != 0 {
			h.call("POST", "/api/crons/__pbDBBackup__", "", h.su, 204, nil)
			time.Sleep(300 * time.Millisecond)
			if got := auto(); len(got) != 0 {
				t.Fatalf("a backup off schedule: %v", got)
			}
		}
		h.call("PATCH", "/api/settings", `{"backups":{"cron":"* * * * *"}}`, h.su, 200, nil)
		var before []string
		for i := 1; i <= 3; i++ {
			h.call("POST", "/api/crons/__pbDBBackup__", "", h.su, 204, nil)
			// Each run adds one; the third prunes the oldest.
			deadline := time.Now().Add(10 * time.Second)
			// done: the expected count, and the newest (listed first) is
			// one the run made.
			done := func(got []string) bool {
				return len(got) == min(i, 2) && !slices.Contains(before, got[0])
			}
			for got := auto(); !done(got); got = auto() {
				if time.Now().After(deadline) {
					t.Fatalf("run %d: scheduled backups %v (before %v)", i, got, before)
				}
				time.Sleep(50 * time.Millisecond)
			}
			before = auto()
			time.Sleep(1100 * time.Millisecond) // names are to the second
		}
		var list []struct{ Key string }
		h.call("GET", "/api/backups", "", h.su, 200, &list)
		if len(list) != 3 || !strings.Contains(string(h.call("GET", "/api/backups", "", h.su, 200, nil)), `"by_hand.zip"`) {
			t.Errorf("backups after pruning: %+v", list)
		}
	})
}
