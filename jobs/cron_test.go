package jobs_test

import (
	"testing"
	"time"

	"github.com/plinthdev/plinth/jobs"
)

func TestSchedule(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ expr, from, next string }{
		{"* * * * *", "2026-01-01 10:00", "2026-01-01 10:01"},
		{"*/15 * * * *", "2026-01-01 10:01", "2026-01-01 10:15"},
		{"0 3 * * *", "2026-01-01 10:00", "2026-01-02 03:00"},
		{"@hourly", "2026-01-01 10:30", "2026-01-01 11:00"},
		{"@daily", "2026-01-01 10:30", "2026-01-02 00:00"},
		{"@weekly", "2026-01-01 10:30", "2026-01-04 00:00"}, // a Sunday
		{"@monthly", "2026-01-15 10:30", "2026-02-01 00:00"},
		{"@yearly", "2026-01-15 10:30", "2027-01-01 00:00"},
		{"0 0 1-7 * 1", "2026-01-01 00:00", "2026-01-05 00:00"}, // first Monday: day AND weekday
		{"30 8 13 * 5", "2026-01-01 00:00", "2026-02-13 08:30"}, // Friday the 13th
		{"5,10 1-2/1 * 2 *", "2026-01-01 00:00", "2026-02-01 01:05"},
	} {
		s, err := jobs.ParseSchedule(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := s.Next(at(tc.from)); !got.Equal(at(tc.next)) {
			t.Errorf("%s after %s: %s, want %s", tc.expr, tc.from, got.Format("2006-01-02 15:04 Mon"), tc.next)
		}
	}
	if s, _ := jobs.ParseSchedule("0 0 31 2 *"); !s.Next(at("2026-01-01 00:00")).IsZero() {
		t.Error("February 31 has a tick")
	}
	for _, bad := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7", "*/0 * * * *", "5-1 * * * *", "@often", "a * * * *"} {
		if _, err := jobs.ParseSchedule(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
