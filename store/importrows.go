package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// RecordFromColumns builds a record of c from the columns of a row read
// from another database (a PocketBase data.db, say), converting each
// value as a read of c's own table would. Columns without a stored field
// of c are ignored; fields without a column keep their zero value.
func RecordFromColumns(c *schema.Collection, cols map[string]any) *schema.Record {
	r := schema.NewRecordSized(c)
	for _, f := range c.Fields {
		if f.Storage() == schema.StoreNone {
			continue
		}
		r.Set(f.Name, fromDB(f, cols[f.Name]))
	}
	return r
}

// ImportRecords writes recs, records of c, as they are: ids, password
// hashes, token keys, dates and relations are kept and not checked, and
// a record whose id exists is overwritten, so an import can run again. It
// is for moving data in, not for API writes: no rule, hook, relation
// check or realtime event applies. The records are written in
// transactions of a few hundred.
func (s *Store) ImportRecords(ctx context.Context, c *schema.Collection, recs []*schema.Record) error {
	const chunk = 500
	for start := 0; start < len(recs); start += chunk {
		part := recs[start:min(start+chunk, len(recs))]
		if err := s.inTx(ctx, func(tx *sql.Tx) error { return s.importRecordsTx(ctx, tx, c, part) }); err != nil {
			return err
		}
	}
	return nil
}

// importRecordsTx is ImportRecords in tx.
func (s *Store) importRecordsTx(ctx context.Context, tx *sql.Tx, c *schema.Collection, recs []*schema.Record) error {
	if c.IsView() {
		return errReadOnlyView
	}
	if len(recs) == 0 {
		return nil
	}
	var cols, marks, sets []string
	var fields []*schema.Field
	for _, f := range c.Fields {
		if f.Storage() == schema.StoreNone {
			continue
		}
		fields = append(fields, f)
		cols = append(cols, quote(f.Name))
		marks = append(marks, s.dialect.Placeholder(len(marks)+1))
		if f.Name != "id" {
			sets = append(sets, quote(f.Name)+" = excluded."+quote(f.Name))
		}
	}
	q := "INSERT INTO " + quote(c.Name) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + `) ON CONFLICT ("id") DO `
	if len(sets) == 0 {
		q += "NOTHING"
	} else {
		q += "UPDATE SET " + strings.Join(sets, ", ")
	}
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer stmt.Close()
	args := make([]any, len(fields))
	for _, r := range recs {
		if !schema.ValidID(r.ID()) {
			return fmt.Errorf("import %s: invalid record id %q", c.Name, r.ID())
		}
		for i, f := range fields {
			args[i] = toDB(f, r.Get(f.Name))
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("import %s record %s: %w", c.Name, r.ID(), s.mapWriteError(c, err))
		}
	}
	return nil
}

// ImportTable adds rows to the plain table name (one of ExportTables),
// keeping rows whose key exists. Values come from JSON or from the other
// database: numbers bound for a PostgreSQL boolean column become booleans.
func (s *Store) ImportTable(ctx context.Context, name string, rows []map[string]any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.importTableTx(ctx, tx, name, rows, false) })
}

// importTableTx is ImportTable in tx; replace first deletes the rows the
// table has.
func (s *Store) importTableTx(ctx context.Context, tx *sql.Tx, name string, rows []map[string]any, replace bool) error {
	if !slices.Contains(ExportTables, name) {
		return fmt.Errorf("import: %s is not an importable table", name)
	}
	if name == "_appMigrations" {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS _appMigrations (file TEXT PRIMARY KEY NOT NULL, applied TEXT NOT NULL)`); err != nil {
			return err
		}
	}
	if replace {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+s.plainName(name)); err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	bools := map[string]bool{}
	if s.dialect.Name() == "postgres" {
		names, err := queryStrings(ctx, tx, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND data_type = 'boolean'`, strings.ToLower(name))
		if err != nil {
			return err
		}
		for _, n := range names {
			bools[n] = true
		}
	}
	cols := slices.Sorted(maps.Keys(rows[0]))
	var quoted, marks []string
	for i, c := range cols {
		if !schema.ValidIdentifier(c) {
			return fmt.Errorf("import %s: invalid column %q", name, c)
		}
		quoted = append(quoted, s.plainName(c))
		marks = append(marks, s.dialect.Placeholder(i+1))
	}
	q := "INSERT INTO " + s.plainName(name) + " (" + strings.Join(quoted, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ") ON CONFLICT DO NOTHING"
	for _, row := range rows {
		args := make([]any, len(cols))
		for i, c := range cols {
			v := row[c]
			if bools[strings.ToLower(c)] {
				switch x := v.(type) {
				case float64:
					v = x != 0
				case int64:
					v = x != 0
				}
			}
			args[i] = v
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
	}
	return nil
}
