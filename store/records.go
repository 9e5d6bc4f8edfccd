package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// rootAlias is the SQL alias of the queried collection's table; the filter
// compiler qualifies the root collection's columns with it.
const rootAlias = "_r"

// ListQuery describes one page of records.
type ListQuery struct {
	Collection *schema.Collection
	// Filters are trusted filter expressions that must all hold (the
	// collection's rule, filters built by Plinth itself).
	Filters []string
	// Filter is the API client's `filter` parameter; it must hold too.
	Filter string
	// Client polices Filter and Sort as written by an API client (see
	// filter.Client); nil compiles them as trusted.
	Client *filter.Client
	// Request resolves @request.* in the filters.
	Request *filter.RequestInfo
	// Sort is the `sort` parameter.
	Sort    string
	Page    int
	PerPage int
	// Offset, when positive, is how many records to skip instead of the
	// pages before Page (GraphQL's offset need not be a page boundary).
	Offset    int
	SkipTotal bool
}

// Page is one page of records and, unless skipped, the total.
type Page struct {
	Items      []*schema.Record
	TotalItems int // -1 when skipped
}

// reader is what record reads need: the reader pool or a transaction.
type reader interface {
	query(ctx context.Context, q string, args ...any) (rows, error)
	schemaSnap() *Schema
}

func (s *Store) query(ctx context.Context, q string, args ...any) (rows, error) {
	// No defer: this is every read's path, and without a tracer end is a
	// no-op that need not be a closure.
	ctx, end := s.span(ctx, "db.query", q)
	var rs rows
	var err error
	if s.pgPool != nil {
		rs, err = pgQuery(ctx, s.pgPool, q, args...)
	} else {
		rs, err = s.queryRead(ctx, q, args...)
	}
	end(err)
	return rs, err
}
func (s *Store) schemaSnap() *Schema { return s.Schema() }

// List returns one page of records.
func (s *Store) List(ctx context.Context, q ListQuery) (*Page, error) { return s.list(ctx, s, q) }

// FindOne returns the record with id, provided the filters hold for it;
// otherwise ErrNotFound.
func (s *Store) FindOne(ctx context.Context, c *schema.Collection, id string, req *filter.RequestInfo, filters ...string) (*schema.Record, error) {
	return s.findOne(ctx, s, c, id, req, filters)
}

// FindMany returns the records of c whose id is in ids and for which the
// filters hold, in no particular order (used by expand).
func (s *Store) FindMany(ctx context.Context, c *schema.Collection, ids []string, req *filter.RequestInfo, filters ...string) ([]*schema.Record, error) {
	return s.findMany(ctx, s, c, ids, req, filters)
}

// FindBy returns the records of c matching the filters, up to limit (used
// by back-relation expand).
func (s *Store) FindBy(ctx context.Context, c *schema.Collection, limit int, req *filter.RequestInfo, filters ...string) ([]*schema.Record, error) {
	p, err := s.list(ctx, s, ListQuery{Collection: c, Filters: filters, Request: req, PerPage: limit, Page: 1, SkipTotal: true})
	if err != nil {
		return nil, err
	}
	return p.Items, nil
}

func (s *Store) env(snap *Schema, c *schema.Collection, req *filter.RequestInfo) *filter.Env {
	return &filter.Env{Dialect: s.dialect.Filter(), Collection: c, Alias: rootAlias, Lookup: snap.Lookup, Request: req, Now: time.Now().UTC()}
}

// where compiles filters into one condition ("" when there are none).
func (s *Store) where(env *filter.Env, p *filter.Params, filters []string) (string, error) {
	var parts []string
	for _, src := range filters {
		if strings.TrimSpace(src) == "" {
			continue
		}
		e, err := filter.Parse(src)
		if err != nil {
			return "", err
		}
		sqlText, err := filter.Compile(e, env, p)
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+sqlText+")")
	}
	return strings.Join(parts, " AND "), nil
}

