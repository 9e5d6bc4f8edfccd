package filter

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/schema"
)

var pgPlaceholderRe = regexp.MustCompile(`\$([0-9]+)`)

// FuzzCompile feeds arbitrary text through Parse, Compile, Check and
// CompileSort on both dialects: nothing may panic, every error must be a
// *Error, placeholders must match the bound values, and whatever compiles
// must run on SQLite (and on PostgreSQL when PLINTH_FUZZ_PG=1).
func FuzzCompile(f *testing.F) {
	for _, tc := range conformanceCases {
		f.Add(tc.filter)
	}
	for _, tc := range noAuthCases {
		f.Add(tc.filter)
	}
	for _, s := range []string{"", "(", "a = ", `"unterminated`, "title = 1 && (", "@request.auth.", "x:each", "-created,title", "@collection.users:u.name = 1"} {
		f.Add(s)
	}
	fx := newFixture(f)
	dbs := []*testDB{openSQLite(f)}
	if os.Getenv("PLINTH_FUZZ_PG") == "1" {
		if pg := openPostgres(f); pg != nil {
			dbs = append(dbs, pg)
		}
	}
	for _, tdb := range dbs {
		fx.load(f, tdb)
	}
	checkErr := func(t *testing.T, what string, err error) {
		var fe *Error
		var na *NotAllowedError
		if err != nil && !errors.As(err, &fe) && !errors.As(err, &na) {
			t.Fatalf("%s: error is %T, not *filter.Error: %v", what, err, err)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		checkErr(t, "Parse", err)
		for _, rule := range []bool{false, true} {
			checkErr(t, "Check", Check(src, fx.colls["posts"], fx.lookup, rule))
		}
		for _, tdb := range dbs {
			p := &Params{Dialect: tdb.d}
			order, err := CompileSort(src, fx.env(tdb.d, nil), p)
			checkErr(t, "CompileSort", err)
			if err == nil && order != "" {
				checkPlaceholders(t, tdb.d, order, p.Values)
				if _, err := queryIDs(tdb.db, "SELECT id FROM posts AS p ORDER BY "+order, p.Values); err != nil {
					t.Fatalf("%s: sort %q: %v\n%s", tdb.name, src, err, order)
				}
			}
			if e == nil {
				continue
			}
			for _, auth := range []bool{true, false} {
				p := &Params{Dialect: tdb.d}
				where, err := Compile(e, fx.env(tdb.d, fx.request(auth)), p)
				checkErr(t, "Compile", err)
				if err != nil {
					continue
				}
				checkPlaceholders(t, tdb.d, where, p.Values)
				if _, err := queryIDs(tdb.db, "SELECT id FROM posts AS p WHERE "+where, p.Values); err != nil {
					t.Fatalf("%s: %q: %v\n%s\n%#v", tdb.name, src, err, where, p.Values)
				}
			}
			// As a client's filter: joined rows go through rules of
			// their own, emails through a CASE; it must still run.
			env := fx.env(tdb.d, fx.request(true))
			env.Client = fuzzClient
			p = &Params{Dialect: tdb.d}
			where, err := Compile(e, env, p)
			checkErr(t, "Compile as a client", err)
			if err == nil {
				checkPlaceholders(t, tdb.d, where, p.Values)
				if _, err := queryIDs(tdb.db, "SELECT id FROM posts AS p WHERE "+where, p.Values); err != nil {
					t.Fatalf("%s: client %q: %v\n%s\n%#v", tdb.name, src, err, where, p.Values)
				}
			}
		}
	})
}

// fuzzClient reads other collections through a rule of their own, except
// posts, which it may not read through a relation at all.
var fuzzClient = &Client{
	Rule: func(c *schema.Collection) (string, bool) {
		if c.Name == "posts" {
			return "", false
		}
		return "id != ''", true
	},
	Manage: func(*schema.Collection) (string, bool) { return "id != ''", true },
}

func checkPlaceholders(t *testing.T, d Dialect, sql string, vals []any) {
	t.Helper()
	if strings.ContainsAny(sql, "\x00\x01\x02") {
		t.Fatalf("marker left in SQL: %q", sql)
	}
	n := 0
	if d == SQLite {
		n = strings.Count(sql, "?")
	} else {
		for _, m := range pgPlaceholderRe.FindAllStringSubmatch(sql, -1) {
			if k, _ := strconv.Atoi(m[1]); k > n {
				n = k
			}
		}
	}
	if n != len(vals) {
		t.Fatalf("%d placeholders for %d values in %s", n, len(vals), sql)
	}
}
