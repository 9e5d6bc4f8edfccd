package client_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/plinthdev/plinth/client"
)

type named string

func TestFilter(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("CET", 3600))
	s := "x"
	var nilPtr *string
	for _, tt := range []struct {
		name, expr string
		params     map[string]any
		want       string
	}{
		{"no params", "a = {:a}", nil, "a = {:a}"},
		{"string", "a = {:a}", map[string]any{"a": "hi"}, `a = "hi"`},
		{"quotes and backslash", "a = {:a}", map[string]any{"a": `it's "x" \ y`}, `a = "it's \"x\" \\ y"`},
		{"an attempt to end the literal", "a = {:a}", map[string]any{"a": `" || 1 = 1 || "`}, `a = "\" || 1 = 1 || \""`},
		{"line breaks", "a = {:a}", map[string]any{"a": "1\n2\r3\t4"}, `a = "1\n2\r3\t4"`},
		{"unicode and html", "a = {:a}", map[string]any{"a": "ünï <b>&"}, `a = "ünï <b>&"`},
		{"numbers", "a = {:i} && b = {:f} && c = {:u} && d = {:n}", map[string]any{"i": -3, "f": 2.5, "u": uint8(7), "n": json.Number("12")}, `a = -3 && b = 2.5 && c = 7 && d = 12`},
		{"bools and nil", "a = {:t} && b = {:f} && c = {:n} && d = {:p}", map[string]any{"t": true, "f": false, "n": nil, "p": nilPtr}, `a = true && b = false && c = null && d = null`},
		{"pointer and named string", "a = {:p} && b = {:n}", map[string]any{"p": &s, "n": named("y\"z")}, `a = "x" && b = "y\"z"`},
		{"time, in UTC", "a > {:t}", map[string]any{"t": ts}, `a > "2024-01-02 02:04:05.600Z"`},
		{"time pointer", "a > {:t}", map[string]any{"t": &ts}, `a > "2024-01-02 02:04:05.600Z"`},
		{"array and object as JSON strings", "a = {:a} && b = {:b}", map[string]any{"a": []string{"x", "y"}, "b": map[string]int{"k": 1}},
			`a = "[\"x\",\"y\"]" && b = "{\"k\":1}"`},
		{"repeated", "a = {:a} || b = {:a}", map[string]any{"a": 1}, `a = 1 || b = 1`},
		{"not substituted twice", "a = {:a} && b = {:b}", map[string]any{"a": "{:b}", "b": 2}, `a = "{:b}" && b = 2`},
		{"unknown placeholder kept", "a = {:a} && b = {:zz}", map[string]any{"a": 1}, `a = 1 && b = {:zz}`},
		{"no closing brace", "a = {:a", map[string]any{"a": 1}, `a = {:a`},
		{"nested opening", "a = {:x{:a}", map[string]any{"a": 1}, `a = {:x1`},
	} {
		got, err := client.Filter(tt.expr, tt.params)
		if err != nil || got != tt.want {
			t.Errorf("%s: Filter(%q) = %q, %v; want %q", tt.name, tt.expr, got, err, tt.want)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), make(chan int)} {
		if got, err := client.Filter("a = {:a}", map[string]any{"a": v}); err == nil {
			t.Errorf("Filter with %T gave %q, want an error", v, got)
		}
	}
}
