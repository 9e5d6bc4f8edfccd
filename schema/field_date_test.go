package schema

import (
	"testing"
	"time"
)

func TestDateNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "date", nil, false)
	const want = "2024-03-05 14:30:00.000Z"
	runNormalize(t, f, []normCase{
		{name: "canonical", in: "2024-03-05 14:30:00.000Z", want: want},
		{name: "rfc3339", in: "2024-03-05T14:30:00Z", want: want},
		{name: "rfc3339 offset", in: "2024-03-05T16:30:00+02:00", want: want},
		{name: "rfc3339 nanos", in: "2024-03-05T14:30:00.123456789Z", want: "2024-03-05 14:30:00.123Z"},
		{name: "space offset", in: "2024-03-05 09:30:00-05:00", want: want},
		{name: "offset without colon", in: "2024-03-05T16:30:00+0200", want: want},
		{name: "no zone", in: "2024-03-05 14:30:00", want: want},
		{name: "no zone T", in: "2024-03-05T14:30:00", want: want},
		{name: "no seconds", in: "2024-03-05 14:30", want: want},
		{name: "day", in: "2024-03-05", want: "2024-03-05 00:00:00.000Z"},
		{name: "padded", in: " 2024-03-05 ", want: "2024-03-05 00:00:00.000Z"},
		{name: "time", in: time.Date(2024, 3, 5, 15, 30, 0, 0, time.FixedZone("x", 3600)), want: want},
		{name: "zero time", in: time.Time{}, want: ""},
		{name: "empty", in: "", want: ""},
		{name: "null", in: nil, want: ""},
		{name: "garbage", in: "yesterday", code: "validation_invalid_date"},
		{name: "bad month", in: "2024-13-01", code: "validation_invalid_date"},
		{name: "number", in: 1700000000.0, code: "validation_invalid_date"},
		{name: "object", in: map[string]any{}, code: "validation_invalid_date"},
		{name: "year zero", in: "0000-01-01", code: "validation_invalid_date"},
	})
}

func TestParseFormatDate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"2024-01-02 03:04:05.678Z", "2024-01-02 03:04:05.678Z", true},
		{"2024-01-02T03:04:05.678-01:00", "2024-01-02 04:04:05.678Z", true},
		{"9999-12-31 23:59:59.999Z", "9999-12-31 23:59:59.999Z", true},
		{"0001-01-01 00:00:00.001Z", "0001-01-01 00:00:00.001Z", true},
		{"", "", false},
		{"2024-02-30", "", false},
		{"2024-01-02T03:04:05+25:00", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDate(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseDate(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if got.Location() != time.UTC {
				t.Fatalf("ParseDate(%q) location = %v, want UTC", tc.in, got.Location())
			}
			if s := FormatDate(got); s != tc.want {
				t.Fatalf("FormatDate(ParseDate(%q)) = %q, want %q", tc.in, s, tc.want)
			}
			if again, err := ParseDate(tc.want); err != nil || !again.Equal(got) {
				t.Fatalf("canonical form %q does not round-trip: %v, %v", tc.want, again, err)
			}
		})
	}
	if FormatDate(time.Time{}) != "" {
		t.Fatal("FormatDate(zero) must be empty")
	}
}

func TestDateValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "date", nil, false)
	req := newTestField(t, "date", nil, true)
	bounded := newTestField(t, "date", &DateOptions{Min: "2024-01-01", Max: "2024-12-31 23:59:59.999Z"}, false)
	runValidate(t, []valCase{
		{"empty optional", plain, "", ""},
		{"empty required", req, "", "validation_required"},
		{"set required", req, "2024-01-01 00:00:00.000Z", ""},
		{"at min", bounded, "2024-01-01 00:00:00.000Z", ""},
		{"before min", bounded, "2023-12-31 23:59:59.999Z", "validation_min_date_constraint"},
		{"at max", bounded, "2024-12-31 23:59:59.999Z", ""},
		{"after max", bounded, "2025-01-01 00:00:00.000Z", "validation_max_date_constraint"},
		{"garbage", plain, "soon", "validation_invalid_date"},
		{"wrong type", plain, 1.0, "validation_invalid_date"},
	})
}

func TestDateCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "date", nil, nil, []optCase{
		{name: "none", opts: &DateOptions{}},
		{name: "range", opts: &DateOptions{Min: "2024-01-01", Max: "2024-01-01 00:00:00.000Z"}},
		{name: "bad min", opts: &DateOptions{Min: "x"}, keys: []string{"min"}},
		{name: "bad max", opts: &DateOptions{Max: "x"}, keys: []string{"max"}},
		{name: "max before min", opts: &DateOptions{Min: "2024-01-02", Max: "2024-01-01"}, keys: []string{"max"}},
	})
}
