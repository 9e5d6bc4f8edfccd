package schema

import (
	"testing"
	"time"
)

func TestAutodateNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "autodate", &AutodateOptions{OnCreate: true}, false)
	runNormalize(t, f, []normCase{
		{name: "canonical unchanged", in: "2024-03-05 14:30:00.000Z", want: "2024-03-05 14:30:00.000Z"},
		{name: "rfc3339", in: "2024-03-05T14:30:00Z", want: "2024-03-05 14:30:00.000Z"},
		{name: "empty", in: "", want: ""},
		{name: "null", in: nil, want: ""},
		{name: "garbage", in: "now", code: "validation_invalid_date"},
		{name: "object", in: map[string]any{}, code: "validation_invalid_date"},
	})
}

func TestAutodateValidate(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "autodate", &AutodateOptions{OnCreate: true}, true)
	runValidate(t, []valCase{
		{"empty even if required", f, "", ""},
		{"date", f, "2024-03-05 14:30:00.000Z", ""},
		{"garbage", f, "x", "validation_invalid_date"},
		{"wrong type", f, 0.0, "validation_invalid_date"},
	})
}

func TestAutodateStamp(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 6, 7, 8, 9, 10_000_000, time.FixedZone("x", -7200))
	const stamped = "2024-05-06 09:08:09.010Z"
	const old = "2000-01-01 00:00:00.000Z"
	cases := []struct {
		name     string
		opts     AutodateOptions
		creating bool
		want     string
	}{
		{"created on create", AutodateOptions{OnCreate: true}, true, stamped},
		{"created on update", AutodateOptions{OnCreate: true}, false, old},
		{"updated on create", AutodateOptions{OnUpdate: true}, true, old},
		{"updated on update", AutodateOptions{OnUpdate: true}, false, stamped},
		{"both on create", AutodateOptions{OnCreate: true, OnUpdate: true}, true, stamped},
		{"both on update", AutodateOptions{OnCreate: true, OnUpdate: true}, false, stamped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			f := &Field{Name: "stamp", Type: "autodate", Options: &opts}
			r := NewRecord(&Collection{Name: "c", Fields: []*Field{f}})
			r.Set("stamp", old)
			opts.Stamp(f, r, tc.creating, now)
			if got := r.GetString("stamp"); got != tc.want {
				t.Fatalf("after Stamp: %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAutodateCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "autodate", nil, nil, []optCase{
		{name: "onCreate", opts: &AutodateOptions{OnCreate: true}},
		{name: "onUpdate", opts: &AutodateOptions{OnUpdate: true}},
		{name: "neither", opts: &AutodateOptions{}, keys: []string{"onCreate", "onUpdate"}},
	})
}
