package store

import (
	"context"
	"strings"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// MatchesRecord reports whether the record snapshot r satisfies filters,
// evaluated as though r were its collection's row, whether or not that row
// still exists (or ever did) in the database. Realtime uses it to decide,
// after the fact, who may see a created, updated or deleted record: the
// rule sees the record as it was at the event, and relations, back
// relations and @collection joins still read the live tables.
func (s *Store) MatchesRecord(ctx context.Context, r *schema.Record, req *filter.RequestInfo, filters ...string) (bool, error) {
	return s.MatchesRecordFor(ctx, r, req, nil, "", filters...)
}

// MatchesRecordFor is MatchesRecord with an API client's own filter
// (clientFilter, policed by client; see filter.Client) added to the trusted
// filters.
func (s *Store) MatchesRecordFor(ctx context.Context, r *schema.Record, req *filter.RequestInfo, client *filter.Client, clientFilter string, filters ...string) (_ bool, err error) {
	ctx, cancel := s.limits.bound(ctx)
	defer cancel()
	defer func() { err = timeoutError(ctx, err) }()
	c := r.Collection
	env := s.env(s.Schema(), c, req)
	p := &filter.Params{Dialect: env.Dialect}
	var row strings.Builder
	for _, f := range c.Fields {
		if f.Storage() == schema.StoreNone {
			continue
		}
		if row.Len() > 0 {
			row.WriteString(", ")
		}
		row.WriteString(s.dialect.CastParam(p.Add(toDB(f, r.Get(f.Name))), f.Storage()) + " AS " + quote(f.Name))
	}
	where, err := s.where(env, p, filters)
	if err != nil {
		return false, err
	}
	clientEnv := *env
	clientEnv.Client = client
	if where, err = s.andWhere(&clientEnv, p, where, clientFilter); err != nil {
		return false, err
	}
	if where == "" {
		return true, nil
	}
	q := "SELECT 1 FROM (SELECT " + row.String() + ") AS " + quote(rootAlias) + " WHERE " + where + " LIMIT 1"
	release, err := s.limits.acquireHeavy(ctx, p.ClientCost)
	if err != nil {
		return false, err
	}
	defer release()
	rows, err := s.query(ctx, q, p.Values...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}
