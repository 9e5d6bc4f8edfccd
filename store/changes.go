package store

import (
	"context"

	"github.com/plinthdev/plinth/schema"
)

// Record write actions, as realtime events name them.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Change is one record write of a committed transaction.
type Change struct {
	Action string
	// Record is the record as written (for a delete, as it was).
	Record *schema.Record
	// Original is the record before an update when the writer told the
	// transaction (Tx.NoteOriginal); nil otherwise.
	Original *schema.Record
}

// OnCommit adds fn to the listeners that receive the record writes of
// every transaction after it commits, in order, cascaded deletes included;
// writes of a rolled-back transaction are never reported. Listeners run on
// the committing goroutine (on SQLite, for every transaction of a shared
// commit, in commit order), so they must hand work off rather than do it,
// must not start a write transaction (it would wait for them), and must
// not modify the records. Add them before serving.
func (s *Store) OnCommit(fn func([]Change)) {
	s.schemaMu.Lock() // serialises adders; readers load without locking
	defer s.schemaMu.Unlock()
	var list []func([]Change)
	if old := s.onCommit.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, fn)
	s.onCommit.Store(&list)
}

// OnBeforeCommit adds fn to the listeners that receive the record writes
// of every transaction just before it commits, inside it: what fn writes
// through tx (an outbox row, say) commits or rolls back with the records.
// An error from fn rolls the transaction back. Add them before serving.
func (s *Store) OnBeforeCommit(fn func(ctx context.Context, tx *Tx, changes []Change) error) {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	var list []func(context.Context, *Tx, []Change) error
	if old := s.beforeCommitFns.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, fn)
	s.beforeCommitFns.Store(&list)
}

// beforeCommit runs the OnBeforeCommit listeners.
func (s *Store) beforeCommit(ctx context.Context, tx *Tx) error {
	fns := s.beforeCommitFns.Load()
	if fns == nil || len(tx.changes) == 0 {
		return nil
	}
	for _, fn := range *fns {
		if err := fn(ctx, tx, tx.changes); err != nil {
			return err
		}
	}
	return nil
}

// NoteOriginal tells the transaction the stored version of a record it is
// about to update, so that the change carries it (Change.Original).
func (t *Tx) NoteOriginal(r *schema.Record) {
	if t.s.beforeCommitFns.Load() == nil {
		return
	}
	if t.originals == nil {
		t.originals = map[string]*schema.Record{}
	}
	t.originals[r.Collection.ID+"/"+r.ID()] = r
}

// record notes a write for the commit listeners, if there are any.
func (t *Tx) record(action string, r *schema.Record) {
	if t.s.onCommit.Load() == nil && t.s.beforeCommitFns.Load() == nil {
		return
	}
	ch := Change{Action: action, Record: r.Clone()}
	if action == ActionUpdate && t.originals != nil {
		ch.Original = t.originals[r.Collection.ID+"/"+r.ID()]
	}
	t.changes = append(t.changes, ch)
}
