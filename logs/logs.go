// Package logs keeps the request log and the application's log, queried
// like PocketBase's logs API. Entries are written asynchronously in
// batches, apart from the application's data: in an auxiliary SQLite file
// next to data.db, or in a table of its own on PostgreSQL. A full queue
// drops entries (counted) rather than slow requests down.
package logs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", for the auxiliary file

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// Entry is one log entry.
type Entry struct {
	ID      string         `json:"id"`
	Created string         `json:"created"` // "2006-01-02 15:04:05.000Z"
	Updated string         `json:"updated"`
	Level   int            `json:"level"` // slog's: -4 debug, 0 info, 4 warn, 8 error
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
	// RawData is Data already encoded as a JSON object; Add callers on a
	// hot path (the request log) set it instead of Data.
	RawData []byte `json:"-"`
}

// Config tunes the store.
type Config struct {
	// QueueSize bounds the entries waiting to be written (default 8192).
	QueueSize int
	// FlushInterval is the longest an entry waits in the queue (default
	// 200ms); a batch is written sooner when it reaches 500 entries.
	FlushInterval time.Duration
	// Log receives the store's own failures (default slog.Default()).
	Log *slog.Logger
}

// Store is a log store. Its methods are safe for concurrent use.
type Store struct {
	db      *sql.DB
	own     bool // db opened (and closed) by the store
	dialect filter.Dialect
	pg      bool
	coll    *schema.Collection
	cfg     Config

	queue chan Entry
	done  chan struct{}
	// stmts and args belong to the writer goroutine.
	stmts   map[int]*sql.Stmt
	args    []any
	dropped atomic.Int64
	// mu guards closed against Add: the application's log may still
	// write while the store closes, and a send on the closed queue would
	// panic.
	mu     sync.RWMutex
	closed bool
}

const createSQLite = `CREATE TABLE IF NOT EXISTS _logs (
	id TEXT PRIMARY KEY NOT NULL,
	created TEXT NOT NULL,
	level INTEGER NOT NULL DEFAULT 0,
	message TEXT NOT NULL DEFAULT '',
	data TEXT NOT NULL DEFAULT '{}') WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_logs_created ON _logs (created)`

const createPostgres = `CREATE TABLE IF NOT EXISTS _logs (
	id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
	created TEXT COLLATE "C" NOT NULL,
	level DOUBLE PRECISION NOT NULL DEFAULT 0,
	message TEXT COLLATE "C" NOT NULL DEFAULT '',
	data JSONB NOT NULL DEFAULT '{}'::jsonb);
CREATE INDEX IF NOT EXISTS idx_logs_created ON _logs (created)`

// OpenSQLite opens (creating) the auxiliary database dir/auxiliary.db.
func OpenSQLite(ctx context.Context, dir string, cfg Config) (*Store, error) {
	path := filepath.Join(dir, "auxiliary.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	for _, stmt := range strings.Split(createSQLite, ";\n") {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("create logs table: %w", err)
		}
	}
	return start(db, true, filter.SQLite, false, cfg), nil
}

