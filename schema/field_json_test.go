package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "json", nil, false)
	runNormalize(t, f, []normCase{
		{name: "object", in: decode(t, `{"b": [1, 2], "a": "<x>"}`), want: raw(`{"a":"<x>","b":[1,2]}`)},
		{name: "array", in: []any{1.0, "x", nil}, want: raw(`[1,"x",null]`)},
		{name: "number", in: 2.5, want: raw(`2.5`)},
		{name: "bool", in: false, want: raw(`false`)},
		{name: "null", in: nil, want: json.RawMessage(nil)},
		{name: "json text object", in: ` {"a" : 1} `, want: raw(`{"a":1}`)},
		{name: "json text number", in: "123", want: raw(`123`)},
		{name: "json text null", in: "null", want: json.RawMessage(nil)},
		{name: "plain string", in: "hello <b>", want: raw(`"hello <b>"`)},
		{name: "empty string", in: "", want: raw(`""`)},
		{name: "raw message", in: raw(`{ "a": [ ] }`), want: raw(`{"a":[]}`)},
		{name: "empty raw message", in: json.RawMessage{}, want: json.RawMessage(nil)},
		{name: "bytes", in: []byte(`[ 1 ]`), want: raw(`[1]`)},
		{name: "invalid raw message", in: raw(`{`), code: "validation_invalid_json"},
		{name: "invalid bytes", in: []byte(`nope`), code: "validation_invalid_json"},
		{name: "unencodable", in: map[string]any{"f": func() {}}, code: "validation_invalid_json"},
	})
}

func TestJSONValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "json", nil, false)
	req := newTestField(t, "json", nil, true)
	small := newTestField(t, "json", &JSONOptions{MaxSize: 8}, false)
	big := json.RawMessage(`"` + strings.Repeat("x", DefaultJSONMaxSize) + `"`)
	runValidate(t, []valCase{
		{"null optional", plain, json.RawMessage(nil), ""},
		{"value optional", plain, raw(`{"a":1}`), ""},
		{"null required", req, json.RawMessage(nil), "validation_required"},
		{"null text required", req, raw(`null`), "validation_required"},
		{"empty string required", req, raw(`""`), "validation_required"},
		{"empty array required", req, raw(`[]`), "validation_required"},
		{"empty object required", req, raw(`{}`), "validation_required"},
		{"zero required", req, raw(`0`), ""},
		{"false required", req, raw(`false`), ""},
		{"at limit", small, raw(`[1,2,33]`), ""},
		{"over limit", small, raw(`[1,2,333]`), "validation_json_size_limit"},
		{"over default limit", plain, big, "validation_json_size_limit"},
		{"invalid", plain, raw(`{`), "validation_invalid_json"},
		{"wrong type", plain, "{}", "validation_invalid_json"},
	})
}

func TestJSONCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "json", nil, nil, []optCase{
		{name: "defaults", opts: &JSONOptions{}},
		{name: "size", opts: &JSONOptions{MaxSize: 10}},
		{name: "negative", opts: &JSONOptions{MaxSize: -1}, keys: []string{"maxSize"}},
	})
}
