package filter

import (
	"fmt"
	"strings"
	"testing"
)

// TestSQLiteBoundValuesKeepIndexes checks that the opaque form of bound
// values (see sqliteDialect.opaque) still lets SQLite use an index on the
// compared column after ANALYZE has stored STAT4 samples, for the
// owner-style rule and for a range.
func TestSQLiteBoundValuesKeepIndexes(t *testing.T) {
	fx := newFixture(t)
	tdb := openSQLite(t)
	fx.load(t, tdb)
	for _, s := range []string{
		`CREATE INDEX idx_posts_author ON "posts" ("author")`,
		`CREATE INDEX idx_posts_score ON "posts" ("score")`,
	} {
		if _, err := tdb.db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	// Enough distinct rows for ANALYZE to keep samples in sqlite_stat4.
	for i := range 200 {
		if _, err := tdb.db.Exec(`INSERT INTO "posts" ("id", "author", "score") VALUES (?, ?, ?)`,
			fmt.Sprintf("x%03d", i), fmt.Sprintf("u%d", i%20), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tdb.db.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	var samples int
	if err := tdb.db.QueryRow(`SELECT COUNT(*) FROM sqlite_stat4`).Scan(&samples); err != nil || samples == 0 {
		t.Fatalf("no STAT4 samples (%d, %v): the test would not exercise the planner's value probes", samples, err)
	}
	for src, index := range map[string]string{
		`author = @request.auth.id`: "idx_posts_author",
		`score >= 10 && score < 20`: "idx_posts_score",
	} {
		e, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		p := &Params{Dialect: SQLite}
		where, err := Compile(e, fx.env(SQLite, fx.request(true)), p)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		q := `EXPLAIN QUERY PLAN SELECT "p"."id" FROM "posts" AS "p" WHERE ` + where
		rows, err := tdb.db.Query(q, p.Values...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "\n"), "USING INDEX "+index) {
			t.Errorf("%s: the plan does not use %s:\n%s\nSQL: %s", src, index, strings.Join(plan, "\n"), where)
		}
	}
}
