// Package testenv gives tests a database to run against: a fresh SQLite
// directory, and a uniquely named PostgreSQL schema that is dropped when the
// test ends. Every store and API test runs on both through Backends.
package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/plinthdev/plinth/schema"
)

// Backend is one database a test can run on.
type Backend struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Dir is a fresh data directory: the SQLite database's, and on both
	// backends the default place of uploaded files.
	Dir string
	// URL is the PostgreSQL connection string (PostgreSQL only).
	URL string
}

// PostgresURL is the server tests use: PLINTH_TEST_PG_URL or the local one.
func PostgresURL() string {
	if u := os.Getenv("PLINTH_TEST_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	pgOnce sync.Once
	pgErr  error
)

func pgAvailable() error {
	pgOnce.Do(func() {
		db, err := sql.Open("pgx", PostgresURL())
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	return pgErr
}

// Run calls fn once per backend as a parallel subtest named after it.
// PostgreSQL is skipped with a message when unreachable, unless
// PLINTH_REQUIRE_SERVICES=1, where that fails the test.
func Run(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, New(t, name))
		})
	}
}

// New returns a fresh backend of the named kind, cleaned up with t.
func New(t testing.TB, name string) Backend {
	t.Helper()
	if name == "sqlite" {
		return Backend{Name: "sqlite", Dir: t.TempDir()}
	}
	if err := pgAvailable(); err != nil {
		if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
			t.Fatalf("PostgreSQL at %s is required (PLINTH_REQUIRE_SERVICES=1) but unreachable: %v", PostgresURL(), err)
		}
		t.Skipf("PostgreSQL at %s unreachable, skipping (set PLINTH_TEST_PG_URL): %v", PostgresURL(), err)
	}
	schemaName := "plinth_t_" + schema.RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789")
	db, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schemaName); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schemaName + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schemaName, err)
		}
	})
	sep := "?"
	if strings.Contains(PostgresURL(), "?") {
		sep = "&"
	}
	return Backend{Name: "postgres", URL: fmt.Sprintf("%s%ssearch_path=%s", PostgresURL(), sep, schemaName), Dir: t.TempDir()}
}

// PocketBaseVersion is the PocketBase whose example binary CI installs
// for the tests and benchmarks that run a real PocketBase:
// go install github.com/pocketbase/pocketbase/examples/base@v0.36.8
const PocketBaseVersion = "v0.36.8"

// PocketBaseBinary returns $PLINTH_POCKETBASE_BIN, or base in
// $(go env GOPATH)/bin (what go install names PocketBase's example), and
// whether it exists.
func PocketBaseBinary() (string, bool) {
	if p := os.Getenv("PLINTH_POCKETBASE_BIN"); p != "" {
		_, err := os.Stat(p)
		return p, err == nil
	}
	for _, gopath := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gopath, "bin", "base")
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}
