package store

import (
	"context"

	"github.com/plinthdev/plinth/schema"
)

// deleteHook is what OnDelete registered.
type deleteHook struct {
	wants func(*schema.Collection) bool
	fn    func(ctx context.Context, tx *Tx, r *schema.Record) error
}

// OnDelete sets fn to be told, inside the transaction, of every deleted
// record of a collection for which wants reports true: direct deletes,
// cascaded ones and the records of a truncated collection (which are then
// deleted one by one instead of in one statement). fn sees the record as
// it was; it may register work with tx.AfterCommit, and an error from it
// aborts the delete. Unlike OnCommit it runs while the transaction is
// open, so it can tie the work to the transaction's outcome (the files
// of deleted records are removed this way). Set it before serving.
func (s *Store) OnDelete(wants func(*schema.Collection) bool, fn func(ctx context.Context, tx *Tx, r *schema.Record) error) {
	s.onDelete.Store(&deleteHook{wants: wants, fn: fn})
}

// observesDeletes reports whether OnDelete wants the deletes of c.
func (s *Store) observesDeletes(c *schema.Collection) bool {
	h := s.onDelete.Load()
	return h != nil && h.fn != nil && (h.wants == nil || h.wants(c))
}

// notifyDelete tells the OnDelete hook of a deleted record.
func (t *Tx) notifyDelete(ctx context.Context, r *schema.Record) error {
	if !t.s.observesDeletes(r.Collection) {
		return nil
	}
	return t.s.onDelete.Load().fn(ctx, t, r)
}
