package main

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// pgDatabase is a throw-away PostgreSQL database created for one run.
type pgDatabase struct {
	adminURL string
	name     string
	url      string
}

// createPGDatabase creates a uniquely named database through adminURL and
// returns it with the URL to reach it.
func createPGDatabase(ctx context.Context, adminURL string) (*pgDatabase, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("--pg-url: %w", err)
	}
	name := fmt.Sprintf("plinth_bench_%d_%04d", time.Now().Unix(), rand.IntN(10000))
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	// Identifiers cannot be parameters; name is generated above from digits.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	return &pgDatabase{adminURL: adminURL, name: name, url: u.String()}, nil
}

// drop removes the database, disconnecting any remaining sessions.
func (d *pgDatabase) drop(ctx context.Context) error {
	admin, err := sql.Open("pgx", d.adminURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)")
	return err
}

// findSQLiteFile returns the SQLite file under dir that holds table.
func findSQLiteFile(ctx context.Context, dir, table string) (string, error) {
	var candidates []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			switch filepath.Ext(path) {
			case ".db", ".sqlite", ".sqlite3":
				candidates = append(candidates, path)
			}
		}
		return nil
	})
	for _, path := range candidates {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			continue
		}
		var n int
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=?", table).Scan(&n)
		db.Close()
		if err == nil && n > 0 {
			return path, nil
		}
	}
	return "", fmt.Errorf("no SQLite file under %s has a %q table (looked at %s)", dir, table, strings.Join(candidates, ", "))
}

// dataStore is the harness's own connection to the database Plinth uses;
// it seeds tables directly.
type dataStore struct {
	db     *sql.DB
	driver string // "sqlite" or "postgres"
	dsn    string // SQLite path or PostgreSQL URL, as given to the baseline
}

// openDataStore connects to the SQLite file or PostgreSQL URL. For SQLite it
// sets only a busy timeout, so that the journal mode Plinth chose is kept.
func openDataStore(ctx context.Context, driver, dsn string) (*dataStore, error) {
	var db *sql.DB
	var err error
	if driver == "postgres" {
		db, err = sql.Open("pgx", dsn)
	} else {
		db, err = sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(20000)")
		if db != nil {
			db.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &dataStore{db: db, driver: driver, dsn: dsn}, nil
}

// journalMode reports SQLite's journal mode ("" for PostgreSQL).
func (d *dataStore) journalMode(ctx context.Context) string {
	if d.driver != "sqlite" {
		return ""
	}
	var mode string
	d.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	return mode
}

// placeholders returns n comma-separated placeholders starting at number
// first (1-based), in the store's dialect.
func (d *dataStore) placeholders(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if d.driver == "postgres" {
			fmt.Fprintf(&b, "$%d", first+i)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

func (d *dataStore) close() { d.db.Close() }
