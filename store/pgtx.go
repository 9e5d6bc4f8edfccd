package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// On PostgreSQL, record reads and record write transactions use pgx
// directly rather than through database/sql: database/sql's locking and
// value conversion cost about a tenth of a record read's CPU, and it cannot
// send a transaction's BEGIN together with its first statement. Schema
// changes and migrations, which are rare, stay on database/sql.

// rows is one result set being read: *sql.Rows on SQLite, pgx's rows on
// PostgreSQL.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// result is what a write statement reports.
type result interface {
	RowsAffected() (int64, error)
}

var (
	_ rows   = (*sql.Rows)(nil)
	_ result = sql.Result(nil)
)

// pgResult is a PostgreSQL command's affected row count.
type pgResult int64

func (r pgResult) RowsAffected() (int64, error) { return int64(r), nil }

// pgRows adapts pgx.Rows to rows. A column scanned into *any gets the Go
// type database/sql gives through pgx's stdlib driver (string, float64,
// int64, bool, time.Time, []byte for json, jsonb and bytea, nil for NULL),
// so one conversion (fromDB) serves both databases.
type pgRows struct {
	pgx.Rows
	// done runs after the rows are closed: it ends the batch they came
	// from (the first statement of a transaction, sent with its BEGIN).
	done func() error
	// anyCols holds, per column scanned into *any, the typed target pgx
	// scans into and the conversion to the database/sql type; set on the
	// first Scan.
	anyCols []anyColumn
	args    []any
}

type anyColumn struct {
	target any
	value  func() any
}

func (r *pgRows) Close() error {
	r.Rows.Close()
	err := r.Rows.Err()
	if r.done != nil {
		if derr := r.done(); err == nil {
			err = derr
		}
		r.done = nil
	}
	return err
}

func (r *pgRows) Scan(dest ...any) error {
	if r.anyCols == nil {
		r.anyCols = make([]anyColumn, len(dest))
		r.args = make([]any, len(dest))
		fds := r.FieldDescriptions()
		for i, d := range dest {
			if _, ok := d.(*any); ok && i < len(fds) {
				r.anyCols[i] = anyTarget(fds[i].DataTypeOID)
			}
		}
	}
	if len(dest) != len(r.anyCols) {
		return fmt.Errorf("scan: %d destinations, %d before", len(dest), len(r.anyCols))
	}
	for i, d := range dest {
		if t := r.anyCols[i].target; t != nil {
			r.args[i] = t
		} else {
			r.args[i] = d
		}
	}
	if err := r.Rows.Scan(r.args...); err != nil {
		return err
	}
	for i, d := range dest {
		if v := r.anyCols[i].value; v != nil {
			*d.(*any) = v()
		}
	}
	return nil
}

// anyTarget picks the typed target for a column of type oid scanned into
// *any, mirroring pgx's stdlib driver.
func anyTarget(oid uint32) anyColumn {
	switch oid {
	case pgtype.BoolOID:
		return column(func(v pgtype.Bool) (any, bool) { return v.Bool, v.Valid })
	case pgtype.Float4OID, pgtype.Float8OID:
		return column(func(v pgtype.Float8) (any, bool) { return v.Float64, v.Valid })
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		return column(func(v pgtype.Int8) (any, bool) { return v.Int64, v.Valid })
	case pgtype.JSONOID, pgtype.JSONBOID, pgtype.ByteaOID:
		// pgx copies the bytes into a new slice on every scan.
		return column(func(v []byte) (any, bool) { return v, v != nil })
	case pgtype.TimestamptzOID:
		return column(func(v pgtype.Timestamptz) (any, bool) { return v.Time, v.Valid })
	case pgtype.TimestampOID:
		return column(func(v pgtype.Timestamp) (any, bool) { return v.Time, v.Valid })
	case pgtype.DateOID:
		return column(func(v pgtype.Date) (any, bool) { return v.Time, v.Valid })
	default:
		return column(func(v pgtype.Text) (any, bool) { return v.String, v.Valid })
	}
}

// column scans into a T and converts it with get (nil for NULL).
func column[T any](get func(T) (any, bool)) anyColumn {
	var v T
	return anyColumn{&v, func() any {
		if x, ok := get(v); ok {
			return x
		}
		return nil
	}}
}

// pgQuery runs a read on the pool.
func pgQuery(ctx context.Context, pool *pgxpool.Pool, q string, args ...any) (rows, error) {
	rs, err := pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return &pgRows{Rows: rs}, nil
}

// pgTx is a write transaction on one pooled PostgreSQL connection. Its
// BEGIN is not sent on its own: it travels in one pipeline with the
// transaction's first statement, which saves a round trip per write. A
// write whose outcome the caller does not need at once (an INSERT) waits
// and travels with the next statement or with the COMMIT, so a create is
// one round trip: BEGIN, INSERT, COMMIT. A transaction that runs no
// statement never begins.
type pgTx struct {
	conn  *pgxpool.Conn
	begun bool
	// pending is the write sent with the next statement or the COMMIT.
	pending *pendingWrite
}