// andWhere adds the condition of filter src (compiled in env) to where.
func (s *Store) andWhere(env *filter.Env, p *filter.Params, where, src string) (string, error) {
	extra, err := s.where(env, p, []string{src})
	if err != nil || extra == "" {
		return where, err
	}
	if where == "" {
		return extra, nil
	}
	return where + " AND " + extra, nil
}

func selectColumns(c *schema.Collection) (string, []*schema.Field) {
	var b strings.Builder
	var fields []*schema.Field
	for _, f := range c.Fields {
		if f.Storage() == schema.StoreNone {
			continue
		}
		if len(fields) > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(rootAlias) + "." + quote(f.Name))
		fields = append(fields, f)
	}
	return b.String(), fields
}

func (s *Store) list(ctx context.Context, r reader, q ListQuery) (page *Page, err error) {
	ctx, cancel := s.limits.bound(ctx)
	defer cancel()
	defer func() { err = timeoutError(ctx, err) }()
	snap := r.schemaSnap()
	c := q.Collection
	env := s.env(snap, c, q.Request)
	p := &filter.Params{Dialect: env.Dialect}
	where, err := s.where(env, p, q.Filters)
	if err != nil {
		return nil, err
	}
	clientEnv := *env
	clientEnv.Client = q.Client
	where, err = s.andWhere(&clientEnv, p, where, q.Filter)
	if err != nil {
		return nil, err
	}
	order, err := s.orderBy(&clientEnv, p, c, q.Sort)
	if err != nil {
		return nil, err
	}
	cols, fields := selectColumns(c)
	from := " FROM " + quote(c.Name) + " AS " + quote(rootAlias)
	if where != "" {
		from += " WHERE " + where
	}
	if q.PerPage <= 0 {
		q.PerPage = 30
	}
	if q.Page <= 0 {
		q.Page = 1
	}
	query := "SELECT " + cols + from
	if order != "" {
		query += " ORDER BY " + order
	}
	// LIMIT and OFFSET are parameters, not literals: every page of a list
	// shape is one statement text, prepared once. On PostgreSQL that also
	// lets the planner settle on a generic plan after a few executions
	// instead of planning each page anew.
	whereArgs := len(p.Values)
	offset := int64(q.Page-1) * int64(q.PerPage)
	if q.Offset > 0 {
		offset = int64(q.Offset)
	}
	query += " LIMIT " + p.Add(int64(q.PerPage)) + " OFFSET " + p.Add(offset)
	release, err := s.limits.acquireHeavy(ctx, p.ClientCost)
	if err != nil {
		return nil, err
	}
	defer release()
	items, err := scanRecords(ctx, r, c, fields, query, p.Values)
	if err != nil {
		return nil, err
	}
	page = &Page{Items: items, TotalItems: -1}
	if !q.SkipTotal {
		// The page tells us the total when it is the first and not full.
		if offset == 0 && len(items) < q.PerPage {
			page.TotalItems = len(items)
		} else if n, ok, err := s.maybeRowCount(ctx, r, c, where); err != nil {
			return nil, err
		} else if ok {
			page.TotalItems = n
		} else if page.TotalItems, err = s.countRows(ctx, r, c, "SELECT COUNT(*)"+from, p.Values[:whereArgs]); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// countRows runs the count statement of a list. Outside a transaction the
// totals cache answers it when it can: inside one, the transaction's own
// writes count, and those are nobody else's.
func (s *Store) countRows(ctx context.Context, r reader, c *schema.Collection, query string, args []any) (int, error) {
	count := func() (n int, err error) {
		rows, err := r.query(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("count %s: %w", c.Name, err)
		}
		defer rows.Close()
		if rows.Next() {
			if err := rows.Scan(&n); err != nil {
				return 0, err
			}
		}
		return n, rows.Err()
	}
	if _, outside := r.(*Store); !outside || s.totals == nil {
		return count()
	}
	return s.totals.total(ctx, totalKey(query, args), count)
}

// orderBy compiles the sort parameter. Without one, SQLite tables keep
// insertion order through rowid (as PocketBase does); elsewhere the order is
// by id, which the primary key index serves, so paging stays stable and cheap.
func (s *Store) orderBy(env *filter.Env, p *filter.Params, c *schema.Collection, sort string) (string, error) {
	if strings.TrimSpace(sort) != "" {
		return filter.CompileSort(sort, env, p)
	}
	if s.dialect.Name() == "sqlite" && !c.IsView() {
		return quote(rootAlias) + ".rowid", nil
	}
	return quote(rootAlias) + `."id"`, nil
}

func (s *Store) findOne(ctx context.Context, r reader, c *schema.Collection, id string, req *filter.RequestInfo, filters []string) (*schema.Record, error) {
	items, err := s.findMany(ctx, r, c, []string{id}, req, filters)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, ErrNotFound
	}
	return items[0], nil
}

func (s *Store) findMany(ctx context.Context, r reader, c *schema.Collection, ids []string, req *filter.RequestInfo, filters []string) (_ []*schema.Record, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ctx, cancel := s.limits.bound(ctx)
	defer cancel()
	defer func() { err = timeoutError(ctx, err) }()
	env := s.env(r.schemaSnap(), c, req)
	p := &filter.Params{Dialect: env.Dialect}
	var in strings.Builder
	for i, id := range ids {
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteString(p.Add(id))
	}
	where, err := s.where(env, p, filters)
	if err != nil {
		return nil, err
	}
	cols, fields := selectColumns(c)
	query := "SELECT " + cols + " FROM " + quote(c.Name) + " AS " + quote(rootAlias) +
		" WHERE " + quote(rootAlias) + `."id" IN (` + in.String() + ")"
	if where != "" {
		query += " AND " + where
	}
	return scanRecords(ctx, r, c, fields, query, p.Values)
}

func scanRecords(ctx context.Context, r reader, c *schema.Collection, fields []*schema.Field, query string, args []any) ([]*schema.Record, error) {
	var out []*schema.Record
	err := eachRecord(ctx, r, c, fields, query, args, func(rec *schema.Record) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// eachRecord runs query (selecting fields of c) and passes each row to fn
// as a record, without holding them all.
func eachRecord(ctx context.Context, r reader, c *schema.Collection, fields []*schema.Field, query string, args []any, fn func(*schema.Record) error) error {
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", c.Name, err)
	}
	defer rows.Close()
	vals := make([]any, len(fields))
	ptrs := make([]any, len(fields))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("scan %s: %w", c.Name, err)
		}
		rec := schema.NewRecordSized(c)
		for i, f := range fields {
			rec.Set(f.Name, fromDB(f, vals[i]))
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return rows.Err()
}

// fromDB converts a scanned column value into the field's canonical value.
func fromDB(f *schema.Field, v any) any {
	switch f.Storage() {
	case schema.StoreText:
		switch x := v.(type) {
		case string:
			return x
		case []byte:
			return string(x)
		case nil:
			return ""
		case time.Time:
			return schema.FormatDate(x)
		default:
			return fmt.Sprint(x)
		}
	case schema.StoreNumber:
		switch x := v.(type) {
		case float64:
			return x
		case int64:
			return float64(x)
		case string:
			n, _ := strconv.ParseFloat(x, 64)
			return n
		case []byte:
			n, _ := strconv.ParseFloat(string(x), 64)
			return n
		}
		return 0.0
	case schema.StoreBool:
		switch x := v.(type) {
		case bool:
			return x
		case int64:
			return x != 0
		case float64:
			return x != 0
		case string:
			return x == "1" || x == "true" || x == "t"
		}
		return false
	case schema.StoreJSONArray:
		raw := rawBytes(v)
		var list []string
		if len(raw) > 0 && json.Unmarshal(raw, &list) == nil && list != nil {
			return list
		}
		return []string{}
	case schema.StoreJSON:
		raw := rawBytes(v)
		if f.Type == "geoPoint" {
			var g schema.GeoPoint
			if len(raw) > 0 {
				json.Unmarshal(raw, &g)
			}
			return g
		}
		if len(raw) == 0 || string(raw) == "null" {
			return json.RawMessage(nil)
		}
		if bytes.IndexByte(raw, ' ') >= 0 || bytes.IndexByte(raw, '\n') >= 0 {
			// PostgreSQL writes jsonb with spaces; clients get compact JSON
			// from both databases.
			var b bytes.Buffer
			if json.Compact(&b, raw) == nil {
				raw = b.Bytes()
			}
		}
		return json.RawMessage(raw)
	}
	return v
}

func rawBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return append([]byte(nil), x...)
	case string:
		return []byte(x)
	case nil:
		return nil
	case float64, int64, bool:
		b, _ := json.Marshal(x)
		return b
	}
	b, _ := json.Marshal(v)
	return b
}

