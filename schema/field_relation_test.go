package schema

import "testing"

func testLookup(cols ...*Collection) Lookup {
	return func(idOrName string) *Collection {
		for _, c := range cols {
			if c.ID == idOrName || c.Name == idOrName {
				return c
			}
		}
		return nil
	}
}

func relationField(t *testing.T, minSelect, maxSelect int, required bool) *Field {
	return newTestField(t, "relation", &RelationOptions{CollectionID: "pbc_users", MinSelect: minSelect, MaxSelect: maxSelect}, required)
}

func TestRelationNormalize(t *testing.T) {
	t.Parallel()
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		runNormalize(t, relationField(t, 0, 1, false), []normCase{
			{name: "id", in: "abc123", want: "abc123"},
			{name: "null", in: nil, want: ""},
			{name: "one-element list", in: []any{"abc123"}, want: "abc123"},
			{name: "bad id", in: "ABC!", code: "validation_invalid_value"},
			{name: "two ids", in: []any{"a", "b"}, code: "validation_too_many_values"},
			{name: "object", in: map[string]any{"id": "a"}, code: "validation_invalid_value"},
		})
	})
	t.Run("multi", func(t *testing.T) {
		t.Parallel()
		runNormalize(t, relationField(t, 0, 5, false), []normCase{
			{name: "list", in: []any{"b", "a", "b"}, want: []string{"b", "a"}},
			{name: "string", in: "a", want: []string{"a"}},
			{name: "empty", in: "", want: []string{}},
			{name: "bad id in list", in: []any{"a", "../x"}, code: "validation_invalid_value"},
			{name: "long id", in: []any{string(make([]byte, 101))}, code: "validation_invalid_value"},
		})
	})
}

func TestRelationValidate(t *testing.T) {
	t.Parallel()
	single := relationField(t, 0, 1, false)
	singleReq := relationField(t, 0, 1, true)
	multi := relationField(t, 2, 3, false)
	multiReq := relationField(t, 0, 3, true)
	runValidate(t, []valCase{
		{"single empty", single, "", ""},
		{"single required", singleReq, "", "validation_required"},
		{"single id", singleReq, "abc", ""},
		{"single bad id", single, "a b", "validation_invalid_value"},
		{"single wrong type", single, []string{"a"}, "validation_invalid_value"},
		{"multi empty skips min", multi, []string{}, ""},
		{"multi required empty", multiReq, []string{}, "validation_required"},
		{"multi below min", multi, []string{"a"}, "validation_not_enough_values"},
		{"multi ok", multi, []string{"a", "b"}, ""},
		{"multi too many", multi, []string{"a", "b", "c", "d"}, "validation_too_many_values"},
		{"multi bad id", multi, []string{"a", "B"}, "validation_invalid_value"},
	})
}

func TestRelationModify(t *testing.T) {
	t.Parallel()
	runModify(t, relationField(t, 0, 5, false), []modCase{
		{name: "append", cur: []string{"a"}, op: "+", arg: "b", want: []string{"a", "b"}},
		{name: "prepend", cur: []string{"a"}, op: "^", arg: []any{"c", "b"}, want: []string{"c", "b", "a"}},
		{name: "remove", cur: []string{"a", "b"}, op: "-", arg: "a", want: []string{"b"}},
		{name: "append bad id", cur: []string{"a"}, op: "+", arg: "no way", code: "validation_invalid_value"},
	})
}

func TestRelationCheckOptions(t *testing.T) {
	t.Parallel()
	users := &Collection{ID: "pbc_users", Name: "users", Type: TypeAuth}
	self := &Collection{ID: "pbc_self", Name: "posts", Type: TypeBase}
	lookup := testLookup(users)
	cases := []optCase{
		{name: "by id", opts: &RelationOptions{CollectionID: "pbc_users", MaxSelect: 1}},
		{name: "by name", opts: &RelationOptions{CollectionID: "users", MaxSelect: 1}},
		{name: "self", opts: &RelationOptions{CollectionID: "pbc_self", MaxSelect: 1}},
		{name: "missing id", opts: &RelationOptions{MaxSelect: 1}, keys: []string{"collectionId"}},
		{name: "unknown collection", opts: &RelationOptions{CollectionID: "nope", MaxSelect: 1}, keys: []string{"collectionId"}},
		{name: "min within max", opts: &RelationOptions{CollectionID: "users", MinSelect: 2, MaxSelect: 2}},
		{name: "min above max", opts: &RelationOptions{CollectionID: "users", MinSelect: 3, MaxSelect: 2}, keys: []string{"maxSelect"}},
		{name: "negative", opts: &RelationOptions{CollectionID: "users", MinSelect: -1, MaxSelect: -1}, keys: []string{"minSelect", "maxSelect"}},
	}
	runCheckOptions(t, "relation", self, lookup, cases)
	t.Run("nil lookup", func(t *testing.T) {
		t.Parallel()
		f := relationField(t, 0, 1, false)
		if errs := f.Options.CheckOptions(f, nil, nil); errs["collectionId"] == nil {
			t.Fatalf("CheckOptions without lookup = %v, want collectionId error", errs)
		}
	})
}

func TestRelationTarget(t *testing.T) {
	t.Parallel()
	users := &Collection{ID: "pbc_users", Name: "users"}
	o := &RelationOptions{CollectionID: "pbc_users"}
	if got := o.Target(testLookup(users)); got != users {
		t.Fatalf("Target = %v, want users", got)
	}
	if got := o.Target(nil); got != nil {
		t.Fatalf("Target(nil) = %v, want nil", got)
	}
	if got := (&RelationOptions{CollectionID: "x"}).Target(testLookup(users)); got != nil {
		t.Fatalf("Target(unknown) = %v, want nil", got)
	}
}
