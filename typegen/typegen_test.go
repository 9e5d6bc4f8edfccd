package typegen

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/plinthdev/plinth/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestTypeScriptGolden generates the types of a schema with every field
// type and compares them with testdata/schema.ts (go test -update rewrites
// it; the SDK suite compiles the output of a real server with tsc).
func TestTypeScriptGolden(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("testdata", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list []*schema.Collection
	if err := json.Unmarshal(src, &list); err != nil {
		t.Fatal(err)
	}
	got := TypeScript(list)
	golden := filepath.Join("testdata", "schema.ts")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("types differ from %s (go test ./typegen -update rewrites it):\n%s", golden, got)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"blog_posts": "BlogPosts", "x": "X", "2fa": "2fa", "déjà_vu": "DjVu"} {
		if got := pascal(in); got != want {
			t.Errorf("pascal(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"title": "title", "1st": `"1st"`, "a-b": `"a-b"`} {
		if got := propName(in); got != want {
			t.Errorf("propName(%q) = %q, want %q", in, got, want)
		}
	}
}
