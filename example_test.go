package plinth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/migrate"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

// exampleApp opens an App on a fresh SQLite directory with a "posts"
// collection; the returned func closes it and removes the directory.
func exampleApp() (*plinth.App, func()) {
	dir, err := os.MkdirTemp("", "plinth-example")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	app, err := plinth.New(ctx, plinth.Config{
		DataDir:       dir,
		MigrationsDir: dir + "/migrations",
		BcryptCost:    4,
		Migrations: []migrate.Go{plinth.CollectionsMigration("1764800000_posts", `{
			"name": "posts", "listRule": "", "viewRule": "", "createRule": "",
			"fields": [{"name": "title", "type": "text", "required": true}]}`)},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		panic(err)
	}
	if _, err := app.StartMigrations(ctx); err != nil {
		panic(err)
	}
	return app, func() { app.Close(); os.RemoveAll(dir) }
}

// Embedding Plinth: New opens the database, StartMigrations applies the
// application's migrations (here a Go migration creating "posts"), and
// Serve listens until the context ends.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "plinth-example")
	defer os.RemoveAll(dir)
	app, err := plinth.New(ctx, plinth.Config{
		DataDir:       dir,
		MigrationsDir: dir + "/migrations",
		Migrations: []migrate.Go{plinth.CollectionsMigration("1764800000_posts",
			`{"name": "posts", "listRule": "", "fields": [{"name": "title", "type": "text"}]}`)},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer app.Close()
	applied, err := app.StartMigrations(ctx)
	fmt.Println(applied, err)
	// A real program would now serve: app.Serve(ctx) (see examples/todo).

	// Output: [1764800000_posts] <nil>
}

// A Before hook runs inside the write's transaction: it may change the
// record or refuse the write with a 4xx; an After hook runs only once the
// write has committed. Writes from Go code fire the same hooks as REST.
func ExampleApp_OnRecordCreate() {
	app, done := exampleApp()
	defer done()
	ctx := context.Background()

	app.OnRecordCreate("posts").Before(func(e *plinth.RecordEvent) error {
		title := strings.TrimSpace(e.Record.GetString("title"))
		if strings.Contains(strings.ToLower(title), "spam") {
			return plinth.Refuse(http.StatusBadRequest, "No spam, please.")
		}
		e.Record.Set("title", title)
		return nil
	})
	app.OnRecordCreate("posts").After(func(e *plinth.RecordEvent) error {
		fmt.Printf("committed %q\n", e.Record.GetString("title"))
		return nil
	})

	posts := app.Store().Schema().Lookup("posts")
	create := func(title string) error {
		return app.Store().Tx(ctx, func(tx *store.Tx) error {
			_, err := app.Records().Create(ctx, tx, record.SystemCaller(), posts, map[string]any{"title": title})
			return err
		})
	}
	fmt.Println(create("  Hello  "))
	err := create("Buy SPAM")
	var refused *plinth.HookError
	fmt.Println(errors.As(err, &refused), refused.Status, refused.Message)
	// Output:
	// committed "Hello"
	// <nil>
	// true 400 No spam, please.
}

// Priority orders the handlers of a hook (lower first, then binding order);
// ID names one so that Unbind can remove it.
func ExampleRecordHook_Unbind() {
	app, done := exampleApp()
	defer done()
	ctx := context.Background()
	log := func(s string) func(*plinth.RecordEvent) error {
		return func(*plinth.RecordEvent) error { fmt.Println(s); return nil }
	}
	app.OnRecordCreate("posts").Before(log("second"))
	app.OnRecordCreate("posts").Before(log("first"), plinth.Priority(-10))
	app.OnRecordCreate("posts").Before(log("audit"), plinth.ID("audit"), plinth.Priority(10))

	posts := app.Store().Schema().Lookup("posts")
	create := func() {
		app.Store().Tx(ctx, func(tx *store.Tx) error {
			_, err := app.Records().Create(ctx, tx, record.SystemCaller(), posts, map[string]any{"title": "x"})
			return err
		})
	}
	create()
	app.OnRecordCreate("posts").Unbind("audit")
	create()
	// Output:
	// first
	// second
	// audit
	// first
	// second
}

// A custom route lives on the API's own mux, behind its middleware (auth,
// rate limits, logs). A returned *APIError (or a hook's refusal) is
// answered in PocketBase's {status, message, data} shape.
func ExampleApp_HandleFunc() {
	app, done := exampleApp()
	defer done()
	app.HandleFunc("GET /api/hello", func(w http.ResponseWriter, r *http.Request) error {
		if plinth.AuthRecord(r) == nil {
			return &plinth.APIError{Status: http.StatusUnauthorized, Message: "Sign in first."}
		}
		_, err := fmt.Fprintln(w, "hello,", plinth.AuthRecord(r).GetString("email"))
		return err
	})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	// Output: 401 {"status":401,"message":"Sign in first.","data":{}}
}

// Go code reads records through the same service as the API, with a
// caller: record.SystemCaller() for the application itself, app.Caller(r)
// for the caller of a request (rules apply).
func ExampleApp_Records() {
	app, done := exampleApp()
	defer done()
	ctx := context.Background()
	posts := app.Store().Schema().Lookup("posts")
	err := app.Store().Tx(ctx, func(tx *store.Tx) error {
		for _, t := range []string{"one", "two", "three"} {
			if _, err := app.Records().Create(ctx, tx, record.SystemCaller(), posts, map[string]any{"title": t}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	page, err := app.Records().List(ctx, record.SystemCaller(), posts, record.ListParams{Filter: `title ~ "o"`, Sort: "title"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range page.Items {
		fmt.Println(r.GetString("title"))
	}
	// Output:
	// one
	// two
}
