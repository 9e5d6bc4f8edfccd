package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/plinthdev/plinth/schema"
)

// Config selects and tunes the database.
type Config struct {
	// Dir is the data directory; the SQLite file lives there as data.db.
	Dir string
	// URL is a postgres:// connection string; empty selects SQLite.
	URL string
	// SQLiteSync is SQLite's synchronous pragma: NORMAL (default: durable
	// against process crashes, as WAL commits reach the OS before the call
	// returns) or FULL (also against power loss, at the cost of an fsync per
	// commit).
	SQLiteSync string
	// MaxConns caps the PostgreSQL pool. Default: pool_max_conns from the
	// URL, else max(8, 2×CPUs) (see openPostgres).
	MaxConns int32
	// QueryTimeout bounds each record read and each write transaction;
	// past it the statement is interrupted in the database and the call
	// fails with ErrQueryTimeout. Default DefaultQueryTimeout; negative:
	// no bound.
	QueryTimeout time.Duration
	// Tracer, when set, gets a span per statement and per write
	// transaction (OpenTelemetry), under the caller's span.
	Tracer trace.Tracer
	// CacheTotals keeps the totals of filtered lists until the next
	// write (see totalsCache). Only for SQLite, and only when nothing but
	// this store writes to the database: writes made elsewhere would not
	// reach it.
	CacheTotals bool
}

// Store is the database with its dialect and the cached schema.
type Store struct {
	dialect Dialect
	write   *sql.DB // SQLite: one connection; PostgreSQL: the pool
	read    *sql.DB // SQLite: read-only pool; PostgreSQL: the same pool
	pgPool  *pgxpool.Pool
	tracer  trace.Tracer
	schema  atomic.Pointer[Schema]
	// schemaMu serialises collection changes so snapshots are swapped in order.
	schemaMu sync.Mutex
	stmts    stmtCache
	// writeStmts caches the writer connection's statements (SQLite).
	writeStmts stmtCache
	// group batches write transactions into shared commits (SQLite).
	group *writeGroup
	// checkpointer copies the WAL into the database file (SQLite).
	checkpointer *walCheckpointer
	// onCommit lists the listeners of committed record writes (OnCommit).
	onCommit atomic.Pointer[[]func([]Change)]
	// writeGen counts committed write transactions (WriteGeneration).
	writeGen atomic.Uint64
	// beforeCommitFns lists the OnBeforeCommit listeners.
	beforeCommitFns atomic.Pointer[[]func(context.Context, *Tx, []Change) error]
	// onSchemaChange lists the listeners of local collection changes.
	onSchemaChange atomic.Pointer[[]func()]
	// onDelete is told of deletes inside their transaction (OnDelete).
	onDelete atomic.Pointer[deleteHook]
	// limits bounds the time and concurrency of costly queries.
	limits limits
	// totals keeps the totals of filtered lists (nil: not kept).
	totals *totalsCache
	// collectionListeners are told of local collection changes (guarded
	// by schemaMu).
	collectionListeners []CollectionChangeFunc
	// collectionChecks are asked before collection changes (guarded by
	// schemaMu).
	collectionChecks []CollectionCheckFunc
}

// Open connects to the configured database, applies pending migrations and
// loads the schema.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{tracer: cfg.Tracer}
	if cfg.URL == "" {
		if cfg.Dir == "" {
			cfg.Dir = "plinth_data"
		}
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		w, r, err := openSQLite(ctx, cfg.Dir, strings.ToUpper(cfg.SQLiteSync))
		if err != nil {
			return nil, err
		}
		s.dialect, s.write, s.read = sqliteDialect{}, w, r
		s.stmts.enabled = true
		s.writeStmts.enabled = true
		s.group = newWriteGroup(s)
		s.checkpointer = startCheckpointer(r, s.group.onIdle)
		if cfg.CacheTotals {
			s.totals = newTotalsCache(s.WriteGeneration)
		}
	} else {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
			return nil, errors.New("database url must start with postgres:// (or leave it empty for SQLite)")
		}
		db, pool, err := openPostgres(ctx, cfg.URL, cfg.MaxConns)
		if err != nil {
			return nil, err
		}
		s.dialect, s.write, s.read, s.pgPool = postgresDialect{}, db, db, pool
	}
	conns := s.read.Stats().MaxOpenConnections
	if s.pgPool != nil {
		conns = int(s.pgPool.Config().MaxConns)
	}
	s.limits = newLimits(cfg.QueryTimeout, conns)
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := s.reloadSchema(ctx, s.write); err != nil {
		s.Close()
		return nil, fmt.Errorf("load schema: %w", err)
	}
	return s, nil
}

// PostgresPool is the connection pool on PostgreSQL (nil on SQLite), for
// components that need pgx itself, such as LISTEN/NOTIFY.
func (s *Store) PostgresPool() *pgxpool.Pool { return s.pgPool }