// pendingWrite is a write statement sent later (pgTx.pending).
type pendingWrite struct {
	q    string
	args []any
	// failed maps the statement's error to the caller's.
	failed func(err error) error
	// span starts the statement's trace span when its result is read.
	span func(ctx context.Context) func(error)
	// noRows, when set, is a failure that shows as no row written (a
	// guarded insert whose related records are missing) rather than as an
	// error: such a write cannot travel with the COMMIT of a transaction
	// that ran other statements, which would commit them without it. It
	// is called with the transaction over or its statements still usable,
	// and returns the caller's error.
	noRows func(ctx context.Context) error
}

func (s *Store) beginPG(ctx context.Context) (*pgTx, error) {
	conn, err := s.pgPool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &pgTx{conn: conn}, nil
}

// execLater queues w to be sent with the next statement or the COMMIT.
func (p *pgTx) execLater(ctx context.Context, w *pendingWrite) error {
	if p.pending != nil {
		if err := p.flush(ctx); err != nil {
			return err
		}
	}
	p.pending = w
	return nil
}

// send sends, in one pipeline, BEGIN (unless sent), the pending write and
// q (none when q is ""). The caller reads q's result from the returned
// batch and closes it.
func (p *pgTx) send(ctx context.Context, q string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	if !p.begun {
		b.Queue("BEGIN")
	}
	w := p.pending
	p.pending = nil
	if w != nil {
		b.Queue(w.q, w.args...)
	}
	if q != "" {
		b.Queue(q, args...)
	}
	br := p.conn.SendBatch(ctx, b)
	if !p.begun {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, fmt.Errorf("begin: %w", err)
		}
		p.begun = true
	}
	if w != nil {
		end := endNothing
		if w.span != nil {
			end = w.span(ctx)
		}
		tag, err := br.Exec()
		end(err)
		if err != nil {
			br.Close()
			return nil, w.failed(err)
		}
		if tag.RowsAffected() == 0 && w.noRows != nil {
			br.Close()
			return nil, w.noRows(ctx)
		}
	}
	return br, nil
}

// flush sends the pending write on its own.
func (p *pgTx) flush(ctx context.Context) error {
	br, err := p.send(ctx, "", nil)
	if err != nil {
		return err
	}
	return br.Close()
}

func (p *pgTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	if p.begun && p.pending == nil {
		rs, err := p.conn.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		return &pgRows{Rows: rs}, nil
	}
	br, err := p.send(ctx, q, args)
	if err != nil {
		return nil, err
	}
	rs, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &pgRows{Rows: rs, done: br.Close}, nil
}

func (p *pgTx) exec(ctx context.Context, q string, args ...any) (result, error) {
	if p.begun && p.pending == nil {
		tag, err := p.conn.Exec(ctx, q, args...)
		return pgResult(tag.RowsAffected()), err
	}
	br, err := p.send(ctx, q, args)
	if err != nil {
		return nil, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return pgResult(tag.RowsAffected()), err
}

// errCommitRolledBack is returned when PostgreSQL answers COMMIT with a
// rollback: a statement of the transaction had failed.
var errCommitRolledBack = errors.New("commit: the transaction was rolled back")

func (p *pgTx) commit(ctx context.Context) error {
	defer p.conn.Release()
	if w := p.pending; w != nil && w.noRows != nil && p.begun {
		// Its failure must be able to stop the commit of the rest.
		if err := p.flush(ctx); err != nil {
			p.end()
			return err
		}
	}
	if p.pending == nil {
		if !p.begun {
			return nil
		}
		tag, err := p.conn.Exec(ctx, "COMMIT")
		return commitOutcome(tag, err)
	}
	br, err := p.send(ctx, "COMMIT", nil)
	if err != nil {
		// The pending write failed: as an error, which aborted the
		// transaction (the COMMIT sent with it rolled back), or by writing
		// nothing in a transaction that held nothing else.
		return err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return commitOutcome(tag, err)
}

// commitOutcome is the caller's error for COMMIT's answer.
func commitOutcome(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() == "ROLLBACK" {
		return errCommitRolledBack
	}
	return nil
}

// rollback ends the transaction. It does not use the request's context: a
// cancelled request must still roll back. A connection left inside a
// transaction is closed by the pool on release, never reused.
func (p *pgTx) rollback() {
	defer p.conn.Release()
	p.end()
}

// end rolls back a begun transaction; a pending write is dropped unsent.
func (p *pgTx) end() {
	p.pending = nil
	if !p.begun {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.conn.Exec(ctx, "ROLLBACK")
	p.begun = false
}
