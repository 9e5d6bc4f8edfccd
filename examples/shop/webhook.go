package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

// signatureTolerance is how old a signed webhook may be: older ones are
// refused, so a captured request cannot be replayed later.
const signatureTolerance = 5 * time.Minute

// paymentEvent is what the payment provider posts.
type paymentEvent struct {
	ID     string `json:"id"`
	Type   string `json:"type"` // payment.succeeded or payment.failed
	Order  string `json:"order"`
	Amount int    `json:"amount"` // cents
}

// sign returns the signature header of body at time t, in the provider's
// format "t=UNIX,v1=HEX(HMAC-SHA256(secret, "UNIX." + body))".
func sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// verify checks a signature header against body, in constant time.
func verify(secret, body []byte, header string, now time.Time) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	if d := now.Sub(time.Unix(unix, 0)); d > signatureTolerance || d < -signatureTolerance {
		return false
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), want)
}

// webhook is POST /api/shop/webhook, called by the payment provider. A
// valid signature is the only credential. Each event is processed once:
// its id is stored with its effect in one transaction, so a retried
// delivery answers 200 without doing anything again.
func (s *shop) webhook(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return &plinth.APIError{Status: http.StatusBadRequest, Message: "Unreadable body."}
	}
	if !verify(s.secret, body, r.Header.Get("Webhook-Signature"), time.Now()) {
		return &plinth.APIError{Status: http.StatusUnauthorized, Message: "Invalid webhook signature."}
	}
	var ev paymentEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || len(ev.ID) > 100 {
		return &plinth.APIError{Status: http.StatusBadRequest, Message: "Invalid event."}
	}
	if ev.Type != "payment.succeeded" && ev.Type != "payment.failed" {
		return answer(w, "ignored") // other event types are not ours to handle
	}
	ctx := r.Context()
	schemaNow := s.app.Store().Schema()
	events, orders, products := schemaNow.Lookup("payment_events"), schemaNow.Lookup("orders"), schemaNow.Lookup("products")
	sys := record.SystemCaller()
	result := "processed"
	err = s.app.Store().Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.FindFirst(ctx, events, map[string]any{"eventId": ev.ID}); err == nil {
			result = "duplicate"
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		order, err := tx.FindOne(ctx, orders, ev.Order, nil)
		if errors.Is(err, store.ErrNotFound) {
			return &plinth.APIError{Status: http.StatusNotFound, Message: "No such order."}
		}
		if err != nil {
			return err
		}
		if _, err := s.app.Records().Create(ctx, tx, sys, events,
			map[string]any{"eventId": ev.ID, "type": ev.Type, "order": order.ID(), "amount": ev.Amount}); err != nil {
			return err
		}
		if order.GetString("status") != "pending" {
			result = "ignored" // already paid or cancelled
			return nil
		}
		switch total, _ := order.Get("total").(float64); {
		case ev.Type == "payment.succeeded" && ev.Amount != int(total):
			return &plinth.APIError{Status: http.StatusUnprocessableEntity, Message: "The amount paid is not the order's total."}
		case ev.Type == "payment.succeeded":
			_, err = s.app.Records().Update(ctx, tx, sys, orders, order.ID(), map[string]any{"status": "paid"})
			return err
		}
		// A failed payment cancels the order and puts its items back.
		lines, err := parseLines(order.Get("lines"))
		if err != nil {
			return err
		}
		for _, l := range lines {
			if _, err := adjustStock(ctx, tx, products, l.Product, l.Quantity); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		_, err = s.app.Records().Update(ctx, tx, sys, orders, order.ID(), map[string]any{"status": "cancelled"})
		return err
	})
	if err != nil {
		// Two deliveries of one event at once: the unique index let one
		// through, and the other is a duplicate.
		if _, ferr := s.app.Store().FindFirst(ctx, events, map[string]any{"eventId": ev.ID}); ferr == nil {
			return answer(w, "duplicate")
		}
		return err
	}
	return answer(w, result)
}

func answer(w http.ResponseWriter, result string) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]string{"result": result})
}
