package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// Dialect is what differs between the supported databases. It is kept small
// on purpose: everything else in the store is shared SQL.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Filter is the filter compiler's dialect.
	Filter() filter.Dialect
	// Placeholder returns the n-th (1-based) bind placeholder.
	Placeholder(n int) string
	// ColumnDef is the column definition (type, default, nullability) for a
	// storage class.
	ColumnDef(s schema.Storage) string
	// PrimaryKeyDef is the definition of the text id column.
	PrimaryKeyDef() string
	// ConvertColumn returns an SQL expression that converts column col from
	// storage class from to class to (used when a field changes from single
	// to multiple values or back).
	ConvertColumn(col string, from, to schema.Storage) string
	// AlterColumnType changes a column's type in place, or returns "" when
	// the dialect needs the table rebuilt instead.
	AlterColumnType(table, col string, from, to schema.Storage) string
	// CastParam returns the placeholder ph typed as a column of storage
	// class s, for selecting a value that is not read from a table.
	CastParam(ph string, s schema.Storage) string
	// JSONArrayContains returns a condition: the JSON array column col holds
	// the bound text value at placeholder ph.
	JSONArrayContains(col, ph string) string
	// UniqueViolation reports whether err is a unique constraint failure and
	// returns the index name or the failed columns the database names.
	UniqueViolation(err error) (index string, columns []string, ok bool)
	// IndexesOf lists the names of the indexes on table.
	IndexesOf(ctx context.Context, q querier, table string) ([]string, error)
	// NameInUse reports whether a schema object (table, view, index,
	// trigger, sequence, type) of the database is named name, as the
	// database compares names: a collection cannot take it.
	NameInUse(ctx context.Context, q querier, name string) (bool, error)
	// RandomFunc is the SQL function that returns a random value (for @random).
	RandomFunc() string
}

// querier is the part of *sql.DB, *sql.Conn and *sql.Tx the dialects use.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// quote quotes an identifier for both dialects (standard double quotes).
// Identifiers are checked with schema.ValidIdentifier or ValidSchemaID
// before they get here; doubling any embedded quote is the second line of
// defence, so that a name that slipped through stays one identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
