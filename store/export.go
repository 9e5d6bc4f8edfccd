package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// Export is one consistent read of everything a backup holds: the
// collections of the schema snapshot taken when it starts, their records,
// and the store's parameters. It reads in one transaction (SQLite: a read
// transaction on a reader, which keeps its WAL snapshot; PostgreSQL:
// REPEATABLE READ, read only), so writes may go on while it runs and none
// is half seen.
type Export struct {
	tx   *sql.Tx
	snap *Schema
	s    *Store
}

// Export runs fn on a consistent read of the store.
func (s *Store) Export(ctx context.Context, fn func(e *Export) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect.Name() == "postgres" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("export: begin: %w", err)
	}
	defer tx.Rollback()
	return fn(&Export{tx: tx, snap: s.Schema(), s: s})
}

// Collections are the collections of the export, in schema order.
func (e *Export) Collections() []*schema.Collection { return e.snap.Collections() }

// Records calls fn for every record of c (not a view), in id order.
func (e *Export) Records(ctx context.Context, c *schema.Collection, fn func(*schema.Record) error) error {
	if c.IsView() {
		return nil
	}
	cols, fields := selectColumns(c)
	q := "SELECT " + cols + " FROM " + quote(c.Name) + " AS " + quote(rootAlias) + ` ORDER BY ` + quote(rootAlias) + `."id"`
	return eachRecord(ctx, e, c, fields, q, nil, fn)
}

// query and schemaSnap make the export a reader for eachRecord.
func (e *Export) query(ctx context.Context, q string, args ...any) (rows, error) {
	return e.tx.QueryContext(ctx, q, args...)
}

func (e *Export) schemaSnap() *Schema { return e.snap }

// Params returns the stored parameters (settings, the token secret, the
// sealing key when it is kept in the database, ACME certificates...).
func (e *Export) Params(ctx context.Context) (map[string]string, error) {
	rows, err := e.tx.QueryContext(ctx, `SELECT key, value FROM _params`)
	if err != nil {
		return nil, fmt.Errorf("export params: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// ExportTables are the plain (non-collection) tables a backup carries:
// the applied application migrations (so that a restored instance does
// not run them again) and the webhooks. Deliveries, queued jobs and the
// row counts are derived or transient and stay behind.
var ExportTables = []string{"_appMigrations", "_webhooks"}

// Table returns the rows of the plain table name (one of ExportTables),
// or none when the table does not exist.
func (e *Export) Table(ctx context.Context, name string) ([]map[string]any, error) {
	if !slices.Contains(ExportTables, name) {
		return nil, fmt.Errorf("export: %s is not an exported table", name)
	}
	// A savepoint, so that a missing table does not abort PostgreSQL's
	// transaction for the reads after it.
	if _, err := e.tx.ExecContext(ctx, "SAVEPOINT export_table"); err != nil {
		return nil, err
	}
	rows, err := e.tx.QueryContext(ctx, "SELECT * FROM "+e.plainName(name))
	if err != nil {
		if _, rerr := e.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT export_table"); rerr != nil {
			return nil, rerr
		}
		return nil, nil // not created yet
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				row[c] = string(b)
			} else {
				row[c] = vals[i]
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (e *Export) plainName(name string) string { return e.s.plainName(name) }

// plainName quotes the name of a plain table or column as it was created:
// without quotes, which PostgreSQL folds to lower case.
func (s *Store) plainName(name string) string {
	if s.dialect.Name() == "postgres" {
		name = strings.ToLower(name)
	}
	return quote(name)
}
