package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

var viewQueryStart = regexp.MustCompile(`(?is)^\s*(SELECT|WITH)\s`)

// saveView (re)creates the SQL view behind a view collection and derives
// its fields from the columns the query returns.
func (s *Store) saveView(ctx context.Context, tx *sql.Tx, old, c *schema.Collection) error {
	q := strings.TrimRight(strings.TrimSpace(c.ViewQuery), "; \n\t")
	if !viewQueryStart.MatchString(q) || strings.Contains(q, ";") {
		return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", "The view query must be a single SELECT statement.")}
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
	rows, err := tx.QueryContext(ctx, "SELECT * FROM "+quote(c.Name)+" LIMIT 0")
	if err != nil {
		return schema.Errors{"viewQuery": schema.NewFieldError("validation_invalid_view_query", fmt.Sprintf("Invalid view query: %v", err))}
	}
	types, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
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
