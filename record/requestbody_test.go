package record

import (
	"encoding/json"
	"testing"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// TestResolvedModifiersWinOverPlainKeys: with a plain key and a modifier
// of the same field in one body ({"n": 5, "n+": 7}), rules see the value
// the record gets (12), never the plain one, whatever order the map's
// keys come in. It depended on that order: a create the rule
// "@request.body.n < 10" should refuse went through about one time in ten.
func TestResolvedModifiersWinOverPlainKeys(t *testing.T) {
	c := &schema.Collection{}
	if err := json.Unmarshal([]byte(`{"id":"c1","name":"counters","type":"base","fields":[
		{"id":"f_id","name":"id","type":"text","primaryKey":true,"system":true},
		{"id":"f_n","name":"n","type":"number"}]}`), c); err != nil {
		t.Fatal(err)
	}
	base := schema.NewRecord(c)
	for range 200 {
		caller := &Caller{Request: &filter.RequestInfo{Body: map[string]any{"n": 5.0, "n+": 7.0}}}
		got := withResolvedModifiers(caller, base).Request.Body["n"]
		if got != 12.0 {
			t.Fatalf("@request.body.n = %v, want 12", got)
		}
	}
}
