// Command sharing is a file upload and sharing back end built on Plinth
// as a Go framework: users upload documents into a protected file field
// (only the owner can download them, with a short-lived file token), and
// create share links that expire: a public route serves the file to
// whoever holds the link's token until its expiry time, then answers 410.
//
//	go run ./examples/sharing --http 127.0.0.1:8090 --dir ./sharing_data
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// documentsCollection: each user's own documents. The file field is
// protected: /api/files serves it only with a file token of someone the
// view rule lets see the record, that is its owner.
const documentsCollection = `{
  "id": "pbc_share_documents",
  "name": "documents",
  "listRule":   "owner = @request.auth.id",
  "viewRule":   "owner = @request.auth.id",
  "createRule": "@request.auth.collectionName = 'users' && @request.body.owner = @request.auth.id",
  "updateRule": "owner = @request.auth.id && @request.body.owner:isset = false",
  "deleteRule": "owner = @request.auth.id",
  "fields": [
    {"name": "title", "type": "text", "required": true, "max": 200},
    {"name": "file", "type": "file", "required": true, "maxSelect": 1, "maxSize": 10485760, "protected": true},
    {"name": "owner", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_", "cascadeDelete": true},
    {"name": "created", "type": "autodate", "onCreate": true}
  ]
}`

// sharesCollection: share links of a document, managed by its owner.
// The hook draws the token (clients cannot choose it) and checks the
// expiry; a link is revoked by deleting it, and goes with its document.
const sharesCollection = `{
  "name": "shares",
  "listRule":   "document.owner = @request.auth.id",
  "viewRule":   "document.owner = @request.auth.id",
  "createRule": "@request.body.document.owner = @request.auth.id && @request.body.token:isset = false",
  "updateRule": null,
  "deleteRule": "document.owner = @request.auth.id",
  "fields": [
    {"name": "document", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_share_documents", "cascadeDelete": true},
    {"name": "token", "type": "text", "max": 64},
    {"name": "expiresAt", "type": "date", "required": true},
    {"name": "created", "type": "autodate", "onCreate": true}
  ],
  "indexes": ["CREATE UNIQUE INDEX idx_shares_token ON shares (token)"]
}`

// maxShareLife bounds how long a share link may live.
const maxShareLife = 7 * 24 * time.Hour

const dateLayout = "2006-01-02 15:04:05.000Z"

// newApp builds the application: collections (a Go migration), the share
// hook and the public share route.
func newApp(ctx context.Context, cfg plinth.Config, log *slog.Logger) (*plinth.App, error) {
	cfg.Migrations = append(cfg.Migrations, plinth.CollectionsMigration("1764800000_sharing", documentsCollection, sharesCollection))
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := app.StartMigrations(ctx); err != nil {
		app.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}

	// A new share gets a random 32-character token, and an expiry in the
	// future and at most maxShareLife away.
	app.OnRecordCreate("shares").Before(func(e *plinth.RecordEvent) error {
		exp, err := time.Parse(dateLayout, e.Record.GetString("expiresAt"))
		now := time.Now()
		if err != nil || !exp.After(now) || exp.After(now.Add(maxShareLife)) {
			return &plinth.HookError{Status: http.StatusBadRequest, Message: "Invalid expiry.",
				Data: map[string]any{"expiresAt": map[string]string{"code": "invalid_expiry", "message": "Give a time in the next 7 days."}}}
		}
		e.Record.Set("token", schema.RandomString(32, tokenAlphabet))
		return nil
	})

	// GET /share/{token}: the shared file, to anyone with the link, until
	// it expires. The route reads as the application itself (the rules
	// are for API clients); the token is the credential.
	app.HandleFunc("GET /share/{token}", func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		sch := app.Store().Schema()
		share, err := app.Store().FindFirstBy(ctx, sch.Lookup("shares"), "token", r.PathValue("token"))
		if errors.Is(err, store.ErrNotFound) || r.PathValue("token") == "" {
			return &plinth.APIError{Status: http.StatusNotFound, Message: "No such share link."}
		}
		if err != nil {
			return err
		}
		if exp, err := time.Parse(dateLayout, share.GetString("expiresAt")); err != nil || !time.Now().Before(exp) {
			return &plinth.APIError{Status: http.StatusGone, Message: "This share link has expired."}
		}
		docs := sch.Lookup("documents")
		doc, err := app.Store().FindOne(ctx, docs, share.GetString("document"), nil)
		if err != nil {
			return err
		}
		key, err := files.Key(docs.ID, doc.ID(), doc.GetString("file"))
		if err != nil {
			return err
		}
		obj, err := app.Files().Open(ctx, key)
		if err != nil {
			return err
		}
		defer obj.Close()
		w.Header().Set("Content-Type", obj.ContentType)
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": doc.GetString("file")}))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "private, no-store")
		http.ServeContent(w, r, "", obj.ModTime, obj)
		return nil
	})
	return app, nil
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func main() {
	cfg := plinth.Config{}
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8090", "listen address")
	flag.StringVar(&cfg.DataDir, "dir", "sharing_data", "data directory (SQLite database and files)")
	flag.StringVar(&cfg.DatabaseURL, "db", "", "PostgreSQL URL (postgres://...); empty: SQLite in --dir")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "sharing:", err)
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
