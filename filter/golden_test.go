package filter

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenFilters are compiled for both dialects and compared with
// testdata/compile.golden; run "go test ./filter -run TestGolden -update" to
// accept changes.
var goldenFilters = []string{
	`title = "x"`,
	`title != null`,
	`score > "5"`,
	`published = 1`,
	`title ~ "a_b"`,
	`notes !~ "50%"`,
	`categories ?= "a"`,
	`categories != "a"`,
	`categories:length > 1`,
	`author.team.name = "red"`,
	`tags.name ?~ "x"`,
	`comments_via_post.likes ?> 1`,
	`users_via_favorites:length = 0`,
	`meta.a.b = 1`,
	`meta.list.0 = ""`,
	`title:lower = @request.body.title`,
	`@request.auth.team.name = "red"`,
	`tags ?= @request.body.tags`,
	`created > @now`,
	`geoDistance(loc.lon, loc.lat, 1, 2) < 10`,
	`strftime('%Y-%m', created) = "2024-06"`,
	`@collection.comments.post = id && @collection.comments.likes > 5`,
	`(a = 1 || score = 2) && published = true`,
}

func TestGolden(t *testing.T) {
	fx := newFixture(t)
	var b strings.Builder
	for _, src := range goldenFilters {
		b.WriteString("-- filter --\n" + src + "\n")
		e, err := Parse(src)
		for _, d := range []Dialect{SQLite, Postgres} {
			b.WriteString("-- " + d.Name() + " --\n")
			if err != nil {
				b.WriteString("error: " + err.Error() + "\n")
				continue
			}
			p := &Params{Dialect: d}
			sql, cerr := Compile(e, fx.env(d, fx.request(true)), p)
			if cerr != nil {
				b.WriteString("error: " + cerr.Error() + "\n")
				continue
			}
			args, _ := json.Marshal(p.Values)
			b.WriteString(sql + "\nargs: " + string(args) + "\n")
		}
	}
	for _, sort := range []string{"-created,title", "author.name,@random", "meta.a"} {
		b.WriteString("-- sort --\n" + sort + "\n")
		for _, d := range []Dialect{SQLite, Postgres} {
			p := &Params{Dialect: d}
			sql, err := CompileSort(sort, fx.env(d, nil), p)
			if err != nil {
				t.Fatal(err)
			}
			args, _ := json.Marshal(p.Values)
			b.WriteString("-- " + d.Name() + " --\n" + sql + "\nargs: " + string(args) + "\n")
		}
	}
	path := filepath.Join("testdata", "compile.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("golden mismatch at line %d:\ngot:  %s\nwant: %s\n(run with -update to accept)", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("golden mismatch: %d lines, want %d (run with -update to accept)", len(gl), len(wl))
	}
}
