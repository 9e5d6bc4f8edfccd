package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// postgresDialect implements Dialect for PostgreSQL through pgx.
type postgresDialect struct{}

func (postgresDialect) Name() string             { return "postgres" }
func (postgresDialect) Filter() filter.Dialect   { return filter.Postgres }
func (postgresDialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }
func (postgresDialect) RandomFunc() string       { return "RANDOM()" }
func (postgresDialect) JSONArrayContains(col, ph string) string {
	return col + " @> jsonb_build_array(" + ph + "::text)"
}

func (postgresDialect) PrimaryKeyDef() string { return `TEXT COLLATE "C" PRIMARY KEY NOT NULL` }

func (postgresDialect) ColumnDef(s schema.Storage) string {
	switch s {
	case schema.StoreNumber:
		return "DOUBLE PRECISION DEFAULT 0 NOT NULL"
	case schema.StoreBool:
		return "BOOLEAN DEFAULT FALSE NOT NULL"
	case schema.StoreJSONArray:
		return "JSONB DEFAULT '[]'::jsonb NOT NULL"
	case schema.StoreJSON:
		return "JSONB DEFAULT NULL"
	default:
		// Bytewise "C" collation: the filter compiler orders and compares
		// text as SQLite does, and indexes then serve those sorts.
		return `TEXT COLLATE "C" DEFAULT '' NOT NULL`
	}
}

func (postgresDialect) CastParam(ph string, s schema.Storage) string {
	switch s {
	case schema.StoreNumber:
		return "CAST(" + ph + " AS DOUBLE PRECISION)"
	case schema.StoreBool:
		return "CAST(" + ph + " AS BOOLEAN)"
	case schema.StoreJSONArray, schema.StoreJSON:
		return "CAST(" + ph + " AS JSONB)"
	default:
		return "CAST(" + ph + ` AS TEXT) COLLATE "C"`
	}
}

func (postgresDialect) ConvertColumn(col string, from, to schema.Storage) string {
	switch {
	case from == schema.StoreText && to == schema.StoreJSONArray:
		return "CASE WHEN " + col + " = '' THEN '[]'::jsonb ELSE jsonb_build_array(" + col + ") END"
	case from == schema.StoreJSONArray && to == schema.StoreText:
		return "COALESCE(" + col + "->>-1, '')"
	}
	return col
}

func (d postgresDialect) AlterColumnType(table, col string, from, to schema.Storage) string {
	qc := quote(col)
	typ := map[schema.Storage]string{schema.StoreText: `TEXT COLLATE "C"`, schema.StoreJSONArray: "JSONB"}[to]
	if typ == "" {
		return ""
	}
	def := map[schema.Storage]string{schema.StoreText: "''", schema.StoreJSONArray: "'[]'::jsonb"}[to]
	return fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT, ALTER COLUMN %s TYPE %s USING %s, ALTER COLUMN %s SET DEFAULT %s",
		quote(table), qc, qc, typ, d.ConvertColumn(qc, from, to), qc, def)
}

func (postgresDialect) UniqueViolation(err error) (string, []string, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		return "", nil, false
	}
	return pe.ConstraintName, nil, true
}

func (postgresDialect) IndexesOf(ctx context.Context, q querier, table string) ([]string, error) {
	// The primary key's index keeps its first name when the table is
	// renamed, so it is excluded by kind, not by name.
	return queryStrings(ctx, q, `SELECT ic.relname FROM pg_index x
		JOIN pg_class ic ON ic.oid = x.indexrelid
		JOIN pg_class tc ON tc.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = tc.relnamespace
		WHERE n.nspname = current_schema() AND tc.relname = $1 AND NOT x.indisprimary`, table)
}

func (postgresDialect) NameInUse(ctx context.Context, q querier, name string) (bool, error) {
	// Relations (tables, views, indexes, sequences) and types (River's
	// enums) share the names a table takes.
	var n int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM pg_class WHERE relnamespace = to_regnamespace(current_schema()) AND relname = $1) +
		(SELECT COUNT(*) FROM pg_type WHERE typnamespace = to_regnamespace(current_schema()) AND typname = $1)`, name).Scan(&n)
	return n > 0, err
}

// openPostgres opens a pgx pool. Record reads and writes use it directly
// (pgtx.go); it is also exposed through database/sql for schema changes
// and migrations, which share their code with SQLite.
func openPostgres(ctx context.Context, dsn string, maxConns int32) (*sql.DB, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("parse database url: %w", err)
	}
	switch {
	case maxConns > 0:
		cfg.MaxConns = maxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		// pgx's default, max(4, CPUs), suits queries that keep the CPU
		// busy. A write transaction mostly waits, for its round trips and
		// for the WAL flush of its COMMIT, so on a small machine writes
		// queued for a connection while the CPUs idled (docs/benchmarks.md).
		cfg.MaxConns = int32(max(8, 2*runtime.GOMAXPROCS(0)))
	}
	// A canceled context must stop the statement in the server. pgx's
	// default only closes the socket, and the backend then runs the query
	// to its end (the query timeout would free the request, not the CPU):
	// a cancel request first, the socket a second later if that fails.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("connect postgres: %w", err)
	}
	return stdlib.OpenDBFromPool(pool), pool, nil
}
