package schema

import (
	"strings"
	"testing"
)

func TestEditorNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "editor", nil, false)
	runNormalize(t, f, []normCase{
		{name: "html", in: "<p>hi</p>", want: "<p>hi</p>"},
		{name: "null", in: nil, want: ""},
		{name: "number", in: 2.0, want: "2"},
		{name: "object", in: map[string]any{}, code: "validation_invalid_value"},
	})
}

func TestEditorValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "editor", nil, false)
	req := newTestField(t, "editor", nil, true)
	small := newTestField(t, "editor", &EditorOptions{MaxSize: 10}, false)
	runValidate(t, []valCase{
		{"empty optional", plain, "", ""},
		{"empty required", req, "", "validation_required"},
		{"at limit", small, "<p>123</p>", ""},
		{"over limit", small, "<p>1234</p>", "validation_content_size_limit"},
		{"default limit", plain, strings.Repeat("x", DefaultEditorMaxSize), ""},
		{"over default limit", plain, strings.Repeat("x", DefaultEditorMaxSize+1), "validation_content_size_limit"},
		{"wrong type", plain, 1.0, "validation_invalid_value"},
	})
}

func TestEditorCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "editor", nil, nil, []optCase{
		{name: "defaults", opts: &EditorOptions{}},
		{name: "convertURLs", opts: &EditorOptions{ConvertURLs: true, MaxSize: 100}},
		{name: "negative size", opts: &EditorOptions{MaxSize: -1}, keys: []string{"maxSize"}},
	})
}
