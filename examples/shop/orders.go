package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// line is one line of an order.
type line struct {
	Product  string `json:"product"`
	Quantity int    `json:"quantity"`
}

// maxLines bounds an order's lines.
const maxLines = 20

// invalidLines refuses an order whose lines are malformed.
func invalidLines(msg string) error {
	return &plinth.HookError{Status: http.StatusBadRequest, Message: "Invalid order lines.",
		Data: map[string]any{"lines": map[string]string{"code": "invalid_lines", "message": msg}}}
}

// parseLines reads an order's lines (the json field's value, or a
// request's) and merges lines of the same product, in first-seen order.
func parseLines(v any) ([]line, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, invalidLines("Lines must be a list.")
	}
	if s, ok := v.(string); ok { // a json field may hold its text
		raw = []byte(s)
	}
	var in []line
	if err := json.Unmarshal(raw, &in); err != nil || len(in) == 0 || len(in) > maxLines {
		return nil, invalidLines(fmt.Sprintf("Give 1 to %d lines of {product, quantity}.", maxLines))
	}
	var out []line
	at := map[string]int{}
	for _, l := range in {
		if !schema.ValidID(l.Product) || l.Quantity < 1 || l.Quantity > 1000 {
			return nil, invalidLines("Each line needs a product id and a quantity from 1 to 1000.")
		}
		if i, ok := at[l.Product]; ok {
			out[i].Quantity += l.Quantity
			continue
		}
		at[l.Product] = len(out)
		out = append(out, l)
	}
	return out, nil
}

// takeStock is the Before hook of order creation. It runs inside the
// order's transaction: it takes every line's quantity from its product's
// stock and sets the total from the current prices and the status. If one
// line cannot be served, the refusal rolls back the stock already taken
// for the others, with the order itself.
func (s *shop) takeStock(e *plinth.RecordEvent) error {
	lines, err := parseLines(e.Record.Get("lines"))
	if err != nil {
		return err
	}
	products := e.Tx.Schema().Lookup("products")
	total := 0
	for _, l := range lines {
		p, err := adjustStock(e.Context, e.Tx, products, l.Product, -l.Quantity)
		if errors.Is(err, errOutOfStock) {
			return &plinth.HookError{Status: http.StatusConflict, Message: "Not enough stock.",
				Data: map[string]any{"lines": map[string]string{"code": "out_of_stock", "message": "Not enough " + p.GetString("name") + " in stock."}}}
		}
		if errors.Is(err, store.ErrNotFound) {
			return invalidLines("No product " + l.Product + ".")
		}
		if err != nil {
			return err
		}
		price, _ := p.Get("price").(float64)
		total += int(price) * l.Quantity
	}
	merged, err := json.Marshal(lines)
	if err != nil {
		return err
	}
	e.Record.Set("lines", json.RawMessage(merged))
	e.Record.Set("total", float64(total))
	e.Record.Set("status", "pending")
	return nil
}

var errOutOfStock = errors.New("out of stock")

// adjustStock adds delta to a product's stock in tx, refusing to go below
// zero, and returns the product. The compare-and-set (UpdateIf) makes it
// safe under concurrent orders: on PostgreSQL a conflicting transaction
// that committed first makes it read again (READ COMMITTED sees the new
// value); SQLite serialises writers, so it never conflicts.
func adjustStock(ctx context.Context, tx *store.Tx, products *schema.Collection, id string, delta int) (*schema.Record, error) {
	for range 50 {
		p, err := tx.FindOne(ctx, products, id, nil)
		if err != nil {
			return nil, err
		}
		stock, _ := p.Get("stock").(float64)
		if int(stock)+delta < 0 {
			return p, errOutOfStock
		}
		p.Set("stock", stock+float64(delta))
		err = tx.UpdateIf(ctx, p, "stock", stock)
		if !errors.Is(err, store.ErrConflict) {
			return p, err
		}
	}
	return nil, errors.New("stock: too many concurrent changes")
}

// checkout is POST /api/shop/checkout: {"lines": [...]} with an
// Idempotency-Key header. It creates the order as the caller (so the
// orders rules and the stock hook apply), once per key: a retry with the
// same key and lines answers the first order again (Idempotent-Replayed:
// true), with other lines a 422.
func (s *shop) checkout(w http.ResponseWriter, r *http.Request) error {
	user := plinth.AuthRecord(r)
	if user == nil || user.Collection.Name != "users" {
		return &plinth.APIError{Status: http.StatusUnauthorized, Message: "Sign in to order."}
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 100 {
		return &plinth.APIError{Status: http.StatusBadRequest, Message: "Send an Idempotency-Key header (up to 100 characters)."}
	}
	var body struct {
		Lines any `json:"lines"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
		return &plinth.APIError{Status: http.StatusBadRequest, Message: "Invalid JSON body."}
	}
	lines, err := parseLines(body.Lines)
	if err != nil {
		return err
	}
	ctx := r.Context()
	orders := s.app.Store().Schema().Lookup("orders")
	if order, err := s.replay(ctx, orders, user.ID(), key, lines, w); order || err != nil {
		return err
	}
	var created *schema.Record
	err = s.app.Store().Tx(ctx, func(tx *store.Tx) error {
		created, err = s.app.Records().Create(ctx, tx, s.app.Caller(r), orders,
			map[string]any{"user": user.ID(), "lines": lines, "idempotencyKey": key})
		return err
	})
	if err != nil {
		// The same key sent twice at once: the unique index let one
		// through; the other answers with its order.
		if order, rerr := s.replay(ctx, orders, user.ID(), key, lines, w); order || rerr != nil {
			return rerr
		}
		return err
	}
	return writeRecord(w, http.StatusOK, created)
}

// replay answers with the order of user made with key, if there is one.
func (s *shop) replay(ctx context.Context, orders *schema.Collection, user, key string, lines []line, w http.ResponseWriter) (bool, error) {
	prev, err := s.app.Store().FindFirst(ctx, orders, map[string]any{"user": user, "idempotencyKey": key})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	stored, err := parseLines(prev.Get("lines"))
	if err != nil || !reflect.DeepEqual(stored, lines) {
		return true, &plinth.APIError{Status: http.StatusUnprocessableEntity, Message: "This Idempotency-Key was used for another order."}
	}
	w.Header().Set("Idempotent-Replayed", "true")
	return true, writeRecord(w, http.StatusOK, prev)
}

func writeRecord(w http.ResponseWriter, status int, r *schema.Record) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(r)
}
