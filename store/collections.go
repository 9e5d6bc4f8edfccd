package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// ErrNotFound is returned when a collection or record does not exist.
var ErrNotFound = errors.New("not found")

// reloadSchema reads every collection definition and swaps in a new snapshot.
func (s *Store) reloadSchema(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, `SELECT definition FROM _collections ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var list []*schema.Collection
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return err
		}
		c := &schema.Collection{}
		if err := json.Unmarshal([]byte(def), c); err != nil {
			return fmt.Errorf("collection definition: %w", err)
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.schema.Store(newSchema(list))
	return nil
}

// SaveCollection creates c (when its id is empty or unknown) or updates the
// collection with c's id, applying the schema change to the real table in
// one transaction. It returns the stored definition.
func (s *Store) SaveCollection(ctx context.Context, c *schema.Collection) (*schema.Collection, error) {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	var saved *schema.Collection
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		saved, err = s.saveCollectionTx(ctx, tx, s.Schema(), c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return saved, s.afterSchemaChange(ctx)
}

// afterSchemaChange runs with schemaMu held, after a local change.
func (s *Store) afterSchemaChange(ctx context.Context) error {
	return s.afterSchemaChangeFrom(ctx, true)
}

// afterSchemaChangeFrom reloads the schema and tells the listeners;
// collection-change listeners only when notify is set (migrations apply
// changes that are already written down).
func (s *Store) afterSchemaChangeFrom(ctx context.Context, notify bool) error {
	prev := s.Schema()
	if err := s.reloadLocked(ctx); err != nil {
		return err
	}
	if fns := s.onSchemaChange.Load(); fns != nil {
		for _, fn := range *fns {
			fn()
		}
	}
	if notify {
		s.notifyCollectionChanges(ctx, prev, s.Schema())
	}
	return nil
}

// ReloadSchema reads the collections again, for an instance told by
// another that the schema changed. It does not notify OnSchemaChange
// listeners (the change was not made here).
func (s *Store) ReloadSchema(ctx context.Context) error {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	return s.reloadLocked(ctx)
}

func (s *Store) reloadLocked(ctx context.Context) error {
	s.stmts.reset()
	s.writeStmts.reset()
	return s.reloadSchema(ctx, s.write)
}

// OnSchemaChange adds fn to the listeners called after this instance
// changed a collection (so that other instances can be told to reload).
func (s *Store) OnSchemaChange(fn func()) {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	var list []func()
	if old := s.onSchemaChange.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, fn)
	s.onSchemaChange.Store(&list)
}

// withCollection returns a snapshot in which c replaces (or joins) the
// collections of snap, so that validation sees c's own new shape (for
// self-relations) and the others as they are.
func withCollection(snap *Schema, c *schema.Collection) *Schema {
	list := make([]*schema.Collection, 0, len(snap.list)+1)
	replaced := false
	for _, x := range snap.list {
		if x.ID == c.ID {
			list = append(list, c)
			replaced = true
			continue
		}
		list = append(list, x)
	}
	if !replaced {
		list = append(list, c)
	}
	return newSchema(list)
}

// saveCollectionTx validates and stores one collection inside tx. snap is
// the schema the change applies to.
func (s *Store) saveCollectionTx(ctx context.Context, tx *sql.Tx, snap *Schema, in *schema.Collection) (*schema.Collection, error) {
	c := in.Clone()
	var old *schema.Collection
	if c.ID != "" {
		old = snap.byID[c.ID]
	}
	if err := prepareCollection(c, old); err != nil {
		return nil, err
	}
	if err := s.checkCollectionChange(ctx, old, c); err != nil {
		return nil, err
	}
	next := withCollection(snap, c)
	if err := c.Validate(next.Lookup); err != nil {
		return nil, err
	}
	// Relations may name their target by name; store the id, which
	// survives renames.
	for _, f := range c.Fields {
		if ro, ok := f.Options.(*schema.RelationOptions); ok {
			if target := next.Lookup(ro.CollectionID); target != nil {
				ro.CollectionID = target.ID
			}
		}
	}
	errs := schema.Errors{}
	for _, other := range snap.list {
		if other.ID != c.ID && schema.IdentifierKey(other.Name) == schema.IdentifierKey(c.Name) {
			errs.Add("name", schema.NewFieldError("validation_collection_name_exists", "Collection name must be unique (case insensitive, on its first 63 characters)."))
			break
		}
	}
	if len(errs) == 0 && (old == nil || !strings.EqualFold(old.Name, c.Name)) {
		// A name no collection has may still be taken by a table of
		// Plinth's own (the job queue's river_job, say) or an index.
		taken, err := s.dialect.NameInUse(ctx, tx, c.Name)
		if err != nil {
			return nil, err
		}
		if taken {
			errs.Add("name", schema.NewFieldError("validation_collection_name_exists", "The name is taken by a table, index or type of the database itself."))
		}
	}
	if strings.HasPrefix(c.Name, "_") && !c.System {
		errs.Add("name", schema.NewFieldError("validation_invalid_name", "Names starting with an underscore are reserved for system collections."))
	}
	if old != nil {
		if old.Type != c.Type {
			errs.Add("type", schema.NewFieldError("validation_collection_type_change", "The collection type cannot be changed."))
		}
		if old.System && old.Name != c.Name {
			errs.Add("name", schema.NewFieldError("validation_system_collection_name_change", "System collection names cannot be changed."))
		}
		checkFieldChanges(old, c, errs)
	}
	checkRules(c, next.Lookup, errs)
	indexes, idxErrs := checkIndexes(c)
	if len(idxErrs) > 0 {
		errs["indexes"] = idxErrs
	}
	if len(errs) > 0 {
		return nil, errs
	}

	now := schema.FormatDate(time.Now())
	if old == nil {
		c.Created = now
	} else {
		c.Created = old.Created
	}
	c.Updated = now

	var err error
	switch {
	case c.IsView():
		err = s.saveView(ctx, tx, next, old, c)
	case old == nil:
		err = s.createTable(ctx, tx, c, indexes)
	default:
		err = s.alterTable(ctx, tx, old, c, indexes)
	}
	if err != nil {
		return nil, err
	}
	if err := s.keepRowCount(ctx, tx, c); err != nil {
		return nil, err
	}

	def, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	if old == nil {
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM _collections`).Scan(&seq); err != nil {
			return nil, err
		}
		_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO _collections (id, name, definition, seq, created, updated) VALUES (?, ?, ?, ?, ?, ?)`),
			c.ID, c.Name, string(def), seq, c.Created, c.Updated)
	} else {
		_, err = tx.ExecContext(ctx, s.rebind(`UPDATE _collections SET name = ?, definition = ?, updated = ? WHERE id = ?`),
			c.Name, string(def), c.Updated, c.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("store collection: %w", err)
	}
	return c, nil
}

// prepareCollection fills in what a client may leave out: ids, the
// system fields, default options.
func prepareCollection(c, old *schema.Collection) error {
	for i, f := range c.Fields {
		if f == nil {
			return schema.Errors{"fields": schema.Errors{fmt.Sprint(i): schema.NewFieldError("validation_required", "A field cannot be null.")}}
		}
	}
	if c.ID == "" {
		c.ID = "pbc_" + schema.RandomString(10, "0123456789")
	}
	if c.Type == "" {
		c.Type = schema.TypeBase
	}
	if c.Indexes == nil {
		c.Indexes = []string{}
	}
	if old != nil {
		c.System = old.System
	}
	if c.Type == schema.TypeAuth && c.Auth == nil {
		c.Auth = schema.DefaultAuthOptions()
	}
	if c.Type != schema.TypeAuth {
		c.Auth = nil
	}
	if c.Type != schema.TypeView {
		c.ViewQuery = ""
		if err := ensureSystemFields(c, old); err != nil {
			return err
		}
	}
	// Fields sent without an id keep the id of the old field of the same
	// name, so clients that omit ids do not drop and re-add columns.
	for _, f := range c.Fields {
		if f.ID != "" {
			continue
		}
		if old != nil {
			if of := old.Field(f.Name); of != nil && c.FieldByID(of.ID) == nil {
				f.ID = of.ID
				continue
			}
		}
		f.ID = f.Type + schema.RandomString(10, "0123456789")
	}
	// A system field stays one, and a hidden system field (password hash,
	// tokenKey, the auth system collections' secrets) stays hidden,
	// whatever the client sent: PocketBase enforces these defaults on save
	// too. Removing such a field or changing its type is refused later
	// (checkFieldChanges).
	if old != nil {
		for _, f := range c.Fields {
			if of := old.FieldByID(f.ID); of != nil && of.System {
				f.System = true
				if of.Hidden {
					f.Hidden = true
				}
			}
		}
	}
	return nil
}

// ensureSystemFields adds the id field (and, for auth collections, the
// auth fields) when missing. As in PocketBase, created and updated are
// ordinary autodate fields that a collection has only when they are sent
// (PocketBase's dashboard adds them to the form of a new collection; the
// API does not).
func ensureSystemFields(c, old *schema.Collection) error {
	var template []*schema.Field
	raw := `[` + idFieldJSON + `]`
	if c.Type == schema.TypeAuth {
		raw = `[` + authFields + `]`
	}
	if err := json.Unmarshal([]byte(raw), &template); err != nil {
		panic("store: system field template: " + err.Error())
	}
	// An auth collection that already has system created/updated fields
	// (users, _superusers) keeps them when a PATCH leaves them out, as its
	// other auth fields; a new one gets none.
	template = slices.DeleteFunc(template, func(t *schema.Field) bool {
		if t.Type != "autodate" {
			return false
		}
		of := (*schema.Field)(nil)
		if old != nil {
			of = old.Field(t.Name)
		}
		return of == nil || !of.System || of.Type != t.Type
	})
	var missing []*schema.Field
	for _, t := range template {
		if f := c.Field(t.Name); f != nil {
			if t.System && f.Type != t.Type && c.Type == schema.TypeAuth {
				return schema.Errors{"fields": schema.NewFieldError("validation_system_field_type",
					fmt.Sprintf("The auth field %q must have the type %s.", t.Name, t.Type))}
			}
			if t.System && f.Type == t.Type {
				f.System = true
				// The template's hidden fields are the auth secrets.
				f.Hidden = f.Hidden || t.Hidden
				if f.ID == "" {
					f.ID = t.ID
				}
			}
			continue
		}
		if old != nil {
			// Left out of a PATCH: the stored field comes back as it was.
			if of := old.Field(t.Name); of != nil && of.Type == t.Type {
				t = of.Clone()
			}
		}
		missing = append(missing, t)
	}
	// The id field goes first; the rest keep the template's order at the end.
	var head, tail []*schema.Field
	for _, t := range missing {
		if t.Name == "id" {
			head = append(head, t)
		} else {
			tail = append(tail, t)
		}
	}
	c.Fields = append(append(head, c.Fields...), tail...)
	return nil
}

const idFieldJSON = `{"id": "text3208210256", "name": "id", "type": "text", "system": true, "required": true, "primaryKey": true,
   "autogeneratePattern": "[a-z0-9]{15}", "pattern": "^[a-z0-9]+$", "min": 15, "max": 15}`

// checkFieldChanges refuses changes that cannot keep the data: a field's
// type, and removing or renaming system fields.
func checkFieldChanges(old, c *schema.Collection, errs schema.Errors) {
	fieldErrs := schema.Errors{}
	for i, f := range c.Fields {
		of := old.FieldByID(f.ID)
		if of == nil {
			continue
		}
		fe := schema.Errors{}
		if of.Type != f.Type {
			fe.Add("type", schema.NewFieldError("validation_field_type_change", "The type of an existing field cannot be changed; add a new field instead."))
		}
		if of.System && of.Name != f.Name {
			fe.Add("name", schema.NewFieldError("validation_system_field_name_change", "System fields cannot be renamed."))
		}
		if len(fe) > 0 {
			fieldErrs[fmt.Sprint(i)] = fe
		}
	}
	for _, of := range old.Fields {
		if of.System && c.FieldByID(of.ID) == nil {
			errs.Add("fields", schema.NewFieldError("validation_system_field_removed", fmt.Sprintf("System field %q cannot be removed.", of.Name)))
		}
	}
	if len(fieldErrs) > 0 {
		errs["fields"] = fieldErrs
	}
}

// checkRules parses every rule against the new schema.
func checkRules(c *schema.Collection, lookup schema.Lookup, errs schema.Errors) {
	rules := map[string]*string{
		"listRule": c.ListRule, "viewRule": c.ViewRule, "createRule": c.CreateRule,
		"updateRule": c.UpdateRule, "deleteRule": c.DeleteRule,
	}
	if c.Auth != nil {
		rules["authRule"] = c.Auth.AuthRule
		rules["manageRule"] = c.Auth.ManageRule
		if mfaRule := c.Auth.MFA.Rule; mfaRule != "" {
			rules["mfa.rule"] = &mfaRule
		}
	}
	for name, r := range rules {
		if r == nil || strings.TrimSpace(*r) == "" {
			continue
		}
		if c.IsView() && (name == "createRule" || name == "updateRule" || name == "deleteRule") {
			continue
		}
		if err := filter.Check(*r, c, lookup, true); err != nil {
			errs.Add(name, schema.NewFieldError("validation_invalid_rule", "Invalid rule: "+err.Error()))
		}
	}
}

// createTable creates c's table with one column per stored field.
func (s *Store) createTable(ctx context.Context, tx *sql.Tx, c *schema.Collection, indexes []*Index) error {
	var cols []string
	for _, f := range c.Fields {
		switch {
		case f.Name == "id":
			cols = append(cols, `"id" `+s.dialect.PrimaryKeyDef())
		case f.Storage() == schema.StoreNone:
		default:
			cols = append(cols, quote(f.Name)+" "+s.dialect.ColumnDef(f.Storage()))
		}
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE "+quote(c.Name)+" ("+strings.Join(cols, ", ")+")"); err != nil {
		return fmt.Errorf("create table %s: %w", c.Name, err)
	}
	return s.createIndexes(ctx, tx, indexes)
}

func (s *Store) createIndexes(ctx context.Context, tx *sql.Tx, indexes []*Index) error {
	for _, idx := range indexes {
		if _, err := tx.ExecContext(ctx, idx.sql(s.dialect)); err != nil {
			if _, _, unique := s.dialect.UniqueViolation(err); unique {
				return schema.Errors{"indexes": schema.NewFieldError("validation_index_unique_violation",
					fmt.Sprintf("Index %s cannot be created: existing records have duplicate values.", idx.Name))}
			}
			return schema.Errors{"indexes": schema.NewFieldError("validation_invalid_index_expression",
				fmt.Sprintf("Index %s cannot be created: %v", idx.Name, err))}
		}
	}
	return nil
}

// alterTable applies the difference between old and c to the table, keeping
// the data: rename the table, drop removed columns, rename and convert kept
// ones, add new ones, then rebuild the indexes.
func (s *Store) alterTable(ctx context.Context, tx *sql.Tx, old, c *schema.Collection, indexes []*Index) error {
	exec := func(q string) error {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("alter %s: %s: %w", c.Name, q, err)
		}
		return nil
	}
	table := quote(c.Name)
	if old.Name != c.Name {
		from := quote(old.Name)
		if strings.EqualFold(old.Name, c.Name) {
			// SQLite compares table names without case: posts → Posts
			// would clash with itself, so it goes through a free name.
			tmp := quote("_rename_" + c.ID)
			if err := exec("ALTER TABLE " + from + " RENAME TO " + tmp); err != nil {
				return err
			}
			from = tmp
		}
		if err := exec("ALTER TABLE " + from + " RENAME TO " + table); err != nil {
			return err
		}
	}
	existing, err := s.dialect.IndexesOf(ctx, tx, c.Name)
	if err != nil {
		return err
	}
	for _, name := range existing {
		if err := exec("DROP INDEX " + quote(name)); err != nil {
			return err
		}
	}
	for _, of := range old.Fields {
		if of.Name == "id" || of.Storage() == schema.StoreNone {
			continue
		}
		if nf := c.FieldByID(of.ID); nf == nil || nf.Storage() == schema.StoreNone {
			if err := exec("ALTER TABLE " + table + " DROP COLUMN " + quote(of.Name)); err != nil {
				return err
			}
		}
	}
	// Temporary column names are numbered, not made from field ids, and
	// avoid every name the old and new fields use: ids are client data, and
	// PostgreSQL would cut long names at 63 bytes.
	used := map[string]bool{}
	for _, f := range append(slices.Clone(old.Fields), c.Fields...) {
		used[strings.ToLower(f.Name)] = true
	}
	tempName := func(prefix string) string {
		for i := 0; ; i++ {
			name := fmt.Sprintf("%s%d", prefix, i)
			if !used[name] {
				used[name] = true
				return name
			}
		}
	}
	// Renames go through temporary names so that swaps (a→b, b→a) work.
	type rename struct{ tmp, to string }
	var renames []rename
	for _, f := range c.Fields {
		of := old.FieldByID(f.ID)
		if of == nil || of.Name == f.Name || f.Storage() == schema.StoreNone || of.Storage() == schema.StoreNone {
			continue
		}
		tmp := tempName("_tmp_")
		if err := exec("ALTER TABLE " + table + " RENAME COLUMN " + quote(of.Name) + " TO " + quote(tmp)); err != nil {
			return err
		}
		renames = append(renames, rename{tmp, f.Name})
	}
	for _, r := range renames {
		if err := exec("ALTER TABLE " + table + " RENAME COLUMN " + quote(r.tmp) + " TO " + quote(r.to)); err != nil {
			return err
		}
	}
	for _, f := range c.Fields {
		of := old.FieldByID(f.ID)
		if f.Storage() == schema.StoreNone {
			continue
		}
		if of == nil || of.Storage() == schema.StoreNone {
			if err := exec("ALTER TABLE " + table + " ADD COLUMN " + quote(f.Name) + " " + s.dialect.ColumnDef(f.Storage())); err != nil {
				return err
			}
			continue
		}
		if of.Storage() == f.Storage() {
			continue
		}
		if q := s.dialect.AlterColumnType(c.Name, f.Name, of.Storage(), f.Storage()); q != "" {
			if err := exec(q); err != nil {
				return err
			}
			continue
		}
		tmp := quote(tempName("_conv_"))
		col := quote(f.Name)
		for _, q := range []string{
			"ALTER TABLE " + table + " ADD COLUMN " + tmp + " " + s.dialect.ColumnDef(f.Storage()),
			"UPDATE " + table + " SET " + tmp + " = " + s.dialect.ConvertColumn(col, of.Storage(), f.Storage()),
			"ALTER TABLE " + table + " DROP COLUMN " + col,
			"ALTER TABLE " + table + " RENAME COLUMN " + tmp + " TO " + col,
		} {
			if err := exec(q); err != nil {
				return err
			}
		}
	}
	return s.createIndexes(ctx, tx, indexes)
}

// DeleteCollection drops c's table and definition. System collections and
// collections that other collections' relation fields point at are refused.
func (s *Store) DeleteCollection(ctx context.Context, c *schema.Collection) error {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if err := s.checkDeletable(s.Schema(), c); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.deleteCollectionTx(ctx, tx, c) })
	if err != nil {
		return err
	}
	return s.afterSchemaChange(ctx)
}

func (s *Store) checkDeletable(snap *Schema, c *schema.Collection) error {
	if c.System {
		return schema.Errors{"id": schema.NewFieldError("validation_system_collection", "System collections cannot be deleted.")}
	}
	for _, ref := range snap.ReferencesTo(c) {
		if ref.Collection.ID != c.ID {
			return schema.Errors{"id": schema.NewFieldError("validation_collection_in_use",
				fmt.Sprintf("The collection is referenced by the relation field %s.%s.", ref.Collection.Name, ref.Field.Name))}
		}
	}
	return nil
}

func (s *Store) deleteCollectionTx(ctx context.Context, tx *sql.Tx, c *schema.Collection) error {
	if err := s.checkCollectionChange(ctx, c, nil); err != nil {
		return err
	}
	kind := "TABLE"
	if c.IsView() {
		kind = "VIEW"
	}
	if _, err := tx.ExecContext(ctx, "DROP "+kind+" IF EXISTS "+quote(c.Name)); err != nil {
		return schema.Errors{"id": schema.NewFieldError("validation_collection_in_use",
			fmt.Sprintf("The collection cannot be dropped: %v", err))}
	}
	if err := s.forgetRowCount(ctx, tx, c); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM _collections WHERE id = ?`), c.ID)
	return err
}

