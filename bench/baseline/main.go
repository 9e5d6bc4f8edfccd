// Command baseline is the bare comparison server for the Plinth benchmark.
//
// It serves the subset of the PocketBase HTTP API that the benchmark
// scenarios exercise (health, record list/view/create/update, batch create,
// auth-with-password and auth-refresh) straight from net/http and
// database/sql, with the same drivers Plinth uses (modernc.org/sqlite and
// github.com/jackc/pgx/v5/stdlib), on the very tables Plinth created and the
// harness seeded. It answers with JSON of the same shape as PocketBase.
//
// It is deliberately hand-written for the fixed benchmark schema: it knows the
// posts fields at compile time and parses only the small filter/sort subset
// the scenarios send. That is what "bare" means here: no schema registry, no
// rule engine, no hooks. It still does the work a correct server must do:
// parameterised SQL, a count query when a total is requested, relation and
// select validation on writes, bcrypt on login and a verified token on
// authenticated requests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

// config is the baseline server's command-line configuration.
type config struct {
	// addr is the listen address; default 127.0.0.1:8091.
	addr string
	// driver is "sqlite" or "postgres"; required.
	driver string
	// dsn is the SQLite file path or the PostgreSQL URL; required.
	dsn string
	// collections maps a base collection name to its PocketBase id. Every
	// listed collection must have the benchmark "posts" schema.
	collections map[string]string
	// ownerRule lists the collections whose list/view rule is
	// `owner = @request.auth.id`.
	ownerRule map[string]bool
	// usersID is the id of the users auth collection; empty disables auth.
	usersID string
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{collections: map[string]string{}, ownerRule: map[string]bool{}}
	fs.StringVar(&cfg.addr, "http", "127.0.0.1:8091", "listen address")
	fs.StringVar(&cfg.driver, "driver", "", "sqlite or postgres")
	fs.StringVar(&cfg.dsn, "dsn", "", "SQLite file path or PostgreSQL URL")
	fs.Func("collection", "name=id of a collection with the posts schema (repeatable)", func(s string) error {
		name, id, ok := strings.Cut(s, "=")
		if !ok || name == "" || id == "" {
			return fmt.Errorf("want name=id, got %q", s)
		}
		cfg.collections[name] = id
		return nil
	})
	fs.Func("owner-rule", "collection whose list/view rule is owner = @request.auth.id (repeatable)", func(s string) error {
		cfg.ownerRule[s] = true
		return nil
	})
	fs.StringVar(&cfg.usersID, "users-id", "", "id of the users auth collection (empty: no auth routes)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.driver != "sqlite" && cfg.driver != "postgres":
		return cfg, fmt.Errorf("-driver: want sqlite or postgres, got %q", cfg.driver)
	case cfg.dsn == "":
		return cfg, errors.New("-dsn is required")
	case len(cfg.collections) == 0:
		return cfg, errors.New("at least one -collection is required")
	}
	return cfg, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.driver, cfg.dsn)
	if err != nil {
		return err
	}
	defer st.close()

	srv, err := newServer(ctx, cfg, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(stderr, "baseline http: ", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(stderr, "baseline: serving %s on %s\n", cfg.driver, ln.Addr())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
}