// toDB converts a canonical value into a bind argument for the field's column.
func toDB(f *schema.Field, v any) any {
	switch f.Storage() {
	case schema.StoreJSONArray:
		list, _ := v.([]string)
		if list == nil {
			list = []string{}
		}
		b, _ := json.Marshal(list)
		return string(b)
	case schema.StoreJSON:
		switch x := v.(type) {
		case json.RawMessage:
			if len(x) == 0 {
				return nil
			}
			return string(x)
		case schema.GeoPoint:
			b, _ := json.Marshal(x)
			return string(b)
		case nil:
			return nil
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return v
}

// FindFirstBy returns the first record of c whose field equals value
// (lookups by a unique field such as an auth identity).
func (s *Store) FindFirstBy(ctx context.Context, c *schema.Collection, field string, value any) (*schema.Record, error) {
	return s.findFirst(ctx, s, c, map[string]any{field: value})
}

// FindFirst returns the first record of c whose fields equal the values of
// match (an unknown field matches nothing).
func (s *Store) FindFirst(ctx context.Context, c *schema.Collection, match map[string]any) (*schema.Record, error) {
	return s.findFirst(ctx, s, c, match)
}

// FindFirst is Store.FindFirst inside the transaction.
func (t *Tx) FindFirst(ctx context.Context, c *schema.Collection, match map[string]any) (*schema.Record, error) {
	return t.s.findFirst(ctx, t, c, match)
}

func (s *Store) findFirst(ctx context.Context, r reader, c *schema.Collection, match map[string]any) (*schema.Record, error) {
	names := make([]string, 0, len(match))
	for name := range match {
		f := c.Field(name)
		if f == nil || f.Storage() == schema.StoreNone {
			return nil, ErrNotFound
		}
		names = append(names, name)
	}
	slices.Sort(names) // one SQL text per set of fields, for the statement cache
	cols, fields := selectColumns(c)
	var b strings.Builder
	b.WriteString("SELECT " + cols + " FROM " + quote(c.Name) + " AS " + quote(rootAlias) + " WHERE ")
	args := make([]any, len(names))
	for i, name := range names {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(quote(rootAlias) + "." + quote(name) + " = " + s.dialect.Placeholder(i+1))
		args[i] = match[name]
	}
	b.WriteString(" LIMIT 1")
	recs, err := scanRecords(ctx, r, c, fields, b.String(), args)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, ErrNotFound
	}
	return recs[0], nil
}

// FindAuthRecord loads the record a token names; it implements
// auth.RecordFinder.
func (s *Store) FindAuthRecord(ctx context.Context, collectionID, id string) (*schema.Record, error) {
	c := s.Schema().Lookup(collectionID)
	if c == nil || !c.IsAuth() || c.ID != collectionID || !schema.ValidID(id) {
		return nil, ErrNotFound
	}
	return s.FindFirstBy(ctx, c, "id", id)
}
