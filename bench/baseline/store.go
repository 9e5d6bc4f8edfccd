package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// store holds the connection pools and the SQL dialect.
//
// SQLite gets a read pool and a single-connection write pool (WAL allows
// concurrent readers beside one writer; serialising writers in Go avoids
// SQLITE_BUSY retries). PostgreSQL uses one pool for both.
type store struct {
	read  *sql.DB
	write *sql.DB
	pg    bool
}

// sqliteDSN builds a modernc.org/sqlite DSN with WAL, a busy timeout and the
// usual server pragmas.
func sqliteDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)",
		"journal_mode(WAL)",
		"synchronous(NORMAL)",
		"foreign_keys(ON)",
		"temp_store(MEMORY)",
		"cache_size(-16000)",
	} {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

func openStore(ctx context.Context, driver, dsn string) (*store, error) {
	poolSize := max(8, 4*runtime.GOMAXPROCS(0))
	st := &store{pg: driver == "postgres"}
	var err error
	if st.pg {
		if st.read, err = sql.Open("pgx", dsn); err != nil {
			return nil, err
		}
		st.read.SetMaxOpenConns(poolSize)
		st.read.SetMaxIdleConns(poolSize)
		st.write = st.read
	} else {
		if st.read, err = sql.Open("sqlite", sqliteDSN(dsn)); err != nil {
			return nil, err
		}
		st.read.SetMaxOpenConns(poolSize)
		st.read.SetMaxIdleConns(poolSize)
		if st.write, err = sql.Open("sqlite", sqliteDSN(dsn)+"&_txlock=immediate"); err != nil {
			st.read.Close()
			return nil, err
		}
		st.write.SetMaxOpenConns(1)
		st.write.SetMaxIdleConns(1)
	}
	if err := st.read.PingContext(ctx); err != nil {
		st.close()
		return nil, fmt.Errorf("open %s: %w", driver, err)
	}
	return st, nil
}

func (s *store) close() {
	s.read.Close()
	if s.write != s.read {
		s.write.Close()
	}
}

// rebind turns the '?' placeholders of q into PostgreSQL's $n form. The
// baseline never puts literals in SQL text, so every '?' is a placeholder.
func (s *store) rebind(q string) string {
	if !s.pg {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// defaultOrder is the ORDER BY used when a list names no sort. It mirrors
// Plinth's choice so that both servers run the same SQL: insertion order
// (rowid) on SQLite, the primary key on PostgreSQL for stable paging.
func (s *store) defaultOrder() string {
	if s.pg {
		return `"id"`
	}
	return "rowid"
}

// quoteIdent quotes a table or column name for both dialects.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
