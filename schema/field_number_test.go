package schema

import (
	"encoding/json"
	"testing"
)

func TestNumberNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "number", nil, false)
	runNormalize(t, f, []normCase{
		{name: "float", in: 1.5, want: 1.5},
		{name: "int", in: 3, want: 3.0},
		{name: "null", in: nil, want: 0.0},
		{name: "string", in: " 42.25 ", want: 42.25},
		{name: "negative string", in: "-7", want: -7.0},
		{name: "exponent string", in: "1e3", want: 1000.0},
		{name: "empty string", in: "", want: 0.0},
		{name: "true", in: true, want: 1.0},
		{name: "false", in: false, want: 0.0},
		{name: "json number", in: json.Number("12"), want: 12.0},
		{name: "not a number", in: "abc", code: "validation_invalid_number"},
		{name: "NaN string", in: "NaN", code: "validation_invalid_number"},
		{name: "Inf string", in: "Inf", code: "validation_invalid_number"},
		{name: "overflow", in: "1e400", code: "validation_invalid_number"},
		{name: "object", in: map[string]any{"a": 1.0}, code: "validation_invalid_number"},
		{name: "array", in: []any{1.0}, code: "validation_invalid_number"},
	})
}

func TestNumberValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "number", nil, false)
	req := newTestField(t, "number", nil, true)
	bounded := newTestField(t, "number", &NumberOptions{Min: ptr(-1.5), Max: ptr(10.0)}, false)
	intOnly := newTestField(t, "number", &NumberOptions{OnlyInt: true}, false)
	positive := newTestField(t, "number", &NumberOptions{Min: ptr(1.0)}, false)
	runValidate(t, []valCase{
		{"zero optional", plain, 0.0, ""},
		{"any value", plain, -1e12, ""},
		{"zero required", req, 0.0, "validation_required"},
		{"non-zero required", req, 0.5, ""},
		{"at min", bounded, -1.5, ""},
		{"below min", bounded, -2.0, "validation_min_number_constraint"},
		{"at max", bounded, 10.0, ""},
		{"above max", bounded, 10.01, "validation_max_number_constraint"},
		{"zero skips min", positive, 0.0, ""},
		{"integer", intOnly, 4.0, ""},
		{"decimal", intOnly, 4.5, "validation_only_int_constraint"},
		{"wrong type", plain, "1", "validation_invalid_number"},
	})
}

func TestNumberModify(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "number", nil, false)
	runModify(t, f, []modCase{
		{name: "add", cur: 5.0, op: "+", arg: 2.5, want: 7.5},
		{name: "add string", cur: 5.0, op: "+", arg: "3", want: 8.0},
		{name: "subtract", cur: 5.0, op: "-", arg: 7.0, want: -2.0},
		{name: "from null", cur: nil, op: "+", arg: 1.0, want: 1.0},
		{name: "bad arg", cur: 1.0, op: "+", arg: "x", code: "validation_invalid_number"},
		{name: "prepend", cur: 1.0, op: "^", arg: 1.0, code: "validation_invalid_modifier"},
		{name: "overflow", cur: 1.7e308, op: "+", arg: 1.7e308, code: "validation_invalid_number"},
	})
}

func TestNumberCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "number", nil, nil, []optCase{
		{name: "defaults", opts: &NumberOptions{}},
		{name: "min and max", opts: &NumberOptions{Min: ptr(1.0), Max: ptr(1.0)}},
		{name: "max below min", opts: &NumberOptions{Min: ptr(2.0), Max: ptr(1.0)}, keys: []string{"max"}},
		{name: "onlyInt decimal bounds", opts: &NumberOptions{Min: ptr(0.5), Max: ptr(2.5), OnlyInt: true}, keys: []string{"min", "max"}},
	})
}