// OpenPostgres keeps the logs in the table _logs of db.
func OpenPostgres(ctx context.Context, db *sql.DB, cfg Config) (*Store, error) {
	// Instances that start together would race on CREATE TABLE.
	err := func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7263543)`); err != nil {
			return err
		}
		for _, stmt := range strings.Split(createPostgres, ";\n") {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		return nil, fmt.Errorf("create logs table: %w", err)
	}
	return start(db, false, filter.Postgres, true, cfg), nil
}

func start(db *sql.DB, own bool, d filter.Dialect, pg bool, cfg Config) *Store {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 8192
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 200 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Store{db: db, own: own, dialect: d, pg: pg, coll: logsCollection(), cfg: cfg,
		queue: make(chan Entry, cfg.QueueSize), done: make(chan struct{})}
	go s.writer()
	return s
}

// logsCollection describes the table to the filter compiler, so that
// filters and sorts over logs are compiled like any other: bound values,
// known columns, json paths into data.
func logsCollection() *schema.Collection {
	c := &schema.Collection{}
	err := json.Unmarshal([]byte(`{"id":"_logs","name":"_logs","type":"base","system":true,"fields":[
		{"id":"id","name":"id","type":"text","primaryKey":true,"system":true},
		{"id":"created","name":"created","type":"date","system":true},
		{"id":"level","name":"level","type":"number","system":true},
		{"id":"message","name":"message","type":"text","system":true},
		{"id":"data","name":"data","type":"json","system":true}]}`), c)
	if err != nil {
		panic(err) // a constant
	}
	return c
}

// Add queues e; it never blocks. A missing id and time are filled in.
func (s *Store) Add(e Entry) {
	now := time.Now()
	if e.ID == "" {
		e.ID = newID(now)
	}
	if e.Created == "" {
		e.Created = schema.FormatDate(now)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	select {
	case s.queue <- e:
	default:
		s.dropped.Add(1)
	}
}

// newID is a 15-character id that sorts in time order (13 hex digits of
// microseconds, then 2 random characters): entries are appended at the end
// of the primary key instead of scattered through it, and the newest
// first is the id order. It runs on every request, so it is built by hand
// and its two characters need no cryptographic randomness.
func newID(t time.Time) string {
	const hex, alphabet = "0123456789abcdef", "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [15]byte
	us := uint64(t.UnixMicro())
	for i := 12; i >= 0; i-- {
		b[i] = hex[us&15]
		us >>= 4
	}
	r := mathrand.Uint64()
	b[13], b[14] = alphabet[r%36], alphabet[r/36%36]
	return string(b[:])
}

// Dropped is the number of entries dropped because the queue was full.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Close writes what is queued and closes the database it opened.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.done
	for _, st := range s.stmts {
		st.Close()
	}
	if s.own {
		return s.db.Close()
	}
	return nil
}

func (s *Store) writer() {
	defer close(s.done)
	tick := time.NewTicker(s.cfg.FlushInterval)
	defer tick.Stop()
	batch := make([]Entry, 0, 500)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := s.insert(context.Background(), batch); err != nil {
			s.cfg.Log.Warn("logs: cannot write a batch", "entries", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case e, ok := <-s.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// chunkSizes are the row counts of the prepared INSERT statements a batch
// is split into: a few statement texts, prepared once, and no JSON to
// parse in the database.
var chunkSizes = []int{64, 8, 1}

// insert writes a batch in one transaction: one commit (one WAL append,
// one fsync on PostgreSQL) per batch rather than per chunk, and each page
// the batch touches is written once.
func (s *Store) insert(ctx context.Context, batch []Entry) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for len(batch) > 0 {
		n := chunkSizes[len(chunkSizes)-1]
		for _, size := range chunkSizes {
			if len(batch) >= size {
				n = size
				break
			}
		}
		stmt, err := s.insertStmt(ctx, n)
		if err != nil {
			return err
		}
		args := s.args[:0]
		for _, e := range batch[:n] {
			data := e.RawData
			if data == nil {
				data = []byte("{}")
				if e.Data != nil {
					if b, err := json.Marshal(e.Data); err == nil {
						data = b
					}
				}
			}
			args = append(args, e.ID, e.Created, e.Level, e.Message, string(data))
		}
		s.args = args
		// The statement was prepared on the database; within the
		// transaction it reuses the connection's prepared copy.
		if _, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return tx.Commit()
}

// insertStmt is the prepared INSERT of n rows.
func (s *Store) insertStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	if st := s.stmts[n]; st != nil {
		return st, nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO _logs (id, created, level, message, data) VALUES ")
	p := &filter.Params{Dialect: s.dialect}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + p.Add(nil) + ", " + p.Add(nil) + ", " + p.Add(nil) + ", " + p.Add(nil) + ", " + p.Add(nil))
		if s.pg {
			b.WriteString("::jsonb")
		}
		b.WriteString(")")
	}
	b.WriteString(" ON CONFLICT (id) DO NOTHING")
	st, err := s.db.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[int]*sql.Stmt{}
	}
	s.stmts[n] = st
	return st, nil
}

// ListParams select a page of entries: filter and sort in the filter
// language over id, created, level, message and data.*.
type ListParams struct {
	Filter  string
	Sort    string
	Page    int
	PerPage int
}

// List returns a page of entries and their total.
func (s *Store) List(ctx context.Context, q ListParams) ([]Entry, int, error) {
	p := &filter.Params{Dialect: s.dialect}
	where, err := s.where(q.Filter, p)
	if err != nil {
		return nil, 0, err
	}
	order := `"_r"."id" DESC` // ids sort in time order
	switch strings.TrimSpace(q.Sort) {
	case "", "-created", "-created,-id":
	case "created", "created,id":
		order = `"_r"."id"`
	default:
		if order, err = filter.CompileSort(q.Sort, s.env(), p); err != nil {
			return nil, 0, err
		}
	}
	q.Page, q.PerPage = max(q.Page, 1), min(max(q.PerPage, 1), 1000)
	nWhere := len(p.Values)
	query := `SELECT "_r"."id", "_r"."created", "_r"."level", "_r"."message", "_r"."data" FROM _logs AS "_r"` + where +
		" ORDER BY " + order + " LIMIT " + p.Add(int64(q.PerPage)) + " OFFSET " + p.Add(int64((q.Page-1)*q.PerPage))
	rows, err := s.db.QueryContext(ctx, query, p.Values...)
	if err != nil {
		return nil, 0, err
	}
	items, err := scanEntries(rows)
	if err != nil {
		return nil, 0, err
	}
	total := len(items)
	if q.Page > 1 || len(items) == q.PerPage {
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM _logs AS "_r"`+where, p.Values[:nWhere]...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	return items, total, nil
}

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = errors.New("log entry not found")

