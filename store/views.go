package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

var viewQueryStart = regexp.MustCompile(`(?is)^\s*(SELECT|WITH)\s`)

// saveView (re)creates the SQL view behind a view collection and derives
// its fields from the columns the query returns.
func (s *Store) saveView(ctx context.Context, tx *sql.Tx, snap *Schema, old, c *schema.Collection) error {
	q := strings.TrimRight(strings.TrimSpace(c.ViewQuery), "; \n\t")
	if !viewQueryStart.MatchString(q) || strings.Contains(q, ";") {
		return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", "The view query must be a single SELECT statement.")}
	}
	if m := viewQuerySystemName.FindString(stripStrings(q)); m != "" {
		return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query",
			fmt.Sprintf("The view query cannot use %q: views read collections only.", m))}
	}
	c.ViewQuery = q
	if old != nil {
		if _, err := tx.ExecContext(ctx, "DROP VIEW IF EXISTS "+quote(old.Name)); err != nil {
			return fmt.Errorf("drop view: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "CREATE VIEW "+quote(c.Name)+" AS "+q); err != nil {
		return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", fmt.Sprintf("Invalid view query: %v", err))}
	}
	// Compile the view first: SQLite accepts a CREATE VIEW naming a missing
	// column and fails only when the view is used, and that is the
	// author's mistake (400), not the server's. Nothing is read: LIMIT 0,
	// and checkViewReads below refuses the view before it can be saved.
	rows, err := tx.QueryContext(ctx, "SELECT * FROM "+quote(c.Name)+" LIMIT 0")
	if err != nil {
		return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", fmt.Sprintf("Invalid view query: %v", err))}
	}
	types, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		return err
	}
	if err := s.checkViewReads(ctx, tx, snap, c.Name); err != nil {
		return err
	}
	var fields []*schema.Field
	hasID := false
	for _, ct := range types {
		name := ct.Name()
		if !schema.ValidIdentifier(name) {
			return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query",
				fmt.Sprintf("Column %q needs an alias made of letters, digits and underscores.", name))}
		}
		typ := viewFieldType(ct.DatabaseTypeName())
		if name == "id" {
			hasID, typ = true, "text"
		}
		f, err := schema.NewField(typ, name)
		if err != nil {
			return err
		}
		if prev := c.Field(name); prev != nil && prev.Type == typ {
			f = prev
		} else if old != nil {
			if prev := old.Field(name); prev != nil && prev.Type == typ {
				f.ID = prev.ID
			}
		}
		if f.ID == "" {
			f.ID = "_clone_" + schema.RandomString(6, "0123456789")
		}
		fields = append(fields, f)
	}
	if !hasID {
		return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", "The view query must return an id column.")}
	}
	c.Fields = fields
	return nil
}

func viewFieldType(dbType string) string {
	switch t := strings.ToUpper(dbType); {
	case strings.Contains(t, "BOOL"):
		return "bool"
	case strings.Contains(t, "JSON"):
		return "json"
	case strings.Contains(t, "INT"), strings.Contains(t, "REAL"), strings.Contains(t, "FLOAT"),
		strings.Contains(t, "NUMERIC"), strings.Contains(t, "DOUBLE"), strings.Contains(t, "DECIMAL"):
		return "number"
	}
	return "text"
}

// viewQuerySystemName finds the database's own catalogs and functions
// (pg_read_file, information_schema, sqlite_master, ...) and PostgreSQL's
// U&"..." escaped identifiers, which could spell them.
var viewQuerySystemName = regexp.MustCompile(`(?i)\b(pg_\w*|sqlite_\w*|information_schema)\b|\bU&"`)

// stripStrings blanks out the '...' literals of a query, so that checks of
// its identifiers do not trip on text.
func stripStrings(q string) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(q); i++ {
		if q[i] == '\'' {
			in = !in
			b.WriteByte(' ')
			continue
		}
		if in {
			b.WriteByte(' ')
		} else {
			b.WriteByte(q[i])
		}
	}
	return b.String()
}

// tableColumn is one column a view reads.
type tableColumn struct{ table, column string }

// checkViewReads refuses a view that reads anything but collections'
// visible fields: hidden fields (password hashes, tokenKey, the auth system
// collections' secrets and any field marked hidden) would otherwise reach
// clients through a view column, and the system tables hold keys and
// OAuth2 secrets. The columns read are the database's own account of the
// view (SQLite's compiled program, PostgreSQL's dependencies), not a parse
// of the query text, so aliases, expressions, subqueries and * are seen
// through.
func (s *Store) checkViewReads(ctx context.Context, tx *sql.Tx, snap *Schema, view string) error {
	var reads []tableColumn
	var err error
	if s.dialect.Name() == "postgres" {
		reads, err = postgresViewReads(ctx, tx, view)
	} else {
		reads, err = sqliteViewReads(ctx, tx, view)
	}
	if err != nil {
		var ve schema.Errors
		if errors.As(err, &ve) {
			return err
		}
		return fmt.Errorf("view %s: read its columns: %w", view, err)
	}
	refuse := func(msg string) error {
		return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", msg)}
	}
	for _, r := range reads {
		src := snap.byName[strings.ToLower(r.table)]
		if src == nil || !strings.EqualFold(src.Name, r.table) {
			return refuse(fmt.Sprintf("The view query reads %q, which is not a collection.", r.table))
		}
		if r.column == "" {
			continue
		}
		if f := src.Field(r.column); f != nil && f.Hidden {
			return refuse(fmt.Sprintf("The view query reads the hidden field %s.%s; hidden fields cannot be exposed through a view.", src.Name, f.Name))
		}
	}
	return nil
}

