package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// Tx is a write transaction. Reads through it see its own writes.
type Tx struct {
	s           *Store
	tx          *sql.Tx // SQLite
	pg          *pgTx   // PostgreSQL
	snap        *Schema
	afterCommit []func()
	changes     []Change
	// unprepared lists the SQL texts this transaction ran without a cached
	// statement, to be prepared once it has released the connection.
	unprepared []string
	// wakeSet notes that Enqueue registered its wake function.
	wakeSet bool
	// originals are the stored versions of updated records (NoteOriginal).
	originals map[string]*schema.Record
	// stmtCtx, on SQLite, is the context statements run under: the
	// caller's deadline without its cancellation (see writeGroup.run).
	stmtCtx context.Context
}

// query and exec run SQL through the writer's statement cache (SQLite):
// preparing a statement costs more than running it, and inside a
// transaction a statement can only be reused, not prepared for later.
func (t *Tx) query(ctx context.Context, q string, args ...any) (rows, error) {
	ctx, end := t.s.span(ctx, "db.query", q)
	rs, err := t.queryUntraced(ctx, q, args...)
	end(err)
	return rs, err
}

func (t *Tx) queryUntraced(ctx context.Context, q string, args ...any) (rows, error) {
	if t.pg != nil {
		return t.pg.query(ctx, q, args...)
	}
	ctx, err := t.driverCtx(ctx)
	if err != nil {
		return nil, err
	}
	if e := t.s.writeStmts.acquire(q); e != nil {
		st := t.tx.StmtContext(ctx, e.st)
		t.s.writeStmts.release(e) // the transaction's statement keeps it open
		return st.QueryContext(ctx, args...)
	}
	t.noteUnprepared(q)
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) (result, error) {
	ctx, end := t.s.span(ctx, "db.exec", q)
	res, err := t.execUntraced(ctx, q, args...)
	end(err)
	return res, err
}

func (t *Tx) execUntraced(ctx context.Context, q string, args ...any) (result, error) {
	if t.pg != nil {
		return t.pg.exec(ctx, q, args...)
	}
	ctx, err := t.driverCtx(ctx)
	if err != nil {
		return nil, err
	}
	return t.execSQLite(ctx, q, args...)
}

func (t *Tx) execSQLite(ctx context.Context, q string, args ...any) (result, error) {
	if e := t.s.writeStmts.acquire(q); e != nil {
		st := t.tx.StmtContext(ctx, e.st)
		t.s.writeStmts.release(e)
		return st.ExecContext(ctx, args...)
	}
	t.noteUnprepared(q)
	return t.tx.ExecContext(ctx, q, args...)
}

// control runs a savepoint statement of the batch (SQLite), never
// interrupted: the batch depends on it.
func (t *Tx) control(q string) error {
	_, err := t.execSQLite(context.Background(), q)
	return err
}

