package files_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/schema"
)

var storedName = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*_[a-z0-9]{10}(\.[a-z0-9]{1,20})?$`)

func TestSanitize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, prefix, ext string
	}{
		{"photo.jpg", "photo_", ".jpg"},
		{"My Photo.JPG", "my_photo_", ".jpg"},
		{"  Résumé (final) v2.PDF ", "r_sum_final_v2_", ".pdf"},
		{"archive.tar.gz", "archive_tar_", ".gz"},
		{"../../etc/passwd", "passwd_", ""},
		{`C:\Users\me\evil.exe`, "evil_", ".exe"},
		{"noext", "noext_", ""},
		{".bashrc", "bashrc_", ""},
		{"file.", "file_", ""},
		{"a.b", "a", ".b"},                                                 // short base: random padding
		{"", "", ""},                                                       // nothing at all: random
		{"日本語.txt", "", ".txt"},                                            // no ASCII letters: random base
		{"x.ThisExtensionIsWayTooLongToKeep", "", ".oniswaytoolongtokeep"}, // the last 20
		{"pic.jp g", "pic_", ".jpg"},
		{"a\x00b\nc.png", "a_b_c_", ".png"},
	} {
		got := files.Sanitize(tt.in)
		if !storedName.MatchString(got) || !schema.ValidFileName(got) {
			t.Errorf("Sanitize(%q) = %q: bad shape", tt.in, got)
			continue
		}
		if !strings.HasPrefix(got, tt.prefix) {
			t.Errorf("Sanitize(%q) = %q, want prefix %q", tt.in, got, tt.prefix)
		}
		wantExt := tt.ext
		if wantExt != "" && !strings.HasPrefix(wantExt, ".") {
			wantExt = "." + wantExt
		}
		if gotExt := ext(got); gotExt != wantExt {
			t.Errorf("Sanitize(%q) = %q, extension %q, want %q", tt.in, got, gotExt, wantExt)
		}
	}
	long := files.Sanitize(strings.Repeat("ab ", 200) + ".png")
	if base := strings.TrimSuffix(long, ".png"); len(base) != 100+1+10 || strings.Contains(base[:100], "__") {
		t.Errorf("long name: %q (%d)", long, len(long))
	}
	if a, b := files.Sanitize("x.png"), files.Sanitize("x.png"); a == b {
		t.Errorf("two calls gave the same name %q", a)
	}
}

func ext(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"photo.jpg", "", ".", "..", "a/b\\c.d", "日本語.txt", "x.", strings.Repeat("z", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := files.Sanitize(name)
		if !storedName.MatchString(got) || !schema.ValidFileName(got) || len(got) > 132 {
			t.Fatalf("Sanitize(%q) = %q", name, got)
		}
		if _, err := files.Key("c", "r", got); err != nil {
			t.Fatalf("Sanitize(%q) = %q is not a key segment: %v", name, got, err)
		}
	})
}
