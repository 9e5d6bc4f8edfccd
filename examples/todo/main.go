// Command todo is a todo-list API with user accounts, built on Plinth as a
// Go framework: each user sees and edits only their own todos (owner
// rules), a hook trims titles and stamps completion times, and a custom
// route reports the caller's counts.
//
//	go run ./examples/todo --http 127.0.0.1:8090 --dir ./todo_data
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/record"
)

// todosCollection is the "todos" collection as the collections API takes
// it. Every rule ties a todo to its owner: a user lists, views, updates
// and deletes only the todos whose owner they are, and can create a todo
// only for themselves.
const todosCollection = `{
  "name": "todos",
  "listRule":   "owner = @request.auth.id",
  "viewRule":   "owner = @request.auth.id",
  "createRule": "@request.auth.collectionName = 'users' && @request.body.owner = @request.auth.id",
  "updateRule": "owner = @request.auth.id && (@request.body.owner:isset = false || @request.body.owner = @request.auth.id)",
  "deleteRule": "owner = @request.auth.id",
  "fields": [
    {"name": "title", "type": "text", "required": true, "max": 200},
    {"name": "done", "type": "bool"},
    {"name": "doneAt", "type": "date"},
    {"name": "owner", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_", "cascadeDelete": true},
    {"name": "created", "type": "autodate", "onCreate": true},
    {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true}
  ],
  "indexes": ["CREATE INDEX idx_todos_owner ON todos (owner)"]
}`

// newApp builds the application: Plinth with the todos collection (a Go
// migration creates it on first start), its hooks and its routes.
func newApp(ctx context.Context, cfg plinth.Config, log *slog.Logger) (*plinth.App, error) {
	cfg.Migrations = append(cfg.Migrations, plinth.CollectionsMigration("1764800000_todos", todosCollection))
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := app.StartMigrations(ctx); err != nil {
		app.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}

	// Before hooks run inside the write's transaction, after the rules and
	// validation; the record is validated again after them.
	stamp := func(e *plinth.RecordEvent) error {
		title := strings.TrimSpace(e.Record.GetString("title"))
		if title == "" {
			return plinth.Refuse(http.StatusBadRequest, "The title cannot be blank.")
		}
		e.Record.Set("title", title)
		done, _ := e.Record.Get("done").(bool)
		wasDone := e.Original != nil && e.Original.Get("done") == true
		switch {
		case done && !wasDone:
			e.Record.Set("doneAt", time.Now().UTC().Format("2006-01-02 15:04:05.000Z"))
		case !done:
			e.Record.Set("doneAt", "")
		}
		return nil
	}
	app.OnRecordCreate("todos").Before(stamp)
	app.OnRecordUpdate("todos").Before(stamp)

	// GET /api/todos/stats: the caller's open and done counts. The record
	// service applies the todos list rule for this caller, so the counts
	// are theirs alone.
	app.HandleFunc("GET /api/todos/stats", func(w http.ResponseWriter, r *http.Request) error {
		if plinth.AuthRecord(r) == nil {
			return &plinth.APIError{Status: http.StatusUnauthorized, Message: "Sign in to see your todos."}
		}
		c := app.Store().Schema().Lookup("todos")
		count := func(filter string) (int, error) {
			page, err := app.Records().List(r.Context(), app.Caller(r), c, record.ListParams{Filter: filter, PerPage: 1})
			if err != nil {
				return 0, err
			}
			return page.TotalItems, nil
		}
		open, err := count("done = false")
		if err != nil {
			return err
		}
		done, err := count("done = true")
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(map[string]int{"open": open, "done": done})
	})
	return app, nil
}

func main() {
	cfg := plinth.Config{}
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8090", "listen address")
	flag.StringVar(&cfg.DataDir, "dir", "todo_data", "data directory (SQLite database and files)")
	flag.StringVar(&cfg.DatabaseURL, "db", "", "PostgreSQL URL (postgres://...); empty: SQLite in --dir")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "todo:", err)
		os.Exit(1)
	}
}

func run(cfg plinth.Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := newApp(ctx, cfg, slog.Default())
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
