package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// Exact row counts per collection, so that a list with a total whose rows
// no filter or rule narrows reads one row instead of counting the table
// (COUNT(*) on SQLite walks a whole index: 4 ms at 100,000 rows, linear in
// the size, more than the page of records itself).
//
// The counts are kept by triggers, in the transaction of each insert and
// delete, so every write path (records, batch, cascades, hooks, plain SQL
// of a Go migration) keeps them exact, and a rolled back write or
// savepoint takes its change back with it.
//
// Only on SQLite: its single writer already orders every write, so one
// counter row costs a few microseconds. On PostgreSQL the same row would
// be locked by every concurrent insert into the collection until its
// commit, putting writers in single file; there a total stays a COUNT,
// which PostgreSQL runs in parallel.

// rowCountsTable holds one row per table collection: its id and its rows.
const rowCountsTable = "_rowCounts"

// keepsRowCounts reports whether the dialect keeps the counts.
func (s *Store) keepsRowCounts() bool { return s.dialect.Name() == "sqlite" }

// keepRowCount (re)creates c's counting triggers and sets its count from
// the table, in the transaction of a schema change: it runs when a table
// is created or altered, which is rare, so a recount there is cheap
// insurance against any drift.
func (s *Store) keepRowCount(ctx context.Context, tx *sql.Tx, c *schema.Collection) error {
	if !s.keepsRowCounts() || c.IsView() {
		return nil
	}
	if !schema.ValidSchemaID(c.ID) {
		// Checked where the collection entered the schema; the id is
		// spliced into trigger names and a string literal below.
		return fmt.Errorf("row count of %s: invalid collection id %q", c.Name, c.ID)
	}
	table, id := quote(c.Name), "'"+strings.ReplaceAll(c.ID, "'", "''")+"'"
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + rowCountsTable + ` (collection TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL)`,
		// WHERE true: after a bare FROM, SQLite would read ON as a join's.
		`INSERT INTO ` + rowCountsTable + ` (collection, n) SELECT ` + id + `, COUNT(*) FROM ` + table +
			` WHERE true ON CONFLICT (collection) DO UPDATE SET n = excluded.n`,
		`DROP TRIGGER IF EXISTS ` + quote("_rowCount_"+c.ID+"_insert"),
		`DROP TRIGGER IF EXISTS ` + quote("_rowCount_"+c.ID+"_delete"),
		`CREATE TRIGGER ` + quote("_rowCount_"+c.ID+"_insert") + ` AFTER INSERT ON ` + table +
			` BEGIN UPDATE ` + rowCountsTable + ` SET n = n + 1 WHERE collection = ` + id + `; END`,
		`CREATE TRIGGER ` + quote("_rowCount_"+c.ID+"_delete") + ` AFTER DELETE ON ` + table +
			` BEGIN UPDATE ` + rowCountsTable + ` SET n = n - 1 WHERE collection = ` + id + `; END`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("row count of %s: %w", c.Name, err)
		}
	}
	return nil
}

// forgetRowCount removes c's count with its table (the triggers go with
// the table).
func (s *Store) forgetRowCount(ctx context.Context, tx *sql.Tx, c *schema.Collection) error {
	if !s.keepsRowCounts() || c.IsView() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM `+rowCountsTable+` WHERE collection = ?`, c.ID)
	return err
}

// rowCount returns c's row count, or ok false when none is kept.
func (s *Store) rowCount(ctx context.Context, r reader, c *schema.Collection) (n int, ok bool, err error) {
	if !s.keepsRowCounts() || c.IsView() {
		return 0, false, nil
	}
	rows, err := r.query(ctx, `SELECT n FROM `+rowCountsTable+` WHERE collection = ?`, c.ID)
	if err != nil {
		return 0, false, fmt.Errorf("row count of %s: %w", c.Name, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return 0, false, rows.Err()
	}
	if err := rows.Scan(&n); err != nil {
		return 0, false, err
	}
	return n, true, rows.Err()
}

// maybeRowCount is the kept count of c when where (the list's rules and
// filter, compiled) narrows nothing.
func (s *Store) maybeRowCount(ctx context.Context, r reader, c *schema.Collection, where string) (int, bool, error) {
	if where != "" {
		return 0, false, nil
	}
	return s.rowCount(ctx, r, c)
}
