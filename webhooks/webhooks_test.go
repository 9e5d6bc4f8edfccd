package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
	"github.com/plinthdev/plinth/totp"
	"github.com/plinthdev/plinth/webhooks"
)

// received is one request the test receiver got.
type received struct {
	id, ts, sig string
	body        []byte
}

// receiver is an HTTP endpoint that fails its first failFirst requests.
type receiver struct {
	*httptest.Server
	failFirst atomic.Int32
	mu        sync.Mutex
	got       []received
	ok        []string // webhook-ids answered 200
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body})
		rc.mu.Unlock()
		if rc.failFirst.Add(-1) >= 0 {
			http.Error(w, strings.Repeat("down ", 1000), http.StatusServiceUnavailable)
			return
		}
		rc.mu.Lock()
		rc.ok = append(rc.ok, r.Header.Get("webhook-id"))
		rc.mu.Unlock()
		w.Write([]byte("ok"))
	}))
	t.Cleanup(rc.Close)
	return rc
}

// delivered lists the distinct webhook-ids answered 200.
func (rc *receiver) delivered() map[string]bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]bool{}
	for _, id := range rc.ok {
		out[id] = true
	}
	return out
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// verify checks a Standard Webhooks signature, written from the spec
// rather than with the package's Sign.
func verify(secret string, r received) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(r.id + "." + r.ts + "." + string(r.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(r.sig) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

type env struct {
	st  *store.Store
	q   *jobs.Queue
	svc *webhooks.Service
	c   *schema.Collection
}

func setup(t *testing.T, b testenv.Backend, allowPrivate bool, schedule ...time.Duration) *env {
	t.Helper()
	if len(schedule) == 0 {
		schedule = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond}
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Dir: b.Dir, URL: b.URL})
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(jobs.Config{Store: st, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, totp.KeySize)
	rand.Read(key)
	sealer, err := totp.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := webhooks.New(ctx, webhooks.Config{Store: st, Queue: q, AllowPrivateNetworks: func() bool { return allowPrivate },
		Schedule: schedule, Timeout: 5 * time.Second, Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		q.Stop(sctx)
		st.Close()
	})
	var def schema.Collection
	if err := json.Unmarshal([]byte(`{"name": "posts", "type": "base", "fields": [{"name": "title", "type": "text"}, {"name": "note", "type": "text", "hidden": true}]}`), &def); err != nil {
		t.Fatal(err)
	}
	c, err := st.SaveCollection(ctx, &def)
	if err != nil {
		t.Fatal(err)
	}
	return &env{st, q, svc, c}
}

func (e *env) insert(t *testing.T, title string, fail bool) error {
	t.Helper()
	rollback := errors.New("roll back")
	err := e.st.Tx(context.Background(), func(tx *store.Tx) error {
		r := schema.NewRecord(e.c)
		r.Set("title", title)
		r.Set("note", "secret note")
		schema.Prepare(r, true, time.Now())
		if err := tx.Insert(context.Background(), r); err != nil {
			return err
		}
		if fail {
			return rollback
		}
		return nil
	})
	if errors.Is(err, rollback) {
		return nil
	}
	return err
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func ptr[T any](v T) *T { return &v }

func TestDelivery(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		e := setup(t, b, true)
		rc := newReceiver(t)
		rc.failFirst.Store(1)
		h, err := e.svc.Create(ctx, webhooks.Input{URL: ptr(rc.URL), Collections: ptr([]string{"posts"}), Events: ptr([]string{"create"}), Filter: ptr(`title != "skip"`)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Secret, "whsec_") {
			t.Fatalf("secret %q", h.Secret)
		}
		if got, _ := e.svc.Get(ctx, h.ID); got.Secret != "" {
			t.Error("the secret is shown after creation")
		}
		// Stored sealed: a copy of the database cannot sign deliveries.
		var stored string
		if err := e.st.ReadDB().QueryRowContext(ctx, e.st.Rebind(`SELECT secret FROM _webhooks WHERE id = ?`), h.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, "sealed:") || strings.Contains(stored, strings.TrimPrefix(h.Secret, "whsec_")) {
			t.Errorf("the secret is stored as %q", stored)
		}
		// A change that rolls back sends nothing; one the filter refuses
		// neither.
		if err := e.insert(t, "rolled back", true); err != nil {
			t.Fatal(err)
		}
		if err := e.insert(t, "skip", false); err != nil {
			t.Fatal(err)
		}
		if err := e.insert(t, "hello", false); err != nil {
			t.Fatal(err)
		}
		// The first attempt fails (503), the retry succeeds.
		eventually(t, "two attempts", func() bool { return len(rc.requests()) >= 2 })
		reqs := rc.requests()
		if reqs[0].id != reqs[1].id || !strings.HasPrefix(reqs[0].id, "msg_") {
			t.Errorf("webhook-id changed across retries: %q, %q", reqs[0].id, reqs[1].id)
		}
		for _, r := range reqs {
			if !verify(h.Secret, r) {
				t.Errorf("signature %q does not verify", r.sig)
			}
			var body struct {
				Type string `json:"type"`
				Data struct {
					Collection string         `json:"collection"`
					Record     map[string]any `json:"record"`
				} `json:"data"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Type != "record.created" || body.Data.Collection != "posts" || body.Data.Record["title"] != "hello" {
				t.Errorf("body %s", r.body)
			}
			if _, ok := body.Data.Record["note"]; ok {
				t.Error("a hidden field was sent")
			}
		}
		var ds []*webhooks.Delivery
		eventually(t, "the delivery to be recorded", func() bool {
			ds, err = e.svc.Deliveries(ctx, h.ID, webhooks.DeliveryParams{})
			return err == nil && len(ds) == 1 && ds[0].Status == "delivered"
		})
		if d := ds[0]; d.Attempts != 2 || d.LastStatus != 200 || d.LastResponse != "ok" {
			t.Errorf("delivery %+v", d)
		}
		time.Sleep(200 * time.Millisecond)
		if n := len(rc.requests()); n != 2 {
			t.Errorf("the receiver got %d requests, want 2", n)
		}
		// A retry from the API sends the same message again.
		if _, err := e.svc.RetryDelivery(ctx, h.ID, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the resent delivery", func() bool { return len(rc.requests()) == 3 })
		if r := rc.requests()[2]; r.id != ds[0].ID || !verify(h.Secret, r) {
			t.Errorf("resent %q", r.id)
		}
		// A receiver that keeps failing gets its webhook disabled; the
		// excerpt of its answer is truncated.
		rc.failFirst.Store(100)
		if err := e.insert(t, "doomed", false); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the webhook to be disabled", func() bool {
			got, err := e.svc.Get(ctx, h.ID)
			return err == nil && !got.Active && got.DisabledReason != ""
		})
		ds, _ = e.svc.Deliveries(ctx, h.ID, webhooks.DeliveryParams{Status: "failed"})
		if len(ds) != 1 || ds[0].Attempts != 3 || ds[0].LastStatus != 503 || len(ds[0].LastResponse) > 1024 {
			t.Errorf("failed delivery %+v", ds)
		}
		// Bad input is a validation error.
		for _, in := range []webhooks.Input{
			{URL: ptr("ftp://x"), Collections: ptr([]string{"posts"})},
			{URL: ptr(rc.URL), Collections: ptr([]string{"nope"})},
			{URL: ptr(rc.URL), Collections: ptr([]string{"posts"}), Events: ptr([]string{"read"})},
			{URL: ptr(rc.URL), Collections: ptr([]string{"posts"}), Filter: ptr("nofield = 1")},
			{URL: ptr(rc.URL), Collections: ptr([]string{"*"}), Filter: ptr("title = ")},
			{URL: ptr(rc.URL), Collections: ptr([]string{"posts"}), Secret: ptr("plain")},
		} {
			var ve schema.Errors
			if _, err := e.svc.Create(ctx, in); !errors.As(err, &ve) {
				t.Errorf("%+v: %v", in, err)
			}
		}
	})
}

func TestSSRF(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		e := setup(t, b, false)
		rc := newReceiver(t)
		h, err := e.svc.Create(ctx, webhooks.Input{URL: ptr(rc.URL), Collections: ptr([]string{"*"})})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.insert(t, "hello", false); err != nil {
			t.Fatal(err)
		}
		var ds []*webhooks.Delivery
		eventually(t, "the refused delivery", func() bool {
			ds, err = e.svc.Deliveries(ctx, h.ID, webhooks.DeliveryParams{})
			return err == nil && len(ds) == 1 && ds[0].Status == "failed"
		})
		if !strings.Contains(ds[0].LastError, "private") || ds[0].Attempts != 1 {
			t.Errorf("delivery %+v", ds[0])
		}
		if n := len(rc.requests()); n != 0 {
			t.Errorf("the loopback receiver got %d requests", n)
		}
	})
}

// TestReceiverDownThenBack: events that happen while the receiver is down
// all reach it once it returns (the schedule scaled down from hours to
// tenths of a second).
func TestReceiverDownThenBack(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		// Eight attempts as in production, 100 ms apart instead of hours.
		e := setup(t, b, true, 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond,
			100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond)
		rc := newReceiver(t)
		rc.failFirst.Store(1 << 30) // down
		if _, err := e.svc.Create(ctx, webhooks.Input{URL: ptr(rc.URL), Collections: ptr([]string{"posts"})}); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if err := e.insert(t, "while down "+strconv.Itoa(i), false); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "failed attempts", func() bool { return len(rc.requests()) >= 20 })
		time.Sleep(150 * time.Millisecond) // a retry round while still down
		rc.failFirst.Store(0)              // back
		eventually(t, "every event after the receiver returned", func() bool {
			ok := map[string]bool{}
			for _, r := range rc.requests() {
				ok[r.id] = true
			}
			return len(ok) == 20 && len(rc.delivered()) == 20
		})
	})
}
