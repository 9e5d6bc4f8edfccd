package store

import (
	"context"
	"errors"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// ErrConflict is returned by UpdateIf when the stored row no longer holds
// the expected value: another request changed it first.
var ErrConflict = errors.New("the record was changed by another request")

// UpdateIf writes every stored column of r, like Update, but only while the
// stored value of field still equals expected; otherwise it writes nothing
// and returns ErrConflict. It is a compare-and-set for values that must be
// consumed once (a TOTP step, a recovery code) even when two requests race
// on PostgreSQL's READ COMMITTED transactions. Relations are not checked:
// it is meant for system rows.
func (t *Tx) UpdateIf(ctx context.Context, r *schema.Record, field string, expected any) error {
	c := r.Collection
	cond := c.Field(field)
	if c.IsView() || cond == nil || cond.Storage() == schema.StoreNone {
		return errors.New("store: UpdateIf needs a stored field of a writable collection")
	}
	var sets []string
	var args []any
	for _, f := range c.Fields {
		if f.Storage() == schema.StoreNone || f.Name == "id" {
			continue
		}
		args = append(args, toDB(f, r.Get(f.Name)))
		sets = append(sets, quote(f.Name)+" = "+t.s.dialect.Placeholder(len(args)))
	}
	args = append(args, r.ID())
	where := `"id" = ` + t.s.dialect.Placeholder(len(args))
	args = append(args, toDB(cond, expected))
	where += " AND " + quote(cond.Name) + " = " + t.s.dialect.Placeholder(len(args))
	q := "UPDATE " + quote(c.Name) + " SET " + strings.Join(sets, ", ") + " WHERE " + where
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return t.s.mapWriteError(c, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return nil
}
