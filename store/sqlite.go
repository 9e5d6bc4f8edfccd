package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// sqliteDialect implements Dialect for the embedded SQLite database
// (modernc.org/sqlite, a cgo-free translation of SQLite).
type sqliteDialect struct{}

func (sqliteDialect) Name() string           { return "sqlite" }
func (sqliteDialect) Filter() filter.Dialect { return filter.SQLite }
func (sqliteDialect) Placeholder(int) string { return "?" }
func (sqliteDialect) RandomFunc() string     { return "RANDOM()" }
func (sqliteDialect) JSONArrayContains(col, ph string) string {
	return "EXISTS (SELECT 1 FROM json_each(" + col + ") WHERE json_each.value = " + ph + ")"
}

func (sqliteDialect) PrimaryKeyDef() string { return "TEXT PRIMARY KEY NOT NULL" }

func (sqliteDialect) ColumnDef(s schema.Storage) string {
	switch s {
	case schema.StoreNumber:
		return "REAL DEFAULT 0 NOT NULL"
	case schema.StoreBool:
		return "BOOLEAN DEFAULT FALSE NOT NULL"
	case schema.StoreJSONArray:
		return "JSON DEFAULT '[]' NOT NULL"
	case schema.StoreJSON:
		return "JSON DEFAULT NULL"
	default:
		return "TEXT DEFAULT '' NOT NULL"
	}
}

// CastParam: SQLite's columns take the type of the value, and the bound
// values already have the stored types.
func (sqliteDialect) CastParam(ph string, _ schema.Storage) string { return ph }

func (sqliteDialect) ConvertColumn(col string, from, to schema.Storage) string {
	switch {
	case from == schema.StoreText && to == schema.StoreJSONArray:
		return "CASE WHEN " + col + " = '' THEN '[]' ELSE json_array(" + col + ") END"
	case from == schema.StoreJSONArray && to == schema.StoreText:
		return "COALESCE(json_extract(" + col + ", '$[#-1]'), '')"
	}
	return col
}

// AlterColumnType returns "": SQLite cannot change a column's type, so the
// caller converts through a new column.
func (sqliteDialect) AlterColumnType(string, string, schema.Storage, schema.Storage) string {
	return ""
}

var sqliteUniqueCols = regexp.MustCompile(`UNIQUE constraint failed: (.+)$`)

func (sqliteDialect) UniqueViolation(err error) (string, []string, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && se.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return "", nil, false
	}
	m := sqliteUniqueCols.FindStringSubmatch(se.Error())
	if m == nil {
		return "", nil, true
	}
	var cols []string
	for _, tc := range strings.Split(m[1], ",") {
		tc = strings.TrimSpace(tc)
		if i := strings.LastIndexByte(tc, '.'); i >= 0 {
			tc = tc[i+1:]
		}
		if j := strings.IndexByte(tc, ' '); j >= 0 {
			tc = tc[:j] // "slug (2067)": the extended result code follows
		}
		cols = append(cols, tc)
	}
	return "", cols, true
}

func (sqliteDialect) IndexesOf(ctx context.Context, q querier, table string) ([]string, error) {
	return queryStrings(ctx, q, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", table)
}

func (sqliteDialect) NameInUse(ctx context.Context, q querier, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = ? COLLATE NOCASE", name).Scan(&n)
	return n > 0, err
}

// sqliteMmapBytes is how much of data.db each connection maps (1 GiB:
// beyond it, pages are read as usual).
const sqliteMmapBytes = 1 << 30

// openSQLite opens the database file under dir twice: a single-connection
// writer (SQLite allows one writer at a time; queueing in Go is cheaper than
// SQLITE_BUSY retries) and a pool of read-only readers that WAL lets run
// concurrently with the writer. The writer leaves WAL checkpoints to the
// readers (see walCheckpointer): query_only forbids changing the database,
// not copying committed pages into its file.
func openSQLite(ctx context.Context, dir string, syncMode string) (write, read *sql.DB, err error) {
	path := filepath.Join(dir, "data.db")
	if syncMode == "" {
		syncMode = "NORMAL"
	}
	pragmas := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)",
		"journal_mode(WAL)",
		"foreign_keys(ON)",
		"synchronous(" + syncMode + ")",
		"cache_size(-16000)",
		"temp_store(MEMORY)",
		// Read pages straight from the OS page cache through a memory
		// map instead of copying them in with a read() each. A commit by
		// another connection (any write, even River's heartbeat) drops
		// every reader's page cache; without the map each reader then
		// copies its working set in again, which at a million rows made a
		// view cost 2.4 times what it costs at 10k (1.3 with the map; see
		// docs/benchmarks.md). The map is address space, not memory: the
		// pages are the kernel's page cache either way.
		"mmap_size(" + strconv.Itoa(sqliteMmapBytes) + ")",
	} {
		pragmas.Add("_pragma", p)
	}
	base := "file:" + path + "?" + pragmas.Encode()
	write, err = sql.Open("sqlite", base+"&_txlock=immediate&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read, err = sql.Open("sqlite", base+"&_pragma=query_only(ON)")
	if err != nil {
		write.Close()
		return nil, nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)
	read.SetConnMaxLifetime(0)
	return write, read, nil
}

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	return scanStrings(q.QueryContext(ctx, query, args...))
}

// scanStrings reads a one-column result of strings.
func scanStrings(rs rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rs.Err()
}