// ImportCollections creates or updates every collection of list (matched by
// id, then by name) in one transaction; with deleteMissing it also deletes
// the non-system collections that list does not name.
func (s *Store) ImportCollections(ctx context.Context, list []*schema.Collection, deleteMissing bool) error {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	snap := s.Schema()
	// Give every imported collection its final id first so that relations
	// between imported collections resolve whatever their order.
	prepared := make([]*schema.Collection, len(list))
	combined := snap
	for i, in := range list {
		if in == nil {
			return schema.Errors{"collections": schema.Errors{fmt.Sprint(i): schema.ErrRequired()}}
		}
		c := in.Clone()
		if c.ID == "" || snap.byID[c.ID] == nil {
			if existing := snap.byName[strings.ToLower(c.Name)]; existing != nil {
				c.ID = existing.ID
			}
		}
		if c.ID == "" {
			c.ID = "pbc_" + schema.RandomString(10, "0123456789")
		}
		prepared[i] = c
		combined = withCollection(combined, c)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		errs := schema.Errors{}
		cur := snap
		for i, c := range prepared {
			lookupSnap := combined
			// Validate each against the others as imported, but diff against
			// what is stored.
			saved, err := s.saveCollectionTx(ctx, tx, mergeForImport(cur, lookupSnap, c), c)
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
		if deleteMissing {
			keep := map[string]bool{}
			for _, c := range prepared {
				keep[c.ID] = true
			}
			for _, c := range cur.list {
				if keep[c.ID] || c.System {
					continue
				}
				if err := s.checkDeletable(newSchemaWithout(cur, c.ID), c); err != nil {
					return err
				}
				if err := s.deleteCollectionTx(ctx, tx, c); err != nil {
					return err
				}
				cur = newSchemaWithout(cur, c.ID)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.afterSchemaChange(ctx)
}

// mergeForImport returns a snapshot with the stored versions of collections
// (so that saveCollectionTx diffs against the real tables) plus the imported
// collections that do not exist yet (so relations to them resolve).
func mergeForImport(stored, imported *Schema, current *schema.Collection) *Schema {
	out := stored
	for _, c := range imported.list {
		if c.ID == current.ID {
			continue
		}
		if stored.byID[c.ID] == nil {
			out = withCollection(out, c)
		}
	}
	return out
}

func newSchemaWithout(snap *Schema, id string) *Schema {
	list := make([]*schema.Collection, 0, len(snap.list))
	for _, c := range snap.list {
		if c.ID != id {
			list = append(list, c)
		}
	}
	return newSchema(list)
}
