package store

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// Index is a parsed `indexes` entry. Collections carry their indexes as
// CREATE INDEX strings (PocketBase's format); Plinth parses them into this
// portable form and writes dialect-specific DDL from it, so a superuser's
// index text never reaches the database verbatim.
type Index struct {
	Name    string
	Unique  bool
	Table   string
	Columns []IndexColumn
	// NotEmpty is the column of a `WHERE col != ''` partial index.
	NotEmpty string
}

// IndexColumn is one indexed column.
type IndexColumn struct {
	Name   string
	Desc   bool
	NoCase bool
}

var (
	indexPattern      = regexp.MustCompile(`(?is)^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?[` + "`" + `"'\[]?(\w+)[` + "`" + `"'\]]?\s+ON\s+[` + "`" + `"'\[]?(\w+)[` + "`" + `"'\]]?\s*\((.+?)\)\s*(?:WHERE\s+(.+?))?\s*;?\s*$`)
	indexColPattern   = regexp.MustCompile(`(?is)^[` + "`" + `"'\[]?(\w+)[` + "`" + `"'\]]?(\s+COLLATE\s+NOCASE)?(\s+(?:ASC|DESC))?$`)
	indexWherePattern = regexp.MustCompile(`(?is)^[` + "`" + `"'\[]?(\w+)[` + "`" + `"'\]]?\s*(?:!=|<>)\s*''$`)
)

// ParseIndex parses `CREATE [UNIQUE] INDEX name ON table (col [COLLATE
// NOCASE] [ASC|DESC], ...) [WHERE col != ”]`.
func ParseIndex(s string) (*Index, error) {
	m := indexPattern.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("invalid index %q: expected CREATE [UNIQUE] INDEX name ON table (columns)", s)
	}
	idx := &Index{Unique: m[1] != "", Name: m[2], Table: m[3]}
	if !schema.ValidIdentifier(idx.Name) {
		return nil, fmt.Errorf("invalid index name %q", idx.Name)
	}
	for _, part := range strings.Split(m[4], ",") {
		cm := indexColPattern.FindStringSubmatch(strings.TrimSpace(part))
		if cm == nil {
			return nil, fmt.Errorf("invalid index column %q: expected a column name with optional COLLATE NOCASE and ASC/DESC", strings.TrimSpace(part))
		}
		idx.Columns = append(idx.Columns, IndexColumn{
			Name:   cm[1],
			NoCase: cm[2] != "",
			Desc:   strings.EqualFold(strings.TrimSpace(cm[3]), "DESC"),
		})
	}
	if m[5] != "" {
		wm := indexWherePattern.FindStringSubmatch(strings.TrimSpace(m[5]))
		if wm == nil {
			return nil, fmt.Errorf("unsupported index condition %q: only `WHERE column != ''` is supported", m[5])
		}
		idx.NotEmpty = wm[1]
	}
	return idx, nil
}

// String is the canonical, dialect-neutral text of the index.
func (idx *Index) String() string { return idx.sql(nil) }

// sql writes CREATE INDEX for a dialect (nil: canonical form).
func (idx *Index) sql(d Dialect) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if idx.Unique {
		b.WriteString("UNIQUE ")
	}
	b.WriteString("INDEX ")
	b.WriteString(quoteIf(d, idx.Name))
	b.WriteString(" ON ")
	b.WriteString(quoteIf(d, idx.Table))
	b.WriteString(" (")
	for i, c := range idx.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case c.NoCase && d != nil && d.Name() == "postgres":
			b.WriteString("LOWER(" + quote(c.Name) + ")")
		case c.NoCase:
			b.WriteString(quoteIf(d, c.Name) + " COLLATE NOCASE")
		default:
			b.WriteString(quoteIf(d, c.Name))
		}
		if c.Desc {
			b.WriteString(" DESC")
		}
	}
	b.WriteString(")")
	if idx.NotEmpty != "" {
		b.WriteString(" WHERE " + quoteIf(d, idx.NotEmpty) + " != ''")
	}
	return b.String()
}

func quoteIf(d Dialect, name string) string {
	if d == nil {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return quote(name)
}

// checkIndexes parses c's indexes and checks they name c and its columns.
func checkIndexes(c *schema.Collection) ([]*Index, schema.Errors) {
	var out []*Index
	errs := schema.Errors{}
	names := map[string]bool{}
	for i, s := range c.Indexes {
		key := fmt.Sprint(i)
		idx, err := ParseIndex(s)
		if err != nil {
			errs.Add(key, schema.NewFieldError("validation_invalid_index_expression", err.Error()))
			continue
		}
		// Renaming a collection renames the table its indexes are on.
		idx.Table = c.Name
		lname := schema.IdentifierKey(idx.Name)
		if names[lname] {
			errs.Add(key, schema.NewFieldError("validation_duplicated_index_name", "Duplicated index name."))
			continue
		}
		names[lname] = true
		for _, col := range idx.Columns {
			if col.Name != "id" && c.Field(col.Name) == nil || (c.Field(col.Name) != nil && c.Field(col.Name).Storage() == schema.StoreNone) {
				errs.Add(key, schema.NewFieldError("validation_invalid_index_expression", fmt.Sprintf("Unknown column %q.", col.Name)))
			}
		}
		if idx.NotEmpty != "" && c.Field(idx.NotEmpty) == nil {
			errs.Add(key, schema.NewFieldError("validation_invalid_index_expression", fmt.Sprintf("Unknown column %q.", idx.NotEmpty)))
		}
		out = append(out, idx)
	}
	return out, errs
}