// Get returns one entry.
func (s *Store) Get(ctx context.Context, id string) (*Entry, error) {
	p := &filter.Params{Dialect: s.dialect}
	rows, err := s.db.QueryContext(ctx, `SELECT id, created, level, message, data FROM _logs WHERE id = `+p.Add(id), p.Values...)
	if err != nil {
		return nil, err
	}
	items, err := scanEntries(rows)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, ErrNotFound
	}
	return &items[0], nil
}

// Stat is the number of entries of one hour.
type Stat struct {
	Total int    `json:"total"`
	Date  string `json:"date"` // "2006-01-02 15:00:00.000Z"
}

// Stats counts the entries matching filter per hour, oldest first.
func (s *Store) Stats(ctx context.Context, filterSrc string) ([]Stat, error) {
	p := &filter.Params{Dialect: s.dialect}
	where, err := s.where(filterSrc, p)
	if err != nil {
		return nil, err
	}
	hour := `SUBSTR("_r"."created", 1, 13) || ':00:00.000Z'`
	rows, err := s.db.QueryContext(ctx, "SELECT "+hour+` AS h, COUNT(*) FROM _logs AS "_r"`+where+" GROUP BY h ORDER BY h", p.Values...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Stat{}
	for rows.Next() {
		var st Stat
		if err := rows.Scan(&st.Date, &st.Total); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Prune deletes the entries created before t.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	p := &filter.Params{Dialect: s.dialect}
	res, err := s.db.ExecContext(ctx, `DELETE FROM _logs WHERE created < `+p.Add(schema.FormatDate(before)), p.Values...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *Store) env() *filter.Env {
	return &filter.Env{Dialect: s.dialect, Collection: s.coll, Alias: "_r", Now: time.Now().UTC(),
		Client: &filter.Client{Superuser: true}}
}

func (s *Store) where(src string, p *filter.Params) (string, error) {
	if strings.TrimSpace(src) == "" {
		return "", nil
	}
	e, err := filter.Parse(src)
	if err != nil {
		return "", err
	}
	sqlText, err := filter.Compile(e, s.env(), p)
	if err != nil {
		return "", err
	}
	return " WHERE " + sqlText, nil
}

func scanEntries(rows *sql.Rows) ([]Entry, error) {
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var level float64
		var data []byte
		if err := rows.Scan(&e.ID, &e.Created, &level, &e.Message, &data); err != nil {
			return nil, err
		}
		e.Level, e.Updated = int(level), e.Created
		if err := json.Unmarshal(data, &e.Data); err != nil || e.Data == nil {
			e.Data = map[string]any{}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// secretParams are query parameters whose values never reach the log.
var secretParams = []string{"token", "password", "secret", "key", "code", "otp", "state", "apikey", "api_key", "access_token", "refresh_token"}

// RedactURL returns the request URI with the values of secret-looking
// query parameters (file tokens, OAuth2 codes, ...) replaced by "***".
func RedactURL(u *url.URL) string {
	if u.RawQuery == "" {
		return u.Path
	}
	q := u.Query()
	changed := false
	for k := range q {
		lk := strings.ToLower(k)
		for _, s := range secretParams {
			if strings.Contains(lk, s) {
				q[k] = []string{"***"}
				changed = true
				break
			}
		}
	}
	if !changed {
		return u.RequestURI()
	}
	return u.Path + "?" + q.Encode()
}