// sqliteViewReads lists the table columns SQLite's program for the view
// reads: every Column instruction on a cursor opened on a table or an
// index, mapped through sqlite_master's root pages.
func sqliteViewReads(ctx context.Context, tx *sql.Tx, view string) ([]tableColumn, error) {
	type object struct {
		table string
		cols  []string // by column number (table) or key position (index)
	}
	roots := map[int64]*object{}
	rs, err := tx.QueryContext(ctx, `SELECT type, name, tbl_name, rootpage FROM sqlite_master WHERE rootpage > 0`)
	if err != nil {
		return nil, err
	}
	type entry struct {
		typ, name, table string
		root             int64
	}
	var entries []entry
	for rs.Next() {
		var e entry
		if err := rs.Scan(&e.typ, &e.name, &e.table, &e.root); err != nil {
			rs.Close()
			return nil, err
		}
		entries = append(entries, e)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	for _, e := range entries {
		q := `SELECT name FROM pragma_table_info(?) ORDER BY cid`
		if e.typ == "index" {
			// Expression and rowid key parts have no name: they count as
			// every column of the table (below, "*").
			q = `SELECT COALESCE(name, '*') FROM pragma_index_xinfo(?) ORDER BY seqno`
		}
		cols, err := queryStrings(ctx, tx, q, e.name)
		if err != nil {
			return nil, err
		}
		roots[e.root] = &object{table: e.table, cols: cols}
	}
	rs, err = tx.QueryContext(ctx, "EXPLAIN SELECT * FROM "+quote(view))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cursors := map[int64]*object{}
	var out []tableColumn
	for rs.Next() {
		var addr, p1, p2, p3 int64
		var opcode string
		var p4, p5, comment any
		if err := rs.Scan(&addr, &opcode, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			return nil, err
		}
		switch opcode {
		case "OpenRead", "OpenWrite", "ReopenIdx":
			if p3 != 0 {
				return nil, schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", "The view query may only read the main database.")}
			}
			obj := roots[p2]
			if obj == nil {
				// sqlite_master itself, or what else has no entry in it.
				return nil, schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", "The view query may only read collections.")}
			}
			cursors[p1] = obj
			out = append(out, tableColumn{table: obj.table})
		case "OpenDup":
			cursors[p1] = cursors[p2]
		case "Column":
			obj := cursors[p1]
			if obj == nil {
				continue // an ephemeral table or sorter: filled from reads seen here
			}
			switch {
			case p2 < 0 || p2 >= int64(len(obj.cols)):
			case obj.cols[p2] == "*":
				for _, c := range roots {
					if c.table == obj.table && len(c.cols) > 0 && c.cols[0] != "*" {
						for _, name := range c.cols {
							out = append(out, tableColumn{obj.table, name})
						}
						break
					}
				}
			default:
				out = append(out, tableColumn{obj.table, obj.cols[p2]})
			}
		}
	}
	return out, rs.Err()
}

// postgresViewReads lists the relations and columns the view depends on
// (pg_depend records one row per column its rewrite rule uses). A
// whole-row reference (row_to_json(u), u::text) depends on no column, so
// it is found in the view's definition as PostgreSQL prints it back, where
// it always reads alias.*.
func postgresViewReads(ctx context.Context, tx *sql.Tx, view string) ([]tableColumn, error) {
	var def string
	if err := tx.QueryRowContext(ctx, `SELECT pg_get_viewdef($1::regclass)`, quote(view)).Scan(&def); err != nil {
		return nil, err
	}
	if pgWholeRow.MatchString(stripStrings(def)) {
		return nil, schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query",
			"The view query uses a whole row (such as row_to_json(t) or t.*) inside an expression; name the columns instead.")}
	}
	rs, err := tx.QueryContext(ctx, `SELECT CASE WHEN n.nspname = current_schema() THEN c.relname ELSE n.nspname || '.' || c.relname END,
			COALESCE(a.attname, '')
		FROM pg_rewrite r
		JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
		JOIN pg_class c ON c.oid = d.refobjid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
		WHERE r.ev_class = $1::regclass AND d.refobjid <> r.ev_class`, quote(view))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []tableColumn
	for rs.Next() {
		var tc tableColumn
		if err := rs.Scan(&tc.table, &tc.column); err != nil {
			return nil, err
		}
		out = append(out, tc)
	}
	return out, rs.Err()
}

// pgWholeRow matches alias.* as pg_get_viewdef prints a whole-row value.
var pgWholeRow = regexp.MustCompile(`[\w"]\.\*`)

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("store: dry run")

// DryRunView returns the collection that saving the view collection c
// would store (its fields inferred from the view query) without storing
// anything: the view is created in a transaction that is rolled back. An
// empty name gets a placeholder, so a view can be tried before it is named.
// Collection checks (before-change hooks) run as for a real save.
func (s *Store) DryRunView(ctx context.Context, c *schema.Collection) (*schema.Collection, error) {
	c = c.Clone()
	c.Type = schema.TypeView
	name := c.Name
	if name == "" {
		c.Name = "dry_run_" + schema.NewID()
	}
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	var out *schema.Collection
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		saved, err := s.saveCollectionTx(ctx, tx, s.Schema(), c)
		if err != nil {
			return err
		}
		out = saved
		return errDryRun
	})
	if !errors.Is(err, errDryRun) {
		return nil, err
	}
	out.Name = name
	return out, nil
}
