// Command shop is an e-commerce back end with payments built on Plinth as
// a Go framework: a public product catalogue with stock, orders whose
// stock is decremented in the order's own transaction by a Before hook
// (an order either takes all its items or none), a checkout route that
// honours idempotency keys (a retried request never orders twice), and a
// payment-provider webhook route that verifies an HMAC signature, ignores
// replayed events and marks orders paid, or cancels them and restocks.
//
//	SHOP_WEBHOOK_SECRET=whsec_test go run ./examples/shop --http 127.0.0.1:8090 --dir ./shop_data
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/migrate"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// productsCollection: everyone reads the catalogue; only superusers (the
// dashboard) and Go code write it. Prices are in cents.
const productsCollection = `{
  "id": "pbc_shop_products",
  "name": "products",
  "listRule": "",
  "viewRule": "",
  "fields": [
    {"name": "name", "type": "text", "required": true, "max": 200},
    {"name": "price", "type": "number", "required": true, "onlyInt": true, "min": 1},
    {"name": "stock", "type": "number", "onlyInt": true, "min": 0}
  ]
}`

// ordersCollection: users read their own orders and create them for
// themselves; the hook computes the total and the status, which clients
// cannot set, and only the webhook changes the status. lines is
// [{"product": id, "quantity": n}]. One idempotency key per user.
const ordersCollection = `{
  "id": "pbc_shop_orders",
  "name": "orders",
  "listRule":   "user = @request.auth.id",
  "viewRule":   "user = @request.auth.id",
  "createRule": "@request.auth.collectionName = 'users' && @request.body.user = @request.auth.id && @request.body.status:isset = false && @request.body.total:isset = false",
  "updateRule": null,
  "deleteRule": null,
  "fields": [
    {"name": "user", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_"},
    {"name": "lines", "type": "json", "required": true, "maxSize": 10000},
    {"name": "total", "type": "number", "onlyInt": true},
    {"name": "status", "type": "select", "maxSelect": 1, "values": ["pending", "paid", "cancelled"]},
    {"name": "idempotencyKey", "type": "text", "required": true, "max": 100},
    {"name": "created", "type": "autodate", "onCreate": true},
    {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true}
  ],
  "indexes": ["CREATE UNIQUE INDEX idx_orders_idempotency ON orders (user, idempotencyKey)"]
}`

// paymentEventsCollection: every webhook event processed, by the
// provider's event id (unique: a replayed event is recognised).
const paymentEventsCollection = `{
  "name": "payment_events",
  "listRule": null,
  "viewRule": null,
  "fields": [
    {"name": "eventId", "type": "text", "required": true, "max": 100},
    {"name": "type", "type": "text", "required": true, "max": 50},
    {"name": "order", "type": "relation", "maxSelect": 1, "collectionId": "pbc_shop_orders"},
    {"name": "amount", "type": "number", "onlyInt": true},
    {"name": "created", "type": "autodate", "onCreate": true}
  ],
  "indexes": ["CREATE UNIQUE INDEX idx_payment_events_id ON payment_events (eventId)"]
}`

// demoProducts is a Go migration that seeds the catalogue once, with
// fixed ids, so the README's commands work on a fresh database.
var demoProducts = migrate.Go{
	Name: "1764800001_shop_demo_products",
	Up: func(ctx context.Context, st *store.Store) error {
		products := st.Schema().Lookup("products")
		return st.Tx(ctx, func(tx *store.Tx) error {
			for _, p := range []map[string]any{
				{"id": "mug000000000001", "name": "Mug", "price": 1200, "stock": 10},
				{"id": "book00000000001", "name": "Book", "price": 2500, "stock": 5},
				{"id": "lamp00000000001", "name": "Lamp", "price": 4900, "stock": 3},
			} {
				_, err := tx.FindOne(ctx, products, p["id"].(string), nil)
				if err == nil {
					continue // Up must be idempotent
				}
				if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				r := schema.NewRecord(products)
				if errs := schema.Apply(r, p, true); len(errs) > 0 {
					return errs
				}
				schema.Prepare(r, true, time.Now())
				if err := tx.Insert(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
	},
}

// newApp builds the shop: collections (a Go migration), the stock hook,
// the checkout route and the payment webhook signed with webhookSecret.
func newApp(ctx context.Context, cfg plinth.Config, webhookSecret string, log *slog.Logger) (*plinth.App, error) {
	if webhookSecret == "" {
		return nil, errors.New("the payment webhook needs a secret (SHOP_WEBHOOK_SECRET)")
	}
	cfg.Migrations = append(cfg.Migrations, plinth.CollectionsMigration("1764800000_shop", productsCollection, ordersCollection, paymentEventsCollection), demoProducts)
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := app.StartMigrations(ctx); err != nil {
		app.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}
	s := &shop{app: app, secret: []byte(webhookSecret)}
	app.OnRecordCreate("orders").Before(s.takeStock)
	app.HandleFunc("POST /api/shop/checkout", s.checkout)
	app.HandleFunc("POST /api/shop/webhook", s.webhook)
	return app, nil
}

func main() {
	cfg := plinth.Config{}
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8090", "listen address")
	flag.StringVar(&cfg.DataDir, "dir", "shop_data", "data directory (SQLite database and files)")
	flag.StringVar(&cfg.DatabaseURL, "db", "", "PostgreSQL URL (postgres://...); empty: SQLite in --dir")
	flag.Parse()
	if err := run(cfg, os.Getenv("SHOP_WEBHOOK_SECRET")); err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

func run(cfg plinth.Config, secret string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := newApp(ctx, cfg, secret, slog.Default())
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// shop holds the application's handlers.
type shop struct {
	app    *plinth.App
	secret []byte
}
