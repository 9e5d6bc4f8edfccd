package filter

import (
	"strconv"
	"strings"
)

type sqliteDialect struct{}

func (sqliteDialect) Name() string           { return "sqlite" }
func (sqliteDialect) Placeholder(int) string { return "?" }

// opaque reads a bound value through SQLite's unary plus, a no-op that
// keeps the value, its type and its lack of affinity and collation, and
// still lets an index serve "col = +?" or "col > +?".
//
// A bare parameter is not opaque. modernc.org/sqlite is built with
// SQLITE_ENABLE_STAT4, and once ANALYZE has stored samples in sqlite_stat4
// the planner estimates a comparison of an indexed column with a parameter
// (and a LIKE whose pattern is a parameter) from the value bound at the
// time, and marks the statement to be recompiled whenever that parameter is
// bound to another value. A rule such as owner = @request.auth.id binds a
// different user id on nearly every request, so each execution of the
// cached statement was a full parse and plan (sqlite3Reprepare) with STAT4
// probes: the statement cache saved nothing for exactly the queries it is
// for. SQLITE_DBCONFIG_ENABLE_QPSG would give this guarantee for a whole
// connection, but the driver does not expose sqlite3_db_config; the unary
// plus gives it per value. The price is the same as QPSG's: plans come from
// the average statistics (sqlite_stat1), not from samples of one value.
func (sqliteDialect) opaque(ph string) string { return "+" + ph }

func (sqliteDialect) param(ph string, t vtype) string { return ph }
func (sqliteDialect) nullOf(vtype) string             { return "NULL" }

func (sqliteDialect) numberText(e string) string {
	return "(CASE WHEN " + e + " = CAST(" + e + " AS INTEGER) THEN CAST(CAST(" + e + " AS INTEGER) AS TEXT) ELSE CAST(" + e + " AS TEXT) END)"
}
func (sqliteDialect) boolText(e string) string {
	return "(CASE WHEN " + e + " IS NULL THEN NULL WHEN " + e + " THEN 'true' ELSE 'false' END)"
}
func (sqliteDialect) boolNumber(e string) string {
	return "(CASE WHEN " + e + " IS NULL THEN NULL WHEN " + e + " THEN 1 ELSE 0 END)"
}
func (sqliteDialect) notDistinct(a, b string) string { return "(" + a + " IS " + b + ")" }
func (sqliteDialect) distinct(a, b string) string    { return "(" + a + " IS NOT " + b + ")" }
func (sqliteDialect) like(a, p string) string        { return "(" + a + " LIKE " + p + " ESCAPE '\\')" }
func (sqliteDialect) collate(a string) string        { return a }

func (sqliteDialect) jsonPath(segs []string) any {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range segs {
		if isIndex(s) {
			b.WriteString("[" + s + "]")
		} else {
			b.WriteString(`."` + s + `"`)
		}
	}
	return b.String()
}

func (d sqliteDialect) jsonExtract(col, path string, t vtype) string {
	jt := "json_type(" + col + ", " + path + ")"
	jx := "json_extract(" + col + ", " + path + ")"
	switch t {
	case tNumber:
		return "(CASE WHEN " + jt + " IN ('integer','real') THEN " + jx + " END)"
	case tBool:
		return "(CASE " + jt + " WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)"
	case tText:
		return "(CASE WHEN " + jt + " = 'text' THEN " + jx + " END)"
	}
	return "(CASE " + jt + " WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'real' THEN " +
		d.numberText(jx) + " ELSE CAST(" + jx + " AS TEXT) END)"
}

func (sqliteDialect) each(arr, alias string) string { return "json_each(" + arr + ") AS " + alias }
func (sqliteDialect) eachStatic(ph, alias string) string {
	return "json_each(" + ph + ") AS " + alias
}
func (sqliteDialect) elem(e string, t vtype) string { return e }
func (sqliteDialect) arrayContains(arr, v string) string {
	return "EXISTS (SELECT 1 FROM json_each(" + arr + ") AS _fe WHERE _fe.value = " + v + ")"
}
func (sqliteDialect) arrayLength(arr string) string { return "json_array_length(" + arr + ")" }
func (sqliteDialect) random() string                { return "RANDOM()" }

// rowid is SQLite's own row id: insertion order, stable across updates.
func (sqliteDialect) rowid(alias string) string { return alias + ".rowid" }
func (sqliteDialect) nullsOrder(desc bool) string {
	if desc {
		return " DESC NULLS LAST"
	}
	return " ASC NULLS FIRST"
}

func (sqliteDialect) strftime(format, t string, bind func(any) string) (string, error) {
	// Only read YYYY-MM-DD... text, as the PostgreSQL translation does
	// (SQLite would also take julian day numbers and "now").
	return "(CASE WHEN " + t + " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN strftime(" + bind(format) + ", " + t + ") END)", nil
}

func isIndex(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	_, err := strconv.Atoi(s)
	return err == nil && s[0] >= '0' && s[0] <= '9'
}
