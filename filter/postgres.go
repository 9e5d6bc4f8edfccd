package filter

import (
	"fmt"
	"strconv"
	"strings"
)

type postgresDialect struct{}

func (postgresDialect) Name() string             { return "postgres" }
func (postgresDialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

func pgType(t vtype) string {
	switch t {
	case tNumber:
		return "DOUBLE PRECISION"
	case tBool:
		return "BOOLEAN"
	case tJSON:
		return "JSONB"
	}
	return "TEXT"
}

// opaque leaves a PostgreSQL parameter as it is. PostgreSQL has no
// recompile-on-rebind to avoid: it plans a prepared statement's first
// executions for their values and then keeps a generic plan unless custom
// plans are much cheaper (plan_cache_mode), which is its own trade-off.
func (postgresDialect) opaque(ph string) string { return ph }

func (postgresDialect) param(ph string, t vtype) string {
	return "CAST(" + ph + " AS " + pgType(t) + ")"
}
func (postgresDialect) nullOf(t vtype) string      { return "CAST(NULL AS " + pgType(t) + ")" }
func (postgresDialect) numberText(e string) string { return "CAST(" + e + " AS TEXT)" }
func (postgresDialect) boolText(e string) string {
	return "(CASE WHEN " + e + " THEN 'true' WHEN NOT " + e + " THEN 'false' END)"
}
func (postgresDialect) boolNumber(e string) string {
	return "(CASE WHEN " + e + " THEN 1.0 WHEN NOT " + e + " THEN 0.0 END)"
}
func (postgresDialect) notDistinct(a, b string) string {
	return "(" + a + " IS NOT DISTINCT FROM " + b + ")"
}
func (postgresDialect) distinct(a, b string) string { return "(" + a + " IS DISTINCT FROM " + b + ")" }
func (postgresDialect) like(a, p string) string     { return "(" + a + " ILIKE " + p + " ESCAPE '\\')" }
func (postgresDialect) collate(a string) string     { return "(" + a + ") COLLATE \"C\"" }

func (postgresDialect) jsonPath(segs []string) any { return append([]string{}, segs...) }

func (postgresDialect) jsonExtract(col, path string, t vtype) string {
	p := "CAST(" + path + " AS TEXT[])"
	v := "(" + col + " #> " + p + ")"
	s := "(" + col + " #>> " + p + ")"
	switch t {
	case tNumber:
		return "(CASE WHEN jsonb_typeof" + v + " = 'number' THEN CAST(" + s + " AS DOUBLE PRECISION) END)"
	case tBool:
		return "(CASE WHEN jsonb_typeof" + v + " = 'boolean' THEN CAST(" + s + " AS BOOLEAN) END)"
	case tText:
		return "(CASE WHEN jsonb_typeof" + v + " = 'string' THEN " + s + " END)"
	}
	return s
}

func (postgresDialect) each(arr, alias string) string {
	return "jsonb_array_elements_text(" + arr + ") AS " + alias + "(value)"
}
func (postgresDialect) eachStatic(ph, alias string) string {
	return "jsonb_array_elements_text(CAST(" + ph + " AS JSONB)) AS " + alias + "(value)"
}
func (postgresDialect) elem(e string, t vtype) string {
	switch t {
	case tNumber, tBool:
		return "CAST(" + e + " AS " + pgType(t) + ")"
	}
	return e
}
func (postgresDialect) arrayContains(arr, v string) string {
	return "(" + arr + " @> jsonb_build_array(" + v + "))"
}
func (postgresDialect) arrayLength(arr string) string { return "jsonb_array_length(" + arr + ")" }
func (postgresDialect) random() string                { return "RANDOM()" }

// rowid is the row's physical position: insertion order for rows never
// updated; an updated row moves to where its new version was written
// (PostgreSQL has no stable row id; PocketBase clients use @rowid only
// as a default "newest first").
func (postgresDialect) rowid(alias string) string { return alias + ".ctid" }
func (postgresDialect) nullsOrder(desc bool) string {
	if desc {
		return " DESC NULLS LAST"
	}
	return " ASC NULLS FIRST"
}

// pgDateRe guards the cast of a text time to timestamp: SQLite's strftime
// returns NULL for text it cannot read, PostgreSQL would raise an error.
const pgDateRe = `'^(([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|[0-9]{2}([02468][048]|[13579][26])-02-29)([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?Z?$'`

func (postgresDialect) strftime(format, t string, bind func(any) string) (string, error) {
	ts := "CAST(" + t + " AS TIMESTAMP)"
	var parts []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, "CAST("+bind(lit.String())+" AS TEXT)")
			lit.Reset()
		}
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		if i+1 >= len(format) {
			return "", fmt.Errorf("strftime format ends with a lone %%")
		}
		i++
		var piece string
		switch format[i] {
		case '%':
			lit.WriteByte('%')
			continue
		case 'Y':
			piece = "to_char(" + ts + ", 'YYYY')"
		case 'm':
			piece = "to_char(" + ts + ", 'MM')"
		case 'd':
			piece = "to_char(" + ts + ", 'DD')"
		case 'H':
			piece = "to_char(" + ts + ", 'HH24')"
		case 'M':
			piece = "to_char(" + ts + ", 'MI')"
		case 'S':
			piece = "to_char(" + ts + ", 'SS')"
		case 'f':
			piece = "to_char(" + ts + ", 'SS.MS')"
		case 'j':
			piece = "to_char(" + ts + ", 'DDD')"
		case 'w':
			piece = "CAST(CAST(EXTRACT(DOW FROM " + ts + ") AS INTEGER) AS TEXT)"
		case 'W':
			piece = "lpad(CAST((CAST(EXTRACT(DOY FROM " + ts + ") AS INTEGER) + 6 - (CAST(EXTRACT(DOW FROM " + ts + ") AS INTEGER) + 6) % 7) / 7 AS TEXT), 2, '0')"
		default:
			return "", fmt.Errorf("strftime specifier %%%c is not supported on PostgreSQL (use %%Y %%m %%d %%H %%M %%S %%f %%j %%w %%W)", format[i])
		}
		flush()
		parts = append(parts, piece)
	}
	flush()
	if len(parts) == 0 {
		parts = []string{"''"}
	}
	return "(CASE WHEN " + t + " ~ " + pgDateRe + " THEN " + strings.Join(parts, " || ") + " END)", nil
}
