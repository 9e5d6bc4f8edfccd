package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plinthdev/plinth/schema"
)

// Replacement is what Replace's fill writes through, inside the
// replacing transaction.
type Replacement struct {
	s   *Store
	tx  *sql.Tx
	cur *Schema
}

// Collection returns a collection of the replaced store by id.
func (r *Replacement) Collection(id string) *schema.Collection { return r.cur.byID[id] }

// Records adds records of c (as ImportRecords does, in the transaction).
func (r *Replacement) Records(ctx context.Context, c *schema.Collection, recs []*schema.Record) error {
	return r.s.importRecordsTx(ctx, r.tx, c, recs)
}

// SetParam stores a parameter.
func (r *Replacement) SetParam(ctx context.Context, key, value string) error {
	_, err := r.tx.ExecContext(ctx, r.s.rebind(`INSERT INTO _params (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`), key, value)
	return err
}

// Table replaces the rows of the plain table name (one of ExportTables).
func (r *Replacement) Table(ctx context.Context, name string, rows []map[string]any) error {
	return r.s.importTableTx(ctx, r.tx, name, rows, true)
}

// Replace makes the store hold list's collections instead of its own
// (system collections stay, emptied), then lets fill add records,
// parameters and plain tables, all in one transaction: it succeeds whole
// or leaves the store as it was. Writes wait while it runs; reads go on
// seeing the old data until it commits. Collection hooks run as for any
// collection change.
func (s *Store) Replace(ctx context.Context, list []*schema.Collection, fill func(r *Replacement) error) error {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	snap := s.Schema()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur := snap
		// Views first: on PostgreSQL a table a view reads cannot go first.
		for _, views := range []bool{true, false} {
			for _, c := range snap.list {
				if c.System || c.IsView() != views {
					continue
				}
				if err := s.deleteCollectionTx(ctx, tx, c); err != nil {
					return err
				}
				cur = newSchemaWithout(cur, c.ID)
			}
		}
		for _, c := range cur.list {
			if c.IsView() {
				continue
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+quote(c.Name)); err != nil {
				return fmt.Errorf("replace: empty %s: %w", c.Name, err)
			}
		}
		combined := cur
		prepared := make([]*schema.Collection, 0, len(list))
		for _, in := range list {
			if in.System {
				continue
			}
			c := in.Clone()
			if !schema.ValidSchemaID(c.ID) || combined.byID[c.ID] != nil {
				return fmt.Errorf("replace: collection %s: invalid or duplicate id %q", c.Name, c.ID)
			}
			prepared = append(prepared, c)
			combined = withCollection(combined, c)
		}
		errs := schema.Errors{}
		for i, c := range prepared {
			saved, err := s.saveCollectionTx(ctx, tx, mergeForImport(cur, combined, c), c)
			if err != nil {
				var ve schema.Errors
				if errors.As(err, &ve) {
					errs[fmt.Sprint(i)] = ve
					continue
				}
				return err
			}
			cur = withCollection(cur, saved)
		}
		if len(errs) > 0 {
			return schema.Errors{"collections": errs}
		}
		return fill(&Replacement{s: s, tx: tx, cur: cur})
	})
	if err != nil {
		return err
	}
	return s.afterSchemaChange(ctx)
}