// driverCtx is the context a SQLite statement runs under: the
// transaction's deadline, while the caller's cancellation ends the
// transaction's work before a statement, never during one (see
// writeGroup.run).
func (t *Tx) driverCtx(ctx context.Context) (context.Context, error) {
	if t.stmtCtx == nil {
		return ctx, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return t.stmtCtx, nil
}

func (t *Tx) noteUnprepared(q string) {
	if t.s.writeStmts.enabled && len(t.unprepared) < 16 {
		t.unprepared = append(t.unprepared, q)
	}
}
func (t *Tx) schemaSnap() *Schema { return t.snap }

// Schema is the schema snapshot the transaction works with.
func (t *Tx) Schema() *Schema { return t.snap }

// AfterCommit registers fn to run after a successful commit (for events
// that must never be published for a rolled-back write).
func (t *Tx) AfterCommit(fn func()) { t.afterCommit = append(t.afterCommit, fn) }

// Tx runs fn in a write transaction and commits when it returns nil.
// On SQLite, transactions that queue for the writer share one commit
// (writeGroup); to fn and to the listeners each is a transaction of its
// own.
func (s *Store) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	ctx, end := s.span(ctx, "db.transaction", "")
	defer func() { end(err) }()
	// The deadline covers the whole transaction: on SQLite it holds the
	// only writer, so one slow statement would stall every write.
	ctx, cancel := s.limits.bound(ctx)
	defer cancel()
	defer func() { err = timeoutError(ctx, err) }()
	if s.group != nil {
		return s.group.run(ctx, fn)
	}
	tx := &Tx{s: s, snap: s.Schema()}
	if tx.pg, err = s.beginPG(ctx); err != nil {
		return err
	}
	// If fn panics (a hook's code, say), the connection must not stay
	// inside the transaction.
	ended := false
	defer func() {
		if !ended {
			tx.pg.rollback()
		}
	}()
	err = fn(tx)
	if err == nil {
		err = s.beforeCommit(ctx, tx)
	}
	ended = true
	if err != nil {
		tx.pg.rollback()
		return err
	}
	if err := tx.pg.commit(ctx); err != nil {
		return err
	}
	s.notifyCommitted(tx)
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// notifyCommitted counts a committed transaction and tells the commit
// listeners of its changes; its AfterCommit functions are run by its own
// caller.
func (s *Store) notifyCommitted(tx *Tx) {
	s.writeGen.Add(1)
	if len(tx.changes) > 0 {
		if fns := s.onCommit.Load(); fns != nil {
			for _, fn := range *fns {
				fn(tx.changes)
			}
		}
	}
}

// List returns one page of records as the transaction sees them.
func (t *Tx) List(ctx context.Context, q ListQuery) (*Page, error) { return t.s.list(ctx, t, q) }

// FindOne returns the record with id if the filters hold, else ErrNotFound.
func (t *Tx) FindOne(ctx context.Context, c *schema.Collection, id string, req *filter.RequestInfo, filters ...string) (*schema.Record, error) {
	return t.s.findOne(ctx, t, c, id, req, filters)
}

// Insert stores a new record after checking its relations. On PostgreSQL
// the INSERT is sent with the transaction's next statement or its COMMIT
// (one round trip for a create), so its failure — a unique clash, a
// missing related record — may be reported by that call instead (Flush
// reports it at once).
//
// The relation check rides on the INSERT itself instead of costing a
// query of its own (see insertLater for PostgreSQL). On SQLite the INSERT
// returns whether every related record exists; only when the answer is
// no is the row removed again and the relations checked one by one, for
// an error that names the field.
func (t *Tx) Insert(ctx context.Context, r *schema.Record) error {
	c := r.Collection
	if c.IsView() {
		return errReadOnlyView
	}
	var cols, marks, casts []string
	var args []any
	for _, f := range c.Fields {
		if f.Storage() == schema.StoreNone {
			continue
		}
		cols = append(cols, quote(f.Name))
		args = append(args, toDB(f, r.Get(f.Name)))
		ph := t.s.dialect.Placeholder(len(args))
		marks = append(marks, ph)
		if t.pg != nil {
			casts = append(casts, t.s.dialect.CastParam(ph, f.Storage()))
		}
	}
	q := "INSERT INTO " + quote(c.Name) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	guard, args, err := t.relationGuard(r, args)
	if err != nil {
		return err
	}
	if t.pg != nil {
		return t.insertLater(ctx, r, cols, casts, q, guard, args)
	}
	if guard == "" {
		if _, err := t.exec(ctx, q, args...); err != nil {
			return t.s.mapWriteError(c, err)
		}
		t.record(ActionCreate, r)
		return nil
	}
	ok, err := t.queryBool(ctx, q+" RETURNING "+guard, args...)
	if err != nil {
		return t.s.mapWriteError(c, err)
	}
	if !ok {
		if _, err := t.exec(ctx, "DELETE FROM "+quote(c.Name)+` WHERE "id" = `+t.s.dialect.Placeholder(1), r.ID()); err != nil {
			return fmt.Errorf("undo insert into %s: %w", c.Name, err)
		}
		if err := t.checkRelations(ctx, r); err != nil {
			return err
		}
		// The missing record appeared in between: insert unguarded.
		if _, err := t.exec(ctx, q, args[:len(cols)]...); err != nil {
			return t.s.mapWriteError(c, err)
		}
	}
	t.record(ActionCreate, r)
	return nil
}

// Flush sends a write that waits for the transaction's next statement
// (on PostgreSQL, an Insert travels with the next statement or the
// COMMIT), so that its error, if any, is reported now: for a caller that
// must tell which of several writes failed. Elsewhere it does nothing.
func (t *Tx) Flush(ctx context.Context) error {
	if t.pg == nil || t.pg.pending == nil {
		return nil
	}
	return t.pg.flush(ctx)
}

// insertLater is Insert on PostgreSQL: the INSERT waits to travel with
// the transaction's next statement or its COMMIT (pgTx.pending). With
// relations to check it is an INSERT … SELECT … WHERE guard, which writes
// no row when a related record is missing; the relations are then checked
// one by one for the error. casts are the values' placeholders cast to
// their columns' types: SELECT, unlike VALUES, does not take them from
// the columns.
func (t *Tx) insertLater(ctx context.Context, r *schema.Record, cols, casts []string, q, guard string, args []any) error {
	c := r.Collection
	w := &pendingWrite{q: q, args: args, failed: func(err error) error { return t.s.mapWriteError(c, err) }}
	w.span = func(ctx context.Context) func(error) {
		_, end := t.s.span(ctx, "db.exec", w.q)
		return end
	}
	if guard != "" {
		w.q = "INSERT INTO " + quote(c.Name) + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(casts, ", ") + " WHERE " + guard
		w.noRows = func(ctx context.Context) error {
			if err := t.checkRelations(ctx, r); err != nil {
				return err
			}
			return fmt.Errorf("insert into %s: %w", c.Name, ErrRelationsChanged)
		}
	}
	if err := t.pg.execLater(ctx, w); err != nil {
		return err
	}
	t.record(ActionCreate, r)
	return nil
}

// ErrRelationsChanged is returned on PostgreSQL for an insert whose
// related records were missing when it ran and present when checked right
// after (created meanwhile by another transaction): trying again succeeds.
var ErrRelationsChanged = errors.New("a related record was created meanwhile; try again")

// Update writes every stored column of r (found by r's id) after checking
// its relations, in the UPDATE's own WHERE clause (see Insert).
func (t *Tx) Update(ctx context.Context, r *schema.Record) error {
	c := r.Collection
	if c.IsView() {
		return errReadOnlyView
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
	q := "UPDATE " + quote(c.Name) + " SET " + strings.Join(sets, ", ") + ` WHERE "id" = ` + t.s.dialect.Placeholder(len(args))
	plain := len(args)
	guard, args, err := t.relationGuard(r, args)
	if err != nil {
		return err
	}
	if guard != "" {
		q += " AND " + guard
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return t.s.mapWriteError(c, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if guard == "" {
			return ErrNotFound
		}
		// Either the record or a related one is missing.
		if err := t.checkRelations(ctx, r); err != nil {
			return err
		}
		q = q[:len(q)-len(" AND "+guard)]
		res, err := t.exec(ctx, q, args[:plain]...)
		if err != nil {
			return t.s.mapWriteError(c, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
	}
	t.record(ActionUpdate, r)
	return nil
}

// relationGuard returns a condition, true when every record r's relation
// fields name exists, with its arguments appended to args (placeholders
// numbered after them), or "" when r names no related records. A relation
// to a collection that no longer exists is reported at once.
func (t *Tx) relationGuard(r *schema.Record, args []any) (string, []any, error) {
	var conds []string
	for _, ref := range t.relationRefs(r) {
		if ref.target == nil {
			return "", args, schema.Errors{ref.field: missingRelCollection()}
		}
		ids := slices.Compact(slices.Sorted(slices.Values(ref.ids)))
		marks := make([]string, len(ids))
		for i, id := range ids {
			args = append(args, id)
			marks[i] = t.s.dialect.Placeholder(len(args))
		}
		conds = append(conds, fmt.Sprintf(`(SELECT count(*) FROM %s WHERE "id" IN (%s)) = %d`, quote(ref.target.Name), strings.Join(marks, ", "), len(ids)))
	}
	if len(conds) == 0 {
		return "", args, nil
	}
	return "(" + strings.Join(conds, " AND ") + ")", args, nil
}

// queryBool runs a statement that returns one boolean.
func (t *Tx) queryBool(ctx context.Context, q string, args ...any) (bool, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var ok bool
	if rows.Next() {
		if err := rows.Scan(&ok); err != nil {
			return false, err
		}
	}
	return ok, rows.Err()
}

var errReadOnlyView = schema.Errors{"collection": schema.NewFieldError("validation_view_read_only", "View collections are read only.")}

// Matches reports whether the filters hold for the record with id, as the
// transaction sees it (rule checks of would-be records).
func (t *Tx) Matches(ctx context.Context, c *schema.Collection, id string, req *filter.RequestInfo, filters ...string) (bool, error) {
	_, err := t.FindOne(ctx, c, id, req, filters...)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// checkRelations rejects relation values that name missing records.
func (t *Tx) checkRelations(ctx context.Context, r *schema.Record) error {
	errs := schema.Errors{}
	for _, ref := range t.relationRefs(r) {
		if ref.target == nil {
			errs.Add(ref.field, missingRelCollection())
			continue
		}
		found, err := t.existingIDs(ctx, ref.target, ref.ids)
		if err != nil {
			return err
		}
		for _, id := range ref.ids {
			if !found[id] {
				errs.Add(ref.field, schema.NewFieldError("validation_missing_rel_records", fmt.Sprintf("Failed to find all relation records with the provided ids (%s).", id)))
				break
			}
		}
	}
	return errs.OrNil()
}

// relationRef is what one relation field of a record names.
type relationRef struct {
	field  string
	target *schema.Collection // nil when the collection no longer exists
	ids    []string
}

// relationRefs lists r's relation fields that name records.
func (t *Tx) relationRefs(r *schema.Record) []relationRef {
	var refs []relationRef
	for _, f := range r.Collection.Fields {
		ro, ok := f.Options.(*schema.RelationOptions)
		if !ok {
			continue
		}
		if ids := r.GetStrings(f.Name); len(ids) > 0 {
			refs = append(refs, relationRef{field: f.Name, target: t.snap.Lookup(ro.CollectionID), ids: ids})
		}
	}
	return refs
}

func missingRelCollection() *schema.FieldError {
	return schema.NewFieldError("validation_missing_rel_collection", "The related collection no longer exists.")
}

func (t *Tx) existingIDs(ctx context.Context, c *schema.Collection, ids []string) (map[string]bool, error) {
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i] = t.s.dialect.Placeholder(i + 1)
		args[i] = id
	}
	found, err := scanStrings(t.query(ctx, `SELECT "id" FROM `+quote(c.Name)+` WHERE "id" IN (`+strings.Join(marks, ", ")+")", args...))
	if err != nil {
		return nil, fmt.Errorf("check relations to %s: %w", c.Name, err)
	}
	out := make(map[string]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// Delete removes r. Records that reference it are deleted too when their
// relation field cascades; otherwise the reference is removed, or the delete
// is refused when that would leave a required relation empty.
func (t *Tx) Delete(ctx context.Context, r *schema.Record) error {
	return t.delete(ctx, r, map[string]bool{})
}

func (t *Tx) delete(ctx context.Context, r *schema.Record, visiting map[string]bool) error {
	c := r.Collection
	if c.IsView() {
		return errReadOnlyView
	}
	key := c.ID + "/" + r.ID()
	if visiting[key] {
		return nil
	}
	visiting[key] = true
	for _, ref := range t.snap.ReferencesTo(c) {
		ro := ref.Field.Options.(*schema.RelationOptions)
		ph := t.s.dialect.Placeholder(1)
		col := quote(rootAlias) + "." + quote(ref.Field.Name)
		cond := col + " = " + ph
		if ref.Field.Multiple() {
			cond = t.s.dialect.JSONArrayContains(col, ph)
		}
		cols, fields := selectColumns(ref.Collection)
		q := "SELECT " + cols + " FROM " + quote(ref.Collection.Name) + " AS " + quote(rootAlias) + " WHERE " + cond
		referencing, err := scanRecords(ctx, t, ref.Collection, fields, q, []any{r.ID()})
		if err != nil {
			return err
		}
		for _, other := range referencing {
			if other.Collection.ID == c.ID && other.ID() == r.ID() {
				continue // a self-reference goes away with the row
			}
			if ro.CascadeDelete {
				if err := t.delete(ctx, other, visiting); err != nil {
					return err
				}
				continue
			}
			rest := slices.DeleteFunc(slices.Clone(other.GetStrings(ref.Field.Name)), func(id string) bool { return id == r.ID() })
			if ref.Field.Required && len(rest) == 0 {
				return schema.Errors{"id": schema.NewFieldError("validation_relation_required",
					fmt.Sprintf("The record cannot be deleted because record %s of %s requires it (field %s).", other.ID(), ref.Collection.Name, ref.Field.Name))}
			}
			if ref.Field.Multiple() {
				other.Set(ref.Field.Name, rest)
			} else {
				other.Set(ref.Field.Name, "")
			}
			if err := t.Update(ctx, other); err != nil {
				return err
			}
		}
	}
	res, err := t.exec(ctx, "DELETE FROM "+quote(c.Name)+` WHERE "id" = `+t.s.dialect.Placeholder(1), r.ID())
	if err != nil {
		return fmt.Errorf("delete from %s: %w", c.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	t.record(ActionDelete, r)
	if err := t.notifyDelete(ctx, r); err != nil {
		return err
	}
	if c.IsAuth() {
		return t.deleteAuthRefs(ctx, c.ID, r.ID())
	}
	return nil
}

// deleteAuthRefs removes the rows of system collections (_externalAuths,
// _mfas, _otps, _totps) that belong to a deleted auth record, or with
// recordID "" to every record of a truncated collection: they point at it
// by collectionRef/recordRef, which no relation cascade covers.
func (t *Tx) deleteAuthRefs(ctx context.Context, collectionID, recordID string) error {
	for _, sc := range t.snap.list {
		if !sc.System || sc.Field("collectionRef") == nil || sc.Field("recordRef") == nil {
			continue
		}
		q := "DELETE FROM " + quote(sc.Name) + ` WHERE "collectionRef" = ` + t.s.dialect.Placeholder(1)
		args := []any{collectionID}
		if recordID != "" {
			q += ` AND "recordRef" = ` + t.s.dialect.Placeholder(2)
			args = append(args, recordID)
		}
		if _, err := t.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("delete %s rows of a deleted auth record: %w", sc.Name, err)
		}
	}
	return nil
}

// Truncate deletes every record of c, honouring cascades.
func (s *Store) Truncate(ctx context.Context, c *schema.Collection) error {
	if c.IsView() {
		return errReadOnlyView
	}
	return s.Tx(ctx, func(tx *Tx) error {
		if len(tx.snap.ReferencesTo(c)) == 0 && !s.observesDeletes(c) {
			if _, err := tx.exec(ctx, "DELETE FROM "+quote(c.Name)); err != nil {
				return err
			}
			if c.IsAuth() {
				return tx.deleteAuthRefs(ctx, c.ID, "")
			}
			return nil
		}
		for {
			page, err := tx.List(ctx, ListQuery{Collection: c, PerPage: 500, SkipTotal: true})
			if err != nil {
				return err
			}
			if len(page.Items) == 0 {
				return nil
			}
			for _, r := range page.Items {
				if err := tx.Delete(ctx, r); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
			}
		}
	})
}

// mapWriteError turns unique violations into field errors.
func (s *Store) mapWriteError(c *schema.Collection, err error) error {
	index, cols, ok := s.dialect.UniqueViolation(err)
	if !ok {
		return fmt.Errorf("write %s: %w", c.Name, err)
	}
	if index != "" && len(cols) == 0 {
		if strings.HasSuffix(index, "_pkey") {
			cols = []string{"id"}
		}
		for _, raw := range c.Indexes {
			if idx, perr := ParseIndex(raw); perr == nil && strings.EqualFold(idx.Name, index) {
				for _, col := range idx.Columns {
					cols = append(cols, col.Name)
				}
			}
		}
	}
	errs := schema.Errors{}
	for _, col := range cols {
		errs.Add(col, schema.NewFieldError("validation_not_unique", "Value must be unique."))
	}
	if len(errs) == 0 {
		errs.Add("id", schema.NewFieldError("validation_not_unique", "Value must be unique."))
	}
	return errs
}
