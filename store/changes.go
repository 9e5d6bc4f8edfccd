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

// OnCommit adds fn to the listeners that receive the record writes of
// every transaction after it commits, in order, cascaded deletes included;
// writes of a rolled-back transaction are never reported. Listeners run on
// the committing goroutine, so they must hand work off rather than do it,
// and must not modify the records. Add them before serving.
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

// record notes a write for the OnCommit listeners, if there are any.
func (t *Tx) record(action string, r *schema.Record) {
	if t.s.onCommit.Load() == nil {
		return
	}
	t.changes = append(t.changes, Change{Action: action, Record: r.Clone()})
}
