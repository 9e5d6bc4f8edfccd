package schema

import "testing"

func TestBoolNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "bool", nil, false)
	runNormalize(t, f, []normCase{
		{name: "true", in: true, want: true},
		{name: "false", in: false, want: false},
		{name: "null", in: nil, want: false},
		{name: "string true", in: "true", want: true},
		{name: "string TRUE", in: " TRUE ", want: true},
		{name: "string 1", in: "1", want: true},
		{name: "string false", in: "false", want: false},
		{name: "string 0", in: "0", want: false},
		{name: "empty string", in: "", want: false},
		{name: "checkbox on", in: "on", want: true},
		{name: "number 1", in: 1.0, want: true},
		{name: "number 0", in: 0.0, want: false},
		{name: "other string", in: "yes please", code: "validation_invalid_bool"},
		{name: "object", in: map[string]any{}, code: "validation_invalid_bool"},
		{name: "array", in: []any{true}, code: "validation_invalid_bool"},
	})
}

func TestBoolValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "bool", nil, false)
	req := newTestField(t, "bool", nil, true)
	runValidate(t, []valCase{
		{"false optional", plain, false, ""},
		{"true optional", plain, true, ""},
		{"false required", req, false, "validation_required"},
		{"true required", req, true, ""},
		{"wrong type", plain, "true", "validation_invalid_bool"},
	})
}

func TestBoolCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "bool", nil, nil, []optCase{{name: "none", opts: &BoolOptions{}}})
}
