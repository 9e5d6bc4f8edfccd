package filter

import (
	"strconv"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// Dialect is the SQL flavour an expression is compiled for. The exported
// variables SQLite and Postgres are the only implementations; the SQL
// building hooks are unexported.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Placeholder returns the placeholder of the n-th (1-based) parameter.
	Placeholder(n int) string

	// opaque is how a bound value appears in compiled SQL, given its
	// placeholder ph: as an expression whose value the database's planner
	// does not look at, so that a statement's plan depends on its text
	// alone and a prepared statement is never compiled again because
	// another value is bound to it (see sqliteDialect.opaque).
	opaque(ph string) string
	// param types a bound parameter (PostgreSQL needs explicit casts).
	param(ph string, t vtype) string
	// nullOf is a typed NULL.
	nullOf(t vtype) string
	// numberText renders a number expression as text, integers without ".0".
	numberText(expr string) string
	// boolExpr turns a stored boolean into an SQL boolean usable in CASE WHEN.
	boolText(expr string) string
	boolNumber(expr string) string
	// notDistinct and distinct are the null-safe = and !=.
	notDistinct(a, b string) string
	distinct(a, b string) string
	// like is a case-insensitive LIKE with "\" as the escape character.
	like(a, pattern string) string
	// collate makes text ordering bytewise.
	collate(a string) string
	// jsonPath is the bound value addressing segs inside a JSON column.
	jsonPath(segs []string) any
	// jsonExtract reads path (a placeholder) from col as t; NULL when the
	// JSON value there is not of that type. tTextAny renders any scalar.
	jsonExtract(col, path string, t vtype) string
	// each is a FROM item enumerating the JSON array of strings arr, whose
	// elements are alias.value (text).
	each(arr, alias string) string
	// eachStatic enumerates a bound JSON array.
	eachStatic(ph, alias string) string
	// elem converts an element of eachStatic to t.
	elem(expr string, t vtype) string
	// arrayContains tests whether JSON array arr holds the text value v.
	arrayContains(arr, v string) string
	arrayLength(arr string) string
	random() string
	// rowid is the storage-order key of a row of table alias.
	rowid(alias string) string
	nullsOrder(desc bool) string
	// strftime formats the text time expression t with a static format.
	strftime(format string, t string, bind func(any) string) (string, error)
}

var (
	// SQLite compiles for SQLite (modernc.org/sqlite) with JSON1 and math
	// functions.
	SQLite Dialect = sqliteDialect{}
	// Postgres compiles for PostgreSQL 13 or later.
	Postgres Dialect = postgresDialect{}
)

// Params collects bound parameter values in placeholder order.
type Params struct {
	Dialect Dialect
	Values  []any
	// ClientCost sums the costs of the client expressions compiled into
	// these parameters (see Client.MaxCost): 0 when they join nothing, so
	// the caller can tell a cheap query from one worth rationing.
	ClientCost int
}

// Add appends v and returns its placeholder: "?" for SQLite, "$N" for
// PostgreSQL where N counts all values added so far.
func (p *Params) Add(v any) string {
	p.Values = append(p.Values, v)
	if p.Dialect == nil {
		return "?"
	}
	return p.Dialect.Placeholder(len(p.Values))
}

// quoteIdent quotes a schema name, which must be a valid identifier;
// embedded quotes are doubled anyway, as a second line of defence.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// vtype is the static type of an operand or of a comparison.
type vtype int

const (
	tNull vtype = iota
	tText
	tNumber
	tBool
	tJSON
	// tTextAny is the comparison type of ~ and of json-vs-json: any JSON
	// scalar rendered as text.
	tTextAny
)

func (t vtype) String() string {
	switch t {
	case tText, tTextAny:
		return "text"
	case tNumber:
		return "number"
	case tBool:
		return "bool"
	case tJSON:
		return "json"
	}
	return "null"
}

func storageType(s schema.Storage) vtype {
	switch s {
	case schema.StoreNumber:
		return tNumber
	case schema.StoreBool:
		return tBool
	case schema.StoreJSON:
		return tJSON
	}
	return tText
}

// Parameter markers: while compiling, values are collected in a private list
// and referenced by markers; finalize rewrites the markers in textual order
// into real placeholders, so that positional "?" stay in step.
const (
	markOpen  = '\x01'
	markClose = '\x02'
)

func marker(i int) string { return string(rune(markOpen)) + strconv.Itoa(i) + string(rune(markClose)) }

func finalize(sql string, vals []any, p *Params) string {
	if !strings.ContainsRune(sql, markOpen) {
		return sql
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(sql, markOpen)
		if i < 0 {
			b.WriteString(sql)
			return b.String()
		}
		j := strings.IndexByte(sql[i:], markClose)
		n, _ := strconv.Atoi(sql[i+1 : i+j])
		b.WriteString(sql[:i])
		b.WriteString(p.Add(vals[n]))
		sql = sql[i+j+1:]
	}
}
