package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/examples/internal/e2e"
	"github.com/plinthdev/plinth/internal/testenv"
)

const secret = "whsec_test"

type product struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Price int    `json:"price"`
	Stock int    `json:"stock"`
}

type order struct {
	ID     string `json:"id"`
	Total  int    `json:"total"`
	Status string `json:"status"`
	Lines  []line `json:"lines"`
}

func TestShop(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := newApp(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, DisableRateLimits: true}, secret, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		c := e2e.New(t, srv)
		ann, annTok := c.SignUp("ann@example.com")
		_, benTok := c.SignUp("ben@example.com")
		const mug, book, lamp = "mug000000000001", "book00000000001", "lamp00000000001"
		stock := func(id string) int {
			t.Helper()
			var p product
			c.Call("GET", "/api/collections/products/records/"+id, "", nil, 200, &p)
			return p.Stock
		}
		checkout := func(token, key, lines string) (int, order, http.Header) {
			t.Helper()
			req, _ := http.NewRequest("POST", srv.URL+"/api/shop/checkout", strings.NewReader(`{"lines":`+lines+`}`))
			req.Header.Set("Authorization", token)
			if key != "" {
				req.Header.Set("Idempotency-Key", key)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var o order
			if res.StatusCode == 200 {
				if err := jsonDecode(res, &o); err != nil {
					t.Fatal(err)
				}
			}
			return res.StatusCode, o, res.Header
		}

		var cat e2e.Page[product]
		c.Call("GET", "/api/collections/products/records?sort=price", "", nil, 200, &cat)
		if cat.TotalItems != 3 || cat.Items[0].Name != "Mug" {
			t.Fatalf("catalogue %+v", cat)
		}

		// An order takes its stock and gets its total in one transaction.
		lines := `[{"product":"` + mug + `","quantity":1},{"product":"` + book + `","quantity":1},{"product":"` + mug + `","quantity":1}]`
		status, first, _ := checkout(annTok, "k1", lines)
		if status != 200 || first.Total != 2*1200+2500 || first.Status != "pending" || len(first.Lines) != 2 {
			t.Fatalf("checkout: %d %+v", status, first)
		}
		if stock(mug) != 8 || stock(book) != 4 {
			t.Errorf("stock after the order: mug %d, book %d", stock(mug), stock(book))
		}
		// Idempotency: the same key answers the same order, once.
		status, again, h := checkout(annTok, "k1", lines)
		if status != 200 || again.ID != first.ID || h.Get("Idempotent-Replayed") != "true" || stock(mug) != 8 {
			t.Errorf("retry: %d %+v %v, mug %d", status, again, h, stock(mug))
		}
		if status, _, _ := checkout(annTok, "k1", `[{"product":"`+lamp+`","quantity":1}]`); status != 422 {
			t.Errorf("a key reused for other lines: %d", status)
		}
		if status, _, _ := checkout(annTok, "", lines); status != 400 {
			t.Errorf("no key: %d", status)
		}
		if status, _, _ := checkout("", "k9", lines); status != 401 {
			t.Errorf("guest: %d", status)
		}
		var p e2e.Page[order]
		c.Call("GET", "/api/collections/orders/records", annTok, nil, 200, &p)
		if p.TotalItems != 1 {
			t.Errorf("ann has %d orders", p.TotalItems)
		}
		c.Call("GET", "/api/collections/orders/records/"+first.ID, benTok, nil, 404, nil)

		// Not enough lamps: the whole order is refused and the mug it
		// would have taken stays in stock.
		var refused struct {
			Status int
			Data   map[string]map[string]string
		}
		body := map[string]any{"user": ann, "idempotencyKey": "k2", "lines": []map[string]any{{"product": mug, "quantity": 1}, {"product": lamp, "quantity": 4}}}
		c.Call("POST", "/api/collections/orders/records", annTok, body, 409, &refused)
		if refused.Data["lines"]["code"] != "out_of_stock" || stock(mug) != 8 || stock(lamp) != 3 {
			t.Errorf("refusal %+v; mug %d, lamp %d", refused, stock(mug), stock(lamp))
		}
		// Clients set neither the status nor the total.
		body["lines"] = []map[string]any{{"product": mug, "quantity": 1}}
		body["status"] = "paid"
		c.Call("POST", "/api/collections/orders/records", annTok, body, 400, nil)
		delete(body, "status")
		body["total"] = 1
		c.Call("POST", "/api/collections/orders/records", annTok, body, 400, nil)

		// Eight buyers race for the last three lamps: three get one each.
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		var lampOrders []order
		for i := range 8 {
			wg.Go(func() {
				status, o, _ := checkout(benTok, fmt.Sprint("lamp-", i), `[{"product":"`+lamp+`","quantity":1}]`)
				mu.Lock()
				defer mu.Unlock()
				codes[status]++
				if status == 200 {
					lampOrders = append(lampOrders, o)
				}
			})
		}
		wg.Wait()
		if codes[200] != 3 || codes[409] != 5 || stock(lamp) != 0 {
			t.Fatalf("lamp race: %v, stock %d", codes, stock(lamp))
		}
		// Five retries of one request at once make one order.
		ids := make(chan string, 5)
		for range 5 {
			wg.Go(func() {
				status, o, _ := checkout(benTok, "same", `[{"product":"`+book+`","quantity":1}]`)
				if status != 200 {
					t.Errorf("concurrent retry: %d", status)
				}
				ids <- o.ID
			})
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			seen[id] = true
		}
		if len(seen) != 1 || stock(book) != 3 {
			t.Errorf("concurrent retries made orders %v; book stock %d", seen, stock(book))
		}

		// The payment webhook.
		hook := func(ev paymentEvent, signature string) (int, string) {
			t.Helper()
			data := fmt.Sprintf(`{"id":%q,"type":%q,"order":%q,"amount":%d}`, ev.ID, ev.Type, ev.Order, ev.Amount)
			if signature == "" {
				signature = sign([]byte(secret), []byte(data), time.Now())
			}
			req, _ := http.NewRequest("POST", srv.URL+"/api/shop/webhook", strings.NewReader(data))
			req.Header.Set("Webhook-Signature", signature)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out struct{ Result string }
			jsonDecode(res, &out)
			return res.StatusCode, out.Result
		}
		orderStatus := func(token, id string) string {
			t.Helper()
			var o order
			c.Call("GET", "/api/collections/orders/records/"+id, token, nil, 200, &o)
			return o.Status
		}
		paid := paymentEvent{ID: "evt_1", Type: "payment.succeeded", Order: first.ID, Amount: first.Total}
		if status, _ := hook(paid, "t=1,v1=00"); status != 401 {
			t.Errorf("bad signature: %d", status)
		}
		if status, _ := hook(paid, sign([]byte("wrong"), []byte("{}"), time.Now())); status != 401 {
			t.Errorf("wrong secret: %d", status)
		}
		stale := `{"id":"evt_1","type":"payment.succeeded","order":"` + first.ID + `","amount":4900}`
		if status, _ := hook(paid, sign([]byte(secret), []byte(stale), time.Now().Add(-time.Hour))); status != 401 {
			t.Errorf("an hour-old signature: %d", status)
		}
		if status, _ := hook(paymentEvent{ID: "evt_0", Type: "payment.succeeded", Order: first.ID, Amount: 1}, ""); status != 422 || orderStatus(annTok, first.ID) != "pending" {
			t.Errorf("an underpayment: %d", status)
		}
		if status, res := hook(paid, ""); status != 200 || res != "processed" || orderStatus(annTok, first.ID) != "paid" {
			t.Errorf("payment: %d %s", status, res)
		}
		if status, res := hook(paid, ""); status != 200 || res != "duplicate" {
			t.Errorf("replayed event: %d %s", status, res)
		}
		// A failed payment cancels and restocks.
		failed := paymentEvent{ID: "evt_2", Type: "payment.failed", Order: lampOrders[0].ID}
		if status, res := hook(failed, ""); status != 200 || res != "processed" || orderStatus(benTok, lampOrders[0].ID) != "cancelled" || stock(lamp) != 1 {
			t.Errorf("failed payment: %d %s, lamp stock %d", status, res, stock(lamp))
		}
		if status, res := hook(paymentEvent{ID: "evt_3", Type: "payment.failed", Order: first.ID}, ""); status != 200 || res != "ignored" || orderStatus(annTok, first.ID) != "paid" {
			t.Errorf("a late failure of a paid order: %d %s", status, res)
		}
		if status, _ := hook(paymentEvent{ID: "evt_4", Type: "payment.succeeded", Order: "nope"}, ""); status != 404 {
			t.Errorf("unknown order: %d", status)
		}
	})
}
