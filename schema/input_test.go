package schema

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestApplyModifierOrder: one body's modifiers of one field apply as
// PocketBase applies them (the plain value, prepend, append, remove),
// whatever order the map yields the keys in.
func TestApplyModifierOrder(t *testing.T) {
	c := &Collection{}
	if err := json.Unmarshal([]byte(`{"id":"c1","name":"posts","type":"base","fields":[
		{"id":"f_id","name":"id","type":"text","primaryKey":true,"system":true},
		{"id":"f_tags","name":"tags","type":"select","maxSelect":5,"values":["a","b","c","d"]}]}`), c); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		r := NewRecord(c)
		if errs := Apply(r, map[string]any{"tags": []any{"a"}, "+tags": "d", "tags+": "c", "tags-": "c"}, true); len(errs) > 0 {
			t.Fatal(errs)
		}
		if got := r.Get("tags"); !slices.Equal(got.([]string), []string{"d", "a"}) {
			t.Fatalf("tags = %v, want [d a]", got)
		}
	}
}
