package schema

import "testing"

func selectField(t *testing.T, maxSelect int, required bool) *Field {
	return newTestField(t, "select", &SelectOptions{Values: []string{"a", "b", "c", "1"}, MaxSelect: maxSelect}, required)
}

func TestSelectStorage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		maxSelect int
		want      Storage
		zero      any
	}{
		{0, StoreText, ""},
		{1, StoreText, ""},
		{2, StoreJSONArray, []string{}},
	}
	for _, tc := range cases {
		f := selectField(t, tc.maxSelect, false)
		if got := f.Storage(); got != tc.want {
			t.Errorf("maxSelect %d: storage %v, want %v", tc.maxSelect, got, tc.want)
		}
		if got := f.Options.Zero(f); !equalValues(got, tc.zero) {
			t.Errorf("maxSelect %d: zero %#v, want %#v", tc.maxSelect, got, tc.zero)
		}
	}
	if f, _ := NewField("select", "x"); f.Options.(*SelectOptions).MaxSelect != 1 {
		t.Error("default maxSelect must be 1")
	}
}

func TestSelectNormalize(t *testing.T) {
	t.Parallel()
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		runNormalize(t, selectField(t, 1, false), []normCase{
			{name: "string", in: "a", want: "a"},
			{name: "empty", in: "", want: ""},
			{name: "null", in: nil, want: ""},
			{name: "one-element list", in: []any{"b"}, want: "b"},
			{name: "empty list", in: []any{}, want: ""},
			{name: "duplicates collapse", in: []any{"b", "b"}, want: "b"},
			{name: "number", in: 1.0, want: "1"},
			{name: "json text kept literal", in: `["a"]`, want: `["a"]`},
			{name: "two values", in: []any{"a", "b"}, code: "validation_too_many_values"},
			{name: "object", in: map[string]any{"a": true}, code: "validation_invalid_value"},
			{name: "nested list", in: []any{[]any{"a"}}, code: "validation_invalid_value"},
		})
	})
	t.Run("multi", func(t *testing.T) {
		t.Parallel()
		runNormalize(t, selectField(t, 3, false), []normCase{
			{name: "list", in: []any{"b", "a"}, want: []string{"b", "a"}},
			{name: "dedupe keeps order", in: []any{"c", "a", "c", "", "a"}, want: []string{"c", "a"}},
			{name: "string", in: "a", want: []string{"a"}},
			{name: "empty", in: "", want: []string{}},
			{name: "null", in: nil, want: []string{}},
			{name: "go slice", in: []string{"a", "b"}, want: []string{"a", "b"}},
			{name: "json text", in: `["a","b"]`, want: []string{"a", "b"}},
			{name: "null elements skipped", in: []any{nil, "a"}, want: []string{"a"}},
			{name: "object", in: map[string]any{}, code: "validation_invalid_value"},
			{name: "object element", in: []any{"a", map[string]any{}}, code: "validation_invalid_value"},
		})
	})
}

func TestSelectValidate(t *testing.T) {
	t.Parallel()
	single := selectField(t, 1, false)
	singleReq := selectField(t, 1, true)
	multi := selectField(t, 2, false)
	multiReq := selectField(t, 2, true)
	runValidate(t, []valCase{
		{"single empty", single, "", ""},
		{"single required empty", singleReq, "", "validation_required"},
		{"single valid", singleReq, "b", ""},
		{"single unknown", single, "z", "validation_invalid_value"},
		{"single wrong type", single, []string{"a"}, "validation_invalid_value"},
		{"multi empty", multi, []string{}, ""},
		{"multi nil", multi, []string(nil), ""},
		{"multi required empty", multiReq, []string{}, "validation_required"},
		{"multi valid", multiReq, []string{"a", "c"}, ""},
		{"multi unknown", multi, []string{"a", "z"}, "validation_invalid_value"},
		{"multi too many", multi, []string{"a", "b", "c"}, "validation_too_many_values"},
		{"multi wrong type", multi, "a", "validation_invalid_value"},
	})
}

func TestSelectModify(t *testing.T) {
	t.Parallel()
	t.Run("multi", func(t *testing.T) {
		t.Parallel()
		runModify(t, selectField(t, 4, false), []modCase{
			{name: "append", cur: []string{"a"}, op: "+", arg: "b", want: []string{"a", "b"}},
			{name: "append list", cur: []string{"a"}, op: "+", arg: []any{"b", "c"}, want: []string{"a", "b", "c"}},
			{name: "append existing", cur: []string{"a", "b"}, op: "+", arg: "a", want: []string{"a", "b"}},
			{name: "prepend", cur: []string{"a"}, op: "^", arg: "b", want: []string{"b", "a"}},
			{name: "prepend moves", cur: []string{"a", "b"}, op: "^", arg: "b", want: []string{"b", "a"}},
			{name: "remove", cur: []string{"a", "b", "c"}, op: "-", arg: "b", want: []string{"a", "c"}},
			{name: "remove list", cur: []string{"a", "b", "c"}, op: "-", arg: []any{"a", "c"}, want: []string{"b"}},
			{name: "remove missing", cur: []string{"a"}, op: "-", arg: "z", want: []string{"a"}},
			{name: "to empty", cur: []string{"a"}, op: "-", arg: "a", want: []string{}},
			{name: "from null", cur: nil, op: "+", arg: "a", want: []string{"a"}},
			{name: "bad arg", cur: []string{}, op: "+", arg: map[string]any{}, code: "validation_invalid_value"},
			{name: "bad op", cur: []string{}, op: "*", arg: "a", code: "validation_invalid_modifier"},
		})
	})
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		runModify(t, selectField(t, 1, false), []modCase{
			{name: "append replaces", cur: "a", op: "+", arg: "b", want: "b"},
			{name: "prepend replaces", cur: "a", op: "^", arg: "c", want: "c"},
			{name: "remove match", cur: "a", op: "-", arg: "a", want: ""},
			{name: "remove other", cur: "a", op: "-", arg: "b", want: "a"},
			{name: "append nothing", cur: "a", op: "+", arg: "", want: "a"},
		})
	})
}

func TestSelectCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "select", nil, nil, []optCase{
		{name: "valid", opts: &SelectOptions{Values: []string{"a", "b"}, MaxSelect: 2}},
		{name: "no values", opts: &SelectOptions{MaxSelect: 1}, keys: []string{"values"}},
		{name: "duplicate values", opts: &SelectOptions{Values: []string{"a", "a"}, MaxSelect: 1}, keys: []string{"values"}},
		{name: "blank value", opts: &SelectOptions{Values: []string{""}, MaxSelect: 1}, keys: []string{"values"}},
		{name: "negative maxSelect", opts: &SelectOptions{Values: []string{"a"}, MaxSelect: -1}, keys: []string{"maxSelect"}},
		{name: "maxSelect above values", opts: &SelectOptions{Values: []string{"a"}, MaxSelect: 2}, keys: []string{"maxSelect"}},
	})
}

// equalValues compares canonical values, treating nil and empty []string alike.
func equalValues(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}
