package store

import "github.com/plinthdev/plinth/schema"

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
}

// OnCommit sets fn to receive the record writes of every transaction after
// it commits, in order, cascaded deletes included; writes of a rolled-back
// transaction are never reported. fn runs on the committing goroutine, so
// it must hand the work off rather than do it. Set it before serving.
func (s *Store) OnCommit(fn func([]Change)) { s.onCommit.Store(&fn) }

// record notes a write for OnCommit, if anyone listens.
func (t *Tx) record(action string, r *schema.Record) {
	if fn := t.s.onCommit.Load(); fn == nil || *fn == nil {
		return
	}
	t.changes = append(t.changes, Change{Action: action, Record: r.Clone()})
}
