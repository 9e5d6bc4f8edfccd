package store

import (
	"context"
	"strings"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// MaxReferencedIDs is the most ids FindReferencing takes in one call; the
// ids are bound parameters (SQLite allows 32,766 per statement, PostgreSQL
// 65,535), so callers with more split them.
const MaxReferencedIDs = 500

// FindReferencing returns, in the default order and up to limit, the
// records of c whose relation field f holds one of ids, provided the
// filters hold (used by back-relation expand). The ids are bound as one
// list, not spelled out as a filter, so the query stays one short
// statement whatever their number.
func (s *Store) FindReferencing(ctx context.Context, c *schema.Collection, f *schema.Field, ids []string, limit int, req *filter.RequestInfo, filters ...string) (_ []*schema.Record, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxReferencedIDs {
		ids = ids[:MaxReferencedIDs]
	}
	ctx, cancel := s.limits.bound(ctx)
	defer cancel()
	defer func() { err = timeoutError(ctx, err) }()
	env := s.env(s.Schema(), c, req)
	p := &filter.Params{Dialect: env.Dialect}
	phs := make([]string, len(ids))
	for i, id := range ids {
		phs[i] = p.Add(id)
	}
	list := strings.Join(phs, ", ")
	col := quote(rootAlias) + "." + quote(f.Name)
	var cond string
	switch {
	case f.Storage() != schema.StoreJSONArray:
		cond = col + " IN (" + list + ")"
	case s.dialect.Name() == "postgres":
		cond = col + " ?| ARRAY[" + list + "]::text[]"
	default:
		cond = "EXISTS (SELECT 1 FROM json_each(" + col + ") WHERE json_each.value IN (" + list + "))"
	}
	where, err := s.where(env, p, filters)
	if err != nil {
		return nil, err
	}
	if where != "" {
		cond += " AND " + where
	}
	order, err := s.orderBy(env, p, c, "")
	if err != nil {
		return nil, err
	}
	cols, fields := selectColumns(c)
	query := "SELECT " + cols + " FROM " + quote(c.Name) + " AS " + quote(rootAlias) + " WHERE " + cond +
		" ORDER BY " + order + " LIMIT " + p.Add(int64(limit))
	return scanRecords(ctx, s, c, fields, query, p.Values)
}