// Close closes the database connections. SQLite checkpoints its WAL when the
// last connection closes.
func (s *Store) Close() error {
	var errs []error
	if s.checkpointer != nil {
		s.checkpointer.close()
	}
	s.stmts.close()
	s.writeStmts.close()
	if s.read != nil && s.read != s.write {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if s.pgPool != nil {
		s.pgPool.Close()
	}
	return errors.Join(errs...)
}

// Dialect returns the database dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Schema returns the current immutable schema snapshot.
func (s *Store) Schema() *Schema { return s.schema.Load() }

// PoolStats reports connection pool figures for metrics: the writer's and
// the readers' (the same pool on PostgreSQL).
func (s *Store) PoolStats() (write, read sql.DBStats) {
	if s.pgPool != nil {
		// Record reads and writes take connections from the pgx pool
		// directly, so database/sql's own figures would miss most use.
		st := s.pgPool.Stat()
		pool := sql.DBStats{
			MaxOpenConnections: int(st.MaxConns()),
			OpenConnections:    int(st.TotalConns()),
			InUse:              int(st.AcquiredConns()),
			Idle:               int(st.IdleConns()),
			WaitCount:          st.EmptyAcquireCount(),
			WaitDuration:       st.EmptyAcquireWaitTime(),
		}
		return pool, pool
	}
	return s.write.Stats(), s.read.Stats()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.pgPool != nil {
		return s.pgPool.Ping(ctx)
	}
	// database/sql's Ping on SQLite parses "select 1" every time; a cached
	// statement does the same check without the parse.
	rs, err := s.queryRead(ctx, "SELECT 1")
	if err != nil {
		return err
	}
	found := rs.Next()
	if err := errors.Join(rs.Err(), rs.Close()); err != nil || found {
		return err
	}
	return errors.New("ping: no row")
}

// Schema is an immutable snapshot of all collections.
type Schema struct {
	list   []*schema.Collection
	byID   map[string]*schema.Collection
	byName map[string]*schema.Collection // lower-cased names
	// requestData is set when some rule reads @request.query or
	// @request.headers, so requests only copy those when they can matter.
	requestData bool
}

func newSchema(list []*schema.Collection) *Schema {
	s := &Schema{list: list, byID: map[string]*schema.Collection{}, byName: map[string]*schema.Collection{}}
	for _, c := range list {
		s.byID[c.ID] = c
		s.byName[strings.ToLower(c.Name)] = c
		rules := []*string{c.ListRule, c.ViewRule, c.CreateRule, c.UpdateRule, c.DeleteRule}
		if c.Auth != nil {
			rules = append(rules, c.Auth.AuthRule, c.Auth.ManageRule)
		}
		for _, r := range rules {
			if r != nil && (strings.Contains(*r, "@request.query") || strings.Contains(*r, "@request.headers")) {
				s.requestData = true
			}
		}
	}
	return s
}

// RulesReadRequestData reports whether any rule reads @request.query or
// @request.headers.
func (s *Schema) RulesReadRequestData() bool { return s.requestData }

// Lookup finds a collection by id or (case-insensitive) name.
func (s *Schema) Lookup(idOrName string) *schema.Collection {
	if c, ok := s.byID[idOrName]; ok {
		return c
	}
	return s.byName[strings.ToLower(idOrName)]
}

// Collections lists all collections in creation order.
func (s *Schema) Collections() []*schema.Collection { return s.list }

// ReferencesTo lists (collection, field) pairs whose relation field targets c.
func (s *Schema) ReferencesTo(c *schema.Collection) []Reference {
	var out []Reference
	for _, other := range s.list {
		if other.IsView() {
			continue
		}
		for _, f := range other.Fields {
			if ro, ok := f.Options.(*schema.RelationOptions); ok && ro.CollectionID == c.ID {
				out = append(out, Reference{Collection: other, Field: f})
			}
		}
	}
	return out
}

// Reference is a relation field of Collection that points at another collection.
type Reference struct {
	Collection *schema.Collection
	Field      *schema.Field
}

// Param returns a stored system parameter, or "" when unset.
func (s *Store) Param(ctx context.Context, key string) (string, error) {
	var v string
	err := s.write.QueryRowContext(ctx, s.rebind(`SELECT value FROM _params WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// EnsureParam returns the parameter key, storing gen() first when it is
// unset. Concurrent first starts of several instances agree on one value.
func (s *Store) EnsureParam(ctx context.Context, key string, gen func() string) (string, error) {
	if v, err := s.Param(ctx, key); err != nil || v != "" {
		return v, err
	}
	q := `INSERT INTO _params (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`
	if _, err := s.write.ExecContext(ctx, s.rebind(q), key, gen()); err != nil {
		return "", fmt.Errorf("store param %s: %w", key, err)
	}
	return s.Param(ctx, key)
}
