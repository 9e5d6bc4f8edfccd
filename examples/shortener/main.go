// Command shortener is a URL shortener built on Plinth as a Go framework:
// users create short links (a Before hook generates a unique slug when
// none is given), GET /s/{slug} redirects with a 302 and records a click,
// an After hook on clicks counts the link's hits once the click is
// committed, and link creation is rate limited through the rate-limit
// settings.
//
//	go run ./examples/shortener --http 127.0.0.1:8090 --dir ./shortener_data
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/settings"
	"github.com/plinthdev/plinth/store"
)

// linksCollection: owners manage their links; only the slug hook and the
// clicks hook set the slug's default and the hit count. The unique
// index is what finally guarantees unique slugs.
const linksCollection = `{
  "id": "pbc_short_links",
  "name": "links",
  "listRule":   "owner = @request.auth.id",
  "viewRule":   "owner = @request.auth.id",
  "createRule": "@request.auth.collectionName = 'users' && @request.body.owner = @request.auth.id && @request.body.hits:isset = false",
  "updateRule": "owner = @request.auth.id && @request.body.owner:isset = false && @request.body.slug:isset = false && @request.body.hits:isset = false",
  "deleteRule": "owner = @request.auth.id",
  "fields": [
    {"name": "slug", "type": "text", "max": 32, "pattern": "^[a-zA-Z0-9_-]*$"},
    {"name": "url", "type": "url", "required": true},
    {"name": "hits", "type": "number", "onlyInt": true},
    {"name": "owner", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_", "cascadeDelete": true}
  ],
  "indexes": ["CREATE UNIQUE INDEX idx_links_slug ON links (slug)"]
}`

// clicksCollection: one record per redirect, written by the redirect
// route only (every write rule is null: superusers and Go code); a link's
// owner reads its clicks.
const clicksCollection = `{
  "name": "clicks",
  "listRule":   "link.owner = @request.auth.id",
  "viewRule":   "link.owner = @request.auth.id",
  "createRule": null,
  "updateRule": null,
  "deleteRule": null,
  "fields": [
    {"name": "link", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_short_links", "cascadeDelete": true},
    {"name": "referrer", "type": "text", "max": 255},
    {"name": "created", "type": "autodate", "onCreate": true}
  ],
  "indexes": ["CREATE INDEX idx_clicks_link ON clicks (link)"]
}`

// createLimit is the rate-limit rule of link creation: per client, as
// every rule of the settings. Superusers are never limited.
var createLimit = settings.Rule{Label: "links:create", MaxRequests: 5, Duration: 60}

const slugAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newApp builds the shortener: the links collection (created on first
// start by a Go migration), its rate limit, the slug hook and the
// redirect route.
func newApp(ctx context.Context, cfg plinth.Config, log *slog.Logger) (*plinth.App, error) {
	cfg.Migrations = append(cfg.Migrations, plinth.CollectionsMigration("1764800000_links", linksCollection, clicksCollection))
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := setup(ctx, app); err != nil {
		app.Close()
		return nil, err
	}
	return app, nil
}

func setup(ctx context.Context, app *plinth.App) error {
	if _, err := app.StartMigrations(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// Add the creation limit to the rules in force, once; an operator can
	// change it later from the dashboard.
	limits := app.Settings().RateLimits
	found := false
	for _, r := range limits.Rules {
		found = found || r.Label == createLimit.Label
	}
	if !found {
		limits.Rules = append(limits.Rules, createLimit)
		patch, err := json.Marshal(map[string]any{"rateLimits": limits})
		if err != nil {
			return err
		}
		if _, err := app.PatchSettings(ctx, patch); err != nil {
			return fmt.Errorf("rate limits: %w", err)
		}
	}

	// A link created without a slug gets a random one that no link has.
	// The check reads through the write's transaction; the unique index
	// refuses the rare race with another transaction, with a 400.
	app.OnRecordCreate("links").Before(func(e *plinth.RecordEvent) error {
		if e.Record.GetString("slug") != "" {
			return nil
		}
		for range 10 {
			slug := schema.RandomString(7, slugAlphabet)
			_, err := e.Tx.FindFirst(e.Context, e.Collection, map[string]any{"slug": slug})
			if errors.Is(err, store.ErrNotFound) {
				e.Record.Set("slug", slug)
				return nil
			}
			if err != nil {
				return err
			}
		}
		return errors.New("no free slug found")
	})

	// The hit counter: an After hook runs once the click has committed
	// (never for a rolled-back one) and adds one to its link's hits. The
	// compare-and-set (UpdateIf) retries when a concurrent click counted
	// first, so no hit is lost even under PostgreSQL's READ COMMITTED.
	app.OnRecordCreate("clicks").After(func(e *plinth.RecordEvent) error {
		return countHit(e.Context, app, e.Record.GetString("link"))
	})

	// GET /s/{slug}: a public redirect that records a click. The system
	// caller bypasses the rules, which let no client write clicks.
	app.HandleFunc("GET /s/{slug}", func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		links := app.Store().Schema().Lookup("links")
		link, err := app.Store().FindFirstBy(ctx, links, "slug", r.PathValue("slug"))
		if errors.Is(err, store.ErrNotFound) {
			return &plinth.APIError{Status: http.StatusNotFound, Message: "No link has this slug."}
		}
		if err != nil {
			return err
		}
		click := map[string]any{"link": link.ID(), "referrer": referrerHost(r)}
		err = app.Store().Tx(ctx, func(tx *store.Tx) error {
			_, err := app.Records().Create(ctx, tx, record.SystemCaller(), app.Store().Schema().Lookup("clicks"), click)
			return err
		})
		if err != nil {
			return err
		}
		http.Redirect(w, r, link.GetString("url"), http.StatusFound)
		return nil
	})
	return nil
}

// countHit adds one to the hits of the link with id.
func countHit(ctx context.Context, app *plinth.App, id string) error {
	links := app.Store().Schema().Lookup("links")
	for range 20 {
		err := app.Store().Tx(ctx, func(tx *store.Tx) error {
			link, err := tx.FindOne(ctx, links, id, nil)
			if err != nil {
				return err
			}
			hits, _ := link.Get("hits").(float64)
			link.Set("hits", hits+1)
			return tx.UpdateIf(ctx, link, "hits", hits)
		})
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("link %s: hit not counted after 20 conflicts", id)
}

// referrerHost is the host of the Referer header, if any: where the click
// came from, without the path (which may carry private data).
func referrerHost(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || len(u.Host) > 255 {
		return ""
	}
	return u.Host
}

func main() {
	cfg := plinth.Config{}
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8090", "listen address")
	flag.StringVar(&cfg.DataDir, "dir", "shortener_data", "data directory (SQLite database and files)")
	flag.StringVar(&cfg.DatabaseURL, "db", "", "PostgreSQL URL (postgres://...); empty: SQLite in --dir")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "shortener:", err)
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
