package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/plinthdev/plinth/schema"
)

// The application's own migrations (package migrate: files written by
// `plinth migrate` and automigrate, and Go migrations) are recorded by
// name in _appMigrations, apart from Plinth's internal _migrations.

// SchemaOp is one step of an application migration.
type SchemaOp struct {
	// Save creates or updates a collection (matched by id).
	Save *schema.Collection
	// Delete removes the collection with this id or name.
	Delete string
	// SQL runs a statement as it is: migrations are written by the
	// application's developers, never by API clients.
	SQL string
}

// CollectionChangeFunc is told of one collection changed by this instance
// through the API or Go code: old is nil for a create, new for a delete.
type CollectionChangeFunc func(ctx context.Context, old, new *schema.Collection)

// CollectionCheckFunc is asked before a collection is created, updated
// (old and c set) or deleted (c nil), inside the change's transaction. It
// may adjust c, which is validated after it; an error refuses the change.
type CollectionCheckFunc func(ctx context.Context, old, c *schema.Collection) error

// BeforeCollectionChange adds fn to the checks of every collection change,
// whatever makes it: the API, an import, a migration or Go code.
func (s *Store) BeforeCollectionChange(fn CollectionCheckFunc) {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	s.collectionChecks = append(s.collectionChecks, fn)
}

func (s *Store) checkCollectionChange(ctx context.Context, old, c *schema.Collection) error {
	for _, fn := range s.collectionChecks {
		if err := fn(ctx, old, c); err != nil {
			return err
		}
	}
	return nil
}

// OnCollectionChange adds fn to the listeners of collection changes made
// by this instance (migrations applied by ApplyMigration excepted). fn
// runs with the schema lock held: it must not change collections.
func (s *Store) OnCollectionChange(fn CollectionChangeFunc) {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	s.collectionListeners = append(s.collectionListeners, fn)
}

// notifyCollectionChanges tells the listeners of every collection whose
// definition differs between prev and cur.
func (s *Store) notifyCollectionChanges(ctx context.Context, prev, cur *Schema) {
	if len(s.collectionListeners) == 0 {
		return
	}
	encode := func(c *schema.Collection) string {
		b, _ := json.Marshal(c)
		return string(b)
	}
	for _, c := range cur.list {
		old := prev.byID[c.ID]
		if old == nil || encode(old) != encode(c) {
			for _, fn := range s.collectionListeners {
				fn(ctx, old, c)
			}
		}
	}
	for _, old := range prev.list {
		if cur.byID[old.ID] == nil {
			for _, fn := range s.collectionListeners {
				fn(ctx, old, nil)
			}
		}
	}
}

// ensureAppMigrations creates the table of applied application
// migrations. On PostgreSQL, concurrent CREATE TABLE IF NOT EXISTS can
// still collide, so instances take turns under the migration lock.
func (s *Store) ensureAppMigrations(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect.Name() == "postgres" {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7263542)`); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS _appMigrations (file TEXT PRIMARY KEY NOT NULL, applied TEXT NOT NULL)`)
		return err
	})
}

// AppliedMigrations returns the names of the applied application
// migrations with when each was applied.
func (s *Store) AppliedMigrations(ctx context.Context) (map[string]time.Time, error) {
	if err := s.ensureAppMigrations(ctx); err != nil {
		return nil, err
	}
	rows, err := s.write.QueryContext(ctx, `SELECT file, applied FROM _appMigrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var name, applied string
		if err := rows.Scan(&name, &applied); err != nil {
			return nil, err
		}
		out[name], _ = schema.ParseDate(applied)
	}
	return out, rows.Err()
}

// ErrMigrationState is returned by ApplyMigration when the migration is
// already applied (up) or not applied (down): another instance got there
// first, or the caller's list was stale.
var ErrMigrationState = errors.New("migration already in that state")

// ApplyMigration runs ops and records the migration name as applied (up)
// or not (down), all in one transaction: a migration is applied whole or
// not at all, and two instances applying it at once apply it once (the
// second gets ErrMigrationState). With no ops it only records the name,
// for changes already made (automigrate) or Go migrations that ran.
func (s *Store) ApplyMigration(ctx context.Context, name string, ops []SchemaOp, up bool) error {
	if err := s.ensureAppMigrations(ctx); err != nil {
		return err
	}
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	changed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect.Name() == "postgres" {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7263542)`); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM _appMigrations WHERE file = ?`), name).Scan(&n); err != nil {
			return err
		}
		if (n > 0) == up {
			return ErrMigrationState
		}
		cur := s.Schema()
		for i, op := range ops {
			switch {
			case op.Save != nil:
				saved, err := s.saveCollectionTx(ctx, tx, cur, op.Save)
				if err != nil {
					return fmt.Errorf("step %d: save %s: %w", i+1, op.Save.Name, err)
				}
				cur, changed = withCollection(cur, saved), true
			case op.Delete != "":
				c := cur.Lookup(op.Delete)
				if c == nil {
					continue // already gone
				}
				if err := s.checkDeletable(newSchemaWithout(cur, c.ID), c); err != nil {
					return fmt.Errorf("step %d: delete %s: %w", i+1, op.Delete, err)
				}
				if err := s.deleteCollectionTx(ctx, tx, c); err != nil {
					return fmt.Errorf("step %d: delete %s: %w", i+1, op.Delete, err)
				}
				cur, changed = newSchemaWithout(cur, c.ID), true
			case op.SQL != "":
				if _, err := tx.ExecContext(ctx, op.SQL); err != nil {
					return fmt.Errorf("step %d: sql: %w", i+1, err)
				}
				changed = true
			}
		}
		q := `INSERT INTO _appMigrations (file, applied) VALUES (?, ?)`
		args := []any{name, schema.FormatDate(time.Now())}
		if !up {
			q, args = `DELETE FROM _appMigrations WHERE file = ?`, args[:1]
		}
		_, err := tx.ExecContext(ctx, s.rebind(q), args...)
		return err
	})
	if err != nil || !changed {
		return err
	}
	return s.afterSchemaChangeFrom(ctx, false)
}

// MarkMigrationApplied records name as applied without running anything:
// for a migration file written for a change that was just made (it may be
// called from an OnCollectionChange listener).
func (s *Store) MarkMigrationApplied(ctx context.Context, name string) error {
	if err := s.ensureAppMigrations(ctx); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx, s.rebind(`INSERT INTO _appMigrations (file, applied) VALUES (?, ?) ON CONFLICT (file) DO NOTHING`),
		name, schema.FormatDate(time.Now()))
	return err
}
