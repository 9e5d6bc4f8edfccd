package files_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/files/storagetest"
	"github.com/plinthdev/plinth/schema"
)

func TestValidateKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{
		"c/r/f.jpg", "pbc_3142635823/abcdefghijklmno/photo_ab12cd34ef.jpg",
		"c/r/thumbs_f.jpg/100x100_f.jpg", "a", "a b/c(1)/Été.txt", "a..b/c", "x/y..",
		strings.Repeat("a", 255), strings.Repeat("abc/", 255) + "abcd",
	} {
		if err := files.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v", key, err)
		}
	}
	for _, key := range storagetest.BadKeys() {
		if err := files.ValidateKey(key); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	k, err := files.Key("col", "rec", "f_abc.png")
	if err != nil || k != "col/rec/f_abc.png" {
		t.Fatalf("Key = %q, %v", k, err)
	}
	for _, parts := range [][3]string{{"", "r", "f"}, {"c", "..", "f"}, {"c", "r", "a/b"}, {"c/x", "r", "f"}, {"c", "r", ".f"}, {"c", "r", `a\b`}} {
		if _, err := files.Key(parts[0], parts[1], parts[2]); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("Key%q = %v", parts, err)
		}
	}
	tk, err := files.ThumbKey(k, "100x100t")
	if err != nil || tk != "col/rec/thumbs_f_abc.png/100x100t_f_abc.png" {
		t.Fatalf("ThumbKey = %q, %v", tk, err)
	}
	if _, err := files.ThumbKey(k, "../x"); err == nil {
		t.Error("ThumbKey accepted a bad spec")
	}
	if p, err := files.RecordPrefix("col", "rec"); err != nil || p != "col/rec" {
		t.Errorf("RecordPrefix = %q, %v", p, err)
	}
	if _, err := files.RecordPrefix("col", ""); err == nil {
		t.Error("RecordPrefix accepted an empty id")
	}
	if _, err := files.CollectionPrefix(".."); err == nil {
		t.Error("CollectionPrefix accepted ..")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]files.KeyInfo{
		"c/r/f.png":                      {CollectionID: "c", RecordID: "r", Filename: "f.png"},
		"c/r/thumbs_f.png/100x100_f.png": {CollectionID: "c", RecordID: "r", Filename: "f.png", Thumb: "100x100"},
		"c/r/thumbs_f.png/0x50b_f.png":   {CollectionID: "c", RecordID: "r", Filename: "f.png", Thumb: "0x50b"},
	} {
		got, ok := files.ParseKey(key)
		if !ok || got != want {
			t.Errorf("ParseKey(%q) = %+v, %v", key, got, ok)
		}
	}
	for _, key := range []string{
		"c/r", "c", "c/r/x/y/z", "c/r/thumbs_f.png/100x100_g.png", "c/r/other/100x100_f.png",
		"c/r/thumbs_f.png/bad_f.png", "c/r/thumbs_/100x100_", "../r/f", "c/r/thumbs_f.png/0x0_f.png",
	} {
		if got, ok := files.ParseKey(key); ok {
			t.Errorf("ParseKey(%q) = %+v, want not ok", key, got)
		}
	}
}

// FuzzValidateKey checks that a key the validator accepts can never leave
// a directory it is joined to, and that ParseKey agrees with Key.
func FuzzValidateKey(f *testing.F) {
	for _, s := range append([]string{"c/r/f.jpg", "c/r/thumbs_f/10x10_f", "a/../b", "a\\b", "é/ü"}, storagetest.BadKeys()...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := files.ValidateKey(key)
		if err != nil {
			if !errors.Is(err, files.ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
			return
		}
		root := "/srv/storage"
		joined := filepath.Join(root, filepath.FromSlash(key))
		if !strings.HasPrefix(joined, root+"/") || filepath.Clean(joined) != joined {
			t.Fatalf("key %q escapes or is not clean: %q", key, joined)
		}
		if strings.ContainsAny(key, "\\\x00") || strings.HasPrefix(key, "/") || strings.Contains(key, "//") {
			t.Fatalf("accepted %q", key)
		}
		for seg := range strings.SplitSeq(key, "/") {
			if !schema.ValidFileName(seg) || seg == "." || seg == ".." {
				t.Fatalf("accepted segment %q", seg)
			}
		}
		if info, ok := files.ParseKey(key); ok {
			k, err := files.Key(info.CollectionID, info.RecordID, info.Filename)
			if err != nil {
				t.Fatalf("ParseKey(%q) = %+v, but Key fails: %v", key, info, err)
			}
			if info.Thumb != "" {
				k, err = files.ThumbKey(k, info.Thumb)
			}
			if err != nil || k != key {
				t.Fatalf("ParseKey(%q) = %+v, rebuilt as %q, %v", key, info, k, err)
			}
		}
	})
}
