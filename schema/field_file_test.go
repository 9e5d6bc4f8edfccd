package schema

import "testing"

func TestFileNormalize(t *testing.T) {
	t.Parallel()
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		runNormalize(t, newTestField(t, "file", nil, false), []normCase{
			{name: "name", in: "photo_ab12cd.png", want: "photo_ab12cd.png"},
			{name: "null", in: nil, want: ""},
			{name: "list", in: []any{"a.txt"}, want: "a.txt"},
			{name: "path", in: "../etc/passwd", code: "validation_invalid_value"},
			{name: "backslash", in: `a\b.txt`, code: "validation_invalid_value"},
			{name: "dot file", in: ".htaccess", code: "validation_invalid_value"},
			{name: "control char", in: "a\nb.txt", code: "validation_invalid_value"},
			{name: "object", in: map[string]any{}, code: "validation_invalid_value"},
		})
	})
	t.Run("multi", func(t *testing.T) {
		t.Parallel()
		runNormalize(t, newTestField(t, "file", &FileOptions{MaxSelect: 3}, false), []normCase{
			{name: "list", in: []any{"a.txt", "b.txt", "a.txt"}, want: []string{"a.txt", "b.txt"}},
			{name: "string", in: "a.txt", want: []string{"a.txt"}},
			{name: "null", in: nil, want: []string{}},
			{name: "bad name", in: []any{"a/b"}, code: "validation_invalid_value"},
		})
	})
}

func TestFileValidate(t *testing.T) {
	t.Parallel()
	single := newTestField(t, "file", nil, false)
	req := newTestField(t, "file", nil, true)
	multi := newTestField(t, "file", &FileOptions{MaxSelect: 2}, true)
	runValidate(t, []valCase{
		{"single empty", single, "", ""},
		{"single required", req, "", "validation_required"},
		{"single name", req, "a.txt", ""},
		{"single bad name", single, "a/b", "validation_invalid_value"},
		{"multi required", multi, []string{}, "validation_required"},
		{"multi ok", multi, []string{"a.txt", "b.txt"}, ""},
		{"multi too many", multi, []string{"a", "b", "c"}, "validation_too_many_values"},
		{"multi wrong type", multi, "a.txt", "validation_invalid_value"},
	})
}

func TestFileModify(t *testing.T) {
	t.Parallel()
	runModify(t, newTestField(t, "file", &FileOptions{MaxSelect: 9}, false), []modCase{
		{name: "remove", cur: []string{"a.txt", "b.txt"}, op: "-", arg: "a.txt", want: []string{"b.txt"}},
		{name: "append", cur: []string{"a.txt"}, op: "+", arg: []any{"b.txt"}, want: []string{"a.txt", "b.txt"}},
		{name: "append bad", cur: []string{}, op: "+", arg: "../x", code: "validation_invalid_value"},
	})
}

func TestFileCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "file", nil, nil, []optCase{
		{name: "defaults", opts: &FileOptions{MaxSelect: 1}},
		{name: "full", opts: &FileOptions{MaxSelect: 5, MaxSize: 1 << 30, MimeTypes: []string{"image/png", "application/pdf"},
			Thumbs: []string{"100x100", "100x50t", "100x50b", "100x50f", "0x300", "300x0"}, Protected: true}},
		{name: "negative", opts: &FileOptions{MaxSelect: -1, MaxSize: -1}, keys: []string{"maxSelect", "maxSize"}},
		{name: "bad mime", opts: &FileOptions{MimeTypes: []string{"png"}}, keys: []string{"mimeTypes"}},
		{name: "bad thumb 0x0", opts: &FileOptions{Thumbs: []string{"0x0"}}, keys: []string{"thumbs"}},
		{name: "bad thumb mode", opts: &FileOptions{Thumbs: []string{"10x10z"}}, keys: []string{"thumbs"}},
		{name: "bad thumb text", opts: &FileOptions{Thumbs: []string{"big"}}, keys: []string{"thumbs"}},
	})
}

func TestParseThumb(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		w, h int
		mode byte
		ok   bool
	}{
		{"100x50", 100, 50, 0, true},
		{"100x50t", 100, 50, 't', true},
		{"100x50b", 100, 50, 'b', true},
		{"100x50f", 100, 50, 'f', true},
		{"0x50", 0, 50, 0, true},
		{"100x0", 100, 0, 0, true},
		{"0x0", 0, 0, 0, false},
		{"x50", 0, 0, 0, false},
		{"100X50", 0, 0, 0, false},
		{"-1x5", 0, 0, 0, false},
		{"123456x1", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tc := range cases {
		w, h, mode, ok := ParseThumb(tc.in)
		if w != tc.w || h != tc.h || mode != tc.mode || ok != tc.ok {
			t.Errorf("ParseThumb(%q) = %d, %d, %q, %v; want %d, %d, %q, %v", tc.in, w, h, mode, ok, tc.w, tc.h, tc.mode, tc.ok)
		}
	}
}

func TestFileHelpers(t *testing.T) {
	t.Parallel()
	o := &FileOptions{MimeTypes: []string{"image/png"}, Thumbs: []string{"10x10"}}
	if !o.AllowsMIME("image/PNG; charset=binary") || o.AllowsMIME("image/jpeg") || o.AllowsMIME("???") {
		t.Error("AllowsMIME with a list")
	}
	if !(&FileOptions{}).AllowsMIME("anything/at-all") {
		t.Error("AllowsMIME without a list must allow everything")
	}
	if !o.HasThumb("10x10") || o.HasThumb("20x20") {
		t.Error("HasThumb")
	}
	if o.MaxBytes() != DefaultFileMaxSize || (&FileOptions{MaxSize: 10}).MaxBytes() != 10 {
		t.Error("MaxBytes")
	}
}
