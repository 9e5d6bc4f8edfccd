package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/plinthdev/plinth/schema"
)

// The job queue (package jobs) is River, kept in this database: its tables
// are created by migrations 5 and 6 (migrate.go), not by River's own CLI, so that a
// Plinth binary always starts on a schema it knows. River reaches the
// database through database/sql on both dialects (JobsDB), so a
// transaction of River and one of the store are the same kind of value.

// JobsDB is the database/sql handle River works through: on SQLite the
// single writer connection (River's SQLite driver wants exactly one, and
// queueing its short statements behind record writes in Go is cheaper
// than SQLITE_BUSY retries); on PostgreSQL the pool.
func (s *Store) JobsDB() *sql.DB { return s.write }

// ReadDB is the read-only handle (SQLite: the readers' pool; PostgreSQL:
// the pool), for listing system tables without taking the writer.
func (s *Store) ReadDB() *sql.DB { return s.read }

// Rebind rewrites the ? placeholders of fixed SQL for the dialect. It must
// only be given SQL written by the program, never user input.
func (s *Store) Rebind(q string) string { return s.rebind(q) }

// migrateRiver applies River's migrations in the migration's transaction,
// up to version target (0: all this River release has).
func migrateRiver(ctx context.Context, s *Store, tx *sql.Tx, target int) error {
	var err error
	opts := &rivermigrate.MigrateOpts{TargetVersion: target}
	if s.dialect.Name() == "postgres" {
		var m *rivermigrate.Migrator[*sql.Tx]
		if m, err = rivermigrate.New(riverdatabasesql.New(s.write), nil); err == nil {
			// MigrateTx is deprecated because some River versions cannot
			// share a transaction; migrations 5 and 6 split there, and
			// running inside the migration's transaction is what keeps
			// instances that start together (advisory lock) and SQLite's
			// single writer from racing or deadlocking.
			//lint:ignore SA1019 split at the versions that need it, see above
			_, err = m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, opts)
		}
	} else {
		var m *rivermigrate.Migrator[*sql.Tx]
		if m, err = rivermigrate.New(riversqlite.New(s.write), nil); err == nil {
			//lint:ignore SA1019 see the PostgreSQL branch
			_, err = m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, opts)
		}
	}
	if err != nil {
		return fmt.Errorf("river tables: %w", err)
	}
	return nil
}

// jobsTables creates the outbox and the webhook tables.
func jobsTables(ctx context.Context, s *Store, tx *sql.Tx) error {
	serial := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if s.dialect.Name() == "postgres" {
		serial = "BIGSERIAL PRIMARY KEY"
	}
	for _, q := range []string{
		`CREATE TABLE _outbox (id ` + serial + `, kind TEXT NOT NULL, args TEXT NOT NULL, opts TEXT NOT NULL, created TEXT NOT NULL)`,
		`CREATE TABLE _webhooks (
			id TEXT PRIMARY KEY NOT NULL,
			name TEXT NOT NULL,
			url TEXT NOT NULL,
			collections TEXT NOT NULL,
			events TEXT NOT NULL,
			filter TEXT NOT NULL,
			secret TEXT NOT NULL,
			active BOOLEAN NOT NULL,
			disabledReason TEXT NOT NULL,
			created TEXT NOT NULL,
			updated TEXT NOT NULL)`,
		`CREATE TABLE _webhookDeliveries (
			id TEXT PRIMARY KEY NOT NULL,
			webhook TEXT NOT NULL,
			type TEXT NOT NULL,
			payload TEXT NOT NULL,
			status TEXT NOT NULL,
			attempts INTEGER NOT NULL,
			lastStatus INTEGER NOT NULL,
			lastResponse TEXT NOT NULL,
			lastError TEXT NOT NULL,
			nextAttempt TEXT NOT NULL,
			created TEXT NOT NULL,
			updated TEXT NOT NULL)`,
		`CREATE INDEX _webhookDeliveries_webhook ON _webhookDeliveries (webhook, created)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// OutboxItem is a job written in a record transaction and not yet handed
// to the queue.
type OutboxItem struct {
	ID   int64
	Kind string
	// Args and Opts are JSON.
	Args, Opts []byte
}

// Enqueue writes a job into the outbox inside the transaction: it reaches
// the queue if and only if the transaction commits. The queue's drainer
// (package jobs) moves it on; wake, when set, is called after the commit
// so the drainer need not wait for its next poll.
func (t *Tx) Enqueue(ctx context.Context, kind string, args, opts []byte, wake func()) error {
	if opts == nil {
		opts = []byte("{}")
	}
	q := t.s.rebind(`INSERT INTO _outbox (kind, args, opts, created) VALUES (?, ?, ?, ?)`)
	if _, err := t.exec(ctx, q, kind, string(args), string(opts), schema.FormatDate(time.Now())); err != nil {
		return fmt.Errorf("enqueue %s: %w", kind, err)
	}
	if wake != nil && !t.wakeSet {
		t.wakeSet = true
		t.AfterCommit(wake)
	}
	return nil
}

// DrainOutbox takes up to limit outbox items in a transaction on JobsDB,
// lets fn hand them to the queue in that same transaction, deletes them
// and commits: each item reaches the queue exactly once. On PostgreSQL
// instances drain concurrently, each locking the rows it takes. It
// reports how many items it moved.
func (s *Store) DrainOutbox(ctx context.Context, limit int, fn func(tx *sql.Tx, items []OutboxItem) error) (int, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	q := s.rebind(`SELECT id, kind, args, opts FROM _outbox ORDER BY id LIMIT ?`)
	if s.dialect.Name() == "postgres" {
		q += " FOR UPDATE SKIP LOCKED"
	}
	rs, err := tx.QueryContext(ctx, q, limit)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var items []OutboxItem
	for rs.Next() {
		var it OutboxItem
		var args, opts string
		if err := rs.Scan(&it.ID, &it.Kind, &args, &opts); err != nil {
			rs.Close()
			return 0, err
		}
		it.Args, it.Opts = []byte(args), []byte(opts)
		items = append(items, it)
	}
	if err := rs.Close(); err != nil {
		return 0, err
	}
	if err := rs.Err(); err != nil {
		return 0, err
	}
	if len(items) == 0 {
		return 0, nil
	}
	if err := fn(tx, items); err != nil {
		return 0, err
	}
	del := s.rebind(`DELETE FROM _outbox WHERE id >= ? AND id <= ?`)
	if s.dialect.Name() == "postgres" {
		// Other instances may hold rows in between; delete exactly ours.
		ids := make([]int64, len(items))
		for i, it := range items {
			ids[i] = it.ID
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM _outbox WHERE id = ANY($1)`, ids); err != nil {
			return 0, fmt.Errorf("delete outbox: %w", err)
		}
	} else if _, err := tx.ExecContext(ctx, del, items[0].ID, items[len(items)-1].ID); err != nil {
		return 0, fmt.Errorf("delete outbox: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return len(items), nil
}
