package webhooks

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// DefaultSchedule is the pause after each failed attempt: 8 attempts over
// 27 h 35 min, after which the delivery fails and its webhook is disabled.
func DefaultSchedule() []time.Duration {
	return []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
}

// Config configures the service.
type Config struct {
	Store *store.Store
	Queue *jobs.Queue
	Log   *slog.Logger
	// AllowPrivateNetworks reports the setting webhooks.allowPrivateNetworks
	// at the moment of each connection (nil: false).
	AllowPrivateNetworks func() bool
	// Timeout bounds one delivery attempt (default 15 s).
	Timeout time.Duration
	// Schedule overrides DefaultSchedule (tests).
	Schedule []time.Duration
	// Refresh is how often the list of webhooks is reloaded, for changes
	// made by other instances (default 5 s).
	Refresh time.Duration
	// Sealer encrypts the signing secrets at rest (nil: stored as given).
	// A copy of the database alone then cannot forge deliveries.
	Sealer Sealer
}

// Sealer encrypts and authenticates a value bound to additional data
// (totp.Sealer, with the instance's encryption key).
type Sealer interface {
	Seal(plaintext, additionalData []byte) (string, error)
	Open(sealed string, additionalData []byte) ([]byte, error)
}

// sealedPrefix marks a sealed secret; secrets stored before sealing (or
// without a sealer) are read as they are.
const sealedPrefix = "sealed:"

func secretAAD(id string) []byte { return []byte("webhooks/" + id + "/secret") }

// sealSecret is the stored form of webhook id's secret.
func (s *Service) sealSecret(id, secret string) (string, error) {
	if s.sealer == nil {
		return secret, nil
	}
	sealed, err := s.sealer.Seal([]byte(secret), secretAAD(id))
	if err != nil {
		return "", fmt.Errorf("seal webhook secret: %w", err)
	}
	return sealedPrefix + sealed, nil
}

// openSecret reads a stored secret back.
func (s *Service) openSecret(id, stored string) (string, error) {
	rest, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	if s.sealer == nil {
		return "", fmt.Errorf("webhook %s: its secret is sealed and no encryption key is configured", id)
	}
	plain, err := s.sealer.Open(rest, secretAAD(id))
	if err != nil {
		return "", fmt.Errorf("webhook %s: open its secret (is the encryption key the one it was sealed with?): %w", id, err)
	}
	return string(plain), nil
}

// Webhook is an endpoint told of record changes.
type Webhook struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
	// Collections are names (or ids), or "*" for every non-system one.
	Collections []string `json:"collections"`
	// Events are among "create", "update", "delete".
	Events []string `json:"events"`
	// Filter is a rule expression the record must match ("" for all).
	Filter string `json:"filter"`
	// Secret signs deliveries; the API shows it only when it is set.
	Secret         string `json:"secret,omitempty"`
	Active         bool   `json:"active"`
	DisabledReason string `json:"disabledReason"`
	Created        string `json:"created"`
	Updated        string `json:"updated"`
	// secretErr is why the stored secret could not be opened.
	secretErr error
}

// Input is a webhook create or update; absent fields keep their values
// (create: collections and url required, events default to all three,
// a secret is generated, active defaults to true).
type Input struct {
	Name        *string   `json:"name"`
	URL         *string   `json:"url"`
	Collections *[]string `json:"collections"`
	Events      *[]string `json:"events"`
	Filter      *string   `json:"filter"`
	Secret      *string   `json:"secret"`
	Active      *bool     `json:"active"`
}

// Delivery is one event sent (or being sent) to a webhook.
type Delivery struct {
	// ID is the webhook-id header, the same on every attempt.
	ID      string          `json:"id"`
	Webhook string          `json:"webhook"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
	// Status is pending, retrying, delivered, failed or cancelled.
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	// LastStatus is the HTTP status of the last attempt (0: no response).
	LastStatus int `json:"lastStatus"`
	// LastResponse is the start of the last response body.
	LastResponse string `json:"lastResponse"`
	LastError    string `json:"lastError"`
	NextAttempt  string `json:"nextAttempt"`
	Created      string `json:"created"`
	Updated      string `json:"updated"`
}

// ErrNotFound reports an unknown webhook or delivery.
var ErrNotFound = store.ErrNotFound

// excerptMax is how much of a response body a delivery keeps.
const excerptMax = 1024

// Service manages webhooks and delivers their events.
type Service struct {
	st       *store.Store
	q        *jobs.Queue
	log      *slog.Logger
	client   *http.Client
	sealer   Sealer
	schedule []time.Duration
	refresh  time.Duration
	// active is the cached list of active webhooks the commit hook reads.
	active atomic.Pointer[[]*Webhook]
	stop   context.CancelFunc
	done   chan struct{}
}

// deliveryArgs is the job of one delivery.
type deliveryArgs struct {
	Delivery string          `json:"delivery"`
	Webhook  string          `json:"webhook"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
}

func (deliveryArgs) Kind() string { return "plinth.webhook" }

// New builds the service: it registers its job kind with the queue and its
// capture of record changes with the store. Call Start to keep its list of
// webhooks fresh.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.AllowPrivateNetworks == nil {
		cfg.AllowPrivateNetworks = func() bool { return false }
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if len(cfg.Schedule) == 0 {
		cfg.Schedule = DefaultSchedule()
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 5 * time.Second
	}
	s := &Service{st: cfg.Store, q: cfg.Queue, log: cfg.Log, client: newClient(cfg.Timeout, cfg.AllowPrivateNetworks),
		schedule: cfg.Schedule, refresh: cfg.Refresh, sealer: cfg.Sealer}
	jobs.Register(s.q, s.deliver, jobs.WorkerOpts{
		Timeout: cfg.Timeout + 5*time.Second,
		Retry: func(attempt int) time.Duration {
			return s.schedule[min(attempt, len(s.schedule))-1]
		},
	})
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	s.st.OnBeforeCommit(s.capture)
	return s, nil
}

// Start reloads the webhook list every Refresh until Close; starting it
// twice does nothing.
func (s *Service) Start(ctx context.Context) {
	if s.stop != nil {
		return
	}
	ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.refresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.reload(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("webhooks: reload", "err", err)
				}
			}
		}
	}()
}

// Close stops the reloads.
func (s *Service) Close() {
	if s.stop != nil {
		s.stop()
		<-s.done
		s.stop = nil
	}
}

func (s *Service) maxAttempts() int { return len(s.schedule) + 1 }

const webhookCols = `id, name, url, collections, events, filter, secret, active, disabledReason, created, updated`

func (s *Service) scanWebhook(sc interface{ Scan(...any) error }) (*Webhook, error) {
	h := &Webhook{}
	var cols, events string
	if err := sc.Scan(&h.ID, &h.Name, &h.URL, &cols, &events, &h.Filter, &h.Secret, &h.Active, &h.DisabledReason, &h.Created, &h.Updated); err != nil {
		return nil, err
	}
	// A secret that cannot be opened (the encryption key changed) fails
	// that webhook's deliveries, with the reason, not every webhook.
	var err error
	if h.Secret, err = s.openSecret(h.ID, h.Secret); err != nil {
		h.secretErr = err
	}
	if err := json.Unmarshal([]byte(cols), &h.Collections); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &h.Events); err != nil {
		return nil, err
	}
	return h, nil
}

func (s *Service) reload(ctx context.Context) error {
	list, err := s.list(ctx, true)
	if err != nil {
		return fmt.Errorf("load webhooks: %w", err)
	}
	s.active.Store(&list)
	return nil
}

func (s *Service) list(ctx context.Context, activeOnly bool) ([]*Webhook, error) {
	q := `SELECT ` + webhookCols + ` FROM _webhooks`
	if activeOnly {
		q += ` WHERE active`
	}
	rs, err := s.st.ReadDB().QueryContext(ctx, q+` ORDER BY created, id`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []*Webhook{}
	for rs.Next() {
		h, err := s.scanWebhook(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rs.Err()
}

// List returns every webhook, secrets blanked.
func (s *Service) List(ctx context.Context) ([]*Webhook, error) {
	list, err := s.list(ctx, false)
	for _, h := range list {
		h.Secret = ""
	}
	return list, err
}

// Get returns a webhook, its secret blanked.
func (s *Service) Get(ctx context.Context, id string) (*Webhook, error) {
	h, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	h.Secret = ""
	return h, nil
}

func (s *Service) get(ctx context.Context, id string) (*Webhook, error) {
	h, err := s.scanWebhook(s.st.JobsDB().QueryRowContext(ctx, s.st.Rebind(`SELECT `+webhookCols+` FROM _webhooks WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return h, err
}

// Create adds a webhook; the result shows its secret, this once.
func (s *Service) Create(ctx context.Context, in Input) (*Webhook, error) {
	now := schema.FormatDate(time.Now())
	h := &Webhook{ID: schema.NewID(), Events: []string{store.ActionCreate, store.ActionUpdate, store.ActionDelete}, Active: true, Created: now, Updated: now}
	if in.Secret == nil || *in.Secret == "" {
		sec := newSecret()
		in.Secret = &sec
	}
	if err := s.apply(h, in, true); err != nil {
		return nil, err
	}
	cols, _ := json.Marshal(h.Collections)
	events, _ := json.Marshal(h.Events)
	secret, err := s.sealSecret(h.ID, h.Secret)
	if err != nil {
		return nil, err
	}
	_, err = s.st.JobsDB().ExecContext(ctx, s.st.Rebind(`INSERT INTO _webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		h.ID, h.Name, h.URL, string(cols), string(events), h.Filter, secret, h.Active, h.DisabledReason, h.Created, h.Updated)
	if err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return h, s.reload(ctx)
}

// Update changes a webhook; the result shows the secret only when the
// input set it. Activating a disabled webhook clears its reason.
func (s *Service) Update(ctx context.Context, id string, in Input) (*Webhook, error) {
	h, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.apply(h, in, false); err != nil {
		return nil, err
	}
	if h.Active {
		h.DisabledReason = ""
	}
	h.Updated = schema.FormatDate(time.Now())
	cols, _ := json.Marshal(h.Collections)
	events, _ := json.Marshal(h.Events)
	// Sealed anew on every update, which also seals a secret stored before
	// sealing existed.
	secret, err := s.sealSecret(h.ID, h.Secret)
	if err != nil {
		return nil, err
	}
	_, err = s.st.JobsDB().ExecContext(ctx, s.st.Rebind(`UPDATE _webhooks SET name = ?, url = ?, collections = ?, events = ?, filter = ?, secret = ?, active = ?, disabledReason = ?, updated = ? WHERE id = ?`),
		h.Name, h.URL, string(cols), string(events), h.Filter, secret, h.Active, h.DisabledReason, h.Updated, h.ID)
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	if in.Secret == nil {
		h.Secret = ""
	}
	return h, s.reload(ctx)
}

// Delete removes a webhook and its deliveries; deliveries still queued
// are cancelled when they come up.
func (s *Service) Delete(ctx context.Context, id string) error {
	// One transaction: a webhook never goes without its deliveries, nor
	// the reverse.
	tx, err := s.st.JobsDB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.st.Rebind(`DELETE FROM _webhooks WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, s.st.Rebind(`DELETE FROM _webhookDeliveries WHERE webhook = ?`), id); err != nil {
		return fmt.Errorf("delete webhook deliveries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return s.reload(ctx)
}

// apply validates in onto h.
func (s *Service) apply(h *Webhook, in Input, create bool) error {
	errs := schema.Errors{}
	if in.Name != nil {
		h.Name = strings.TrimSpace(*in.Name)
	}
	if in.URL != nil {
		h.URL = strings.TrimSpace(*in.URL)
	}
	if in.Collections != nil {
		h.Collections = *in.Collections
	}
	if in.Events != nil {
		h.Events = *in.Events
	}
	if in.Filter != nil {
		h.Filter = strings.TrimSpace(*in.Filter)
	}
	if in.Secret != nil {
		h.Secret = *in.Secret
	}
	if in.Active != nil {
		h.Active = *in.Active
	}
	if h.Name == "" && create {
		h.Name = h.URL
	}
	if len(h.Name) > 200 {
		errs.Add("name", schema.NewFieldError("validation_length_out_of_range", "Must be at most 200 characters."))
	}
	if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		errs.Add("url", schema.NewFieldError("validation_invalid_url", "Must be an http or https URL without credentials."))
	}
	snap := s.st.Schema()
	if len(h.Collections) == 0 {
		errs.Add("collections", schema.ErrRequired())
	}
	for _, c := range h.Collections {
		if c != "*" && snap.Lookup(c) == nil {
			errs.Add("collections", schema.NewFieldError("validation_missing_collection", fmt.Sprintf("Unknown collection %q.", c)))
			break
		}
	}
	if len(h.Events) == 0 {
		errs.Add("events", schema.ErrRequired())
	}
	for _, e := range h.Events {
		if e != store.ActionCreate && e != store.ActionUpdate && e != store.ActionDelete {
			errs.Add("events", schema.NewFieldError("validation_invalid_value", `Events are "create", "update" and "delete".`))
			break
		}
	}
	if h.Filter != "" {
		// For "*" the filter meets each collection only when an event
		// comes (one naming fields another lacks is skipped there, with a
		// warning), so here it must at least be a well-formed expression.
		if slices.Contains(h.Collections, "*") {
			if _, err := filter.Parse(h.Filter); err != nil {
				errs.Add("filter", schema.NewFieldError("validation_invalid_filter", "Invalid filter: "+err.Error()))
			}
		}
		for _, name := range h.Collections {
			if c := snap.Lookup(name); c != nil {
				if err := filter.Check(h.Filter, c, snap.Lookup, true); err != nil {
					errs.Add("filter", schema.NewFieldError("validation_invalid_filter", "Invalid filter for "+c.Name+": "+err.Error()))
					break
				}
			}
		}
	}
	if _, err := secretKey(h.Secret); err != nil {
		errs.Add("secret", schema.NewFieldError("validation_invalid_secret", err.Error()))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// wants reports whether h listens to action on c.
func (h *Webhook) wants(c *schema.Collection, action string) bool {
	if !slices.Contains(h.Events, action) {
		return false
	}
	for _, name := range h.Collections {
		if name == "*" && !c.System || name == c.ID || strings.EqualFold(name, c.Name) {
			return true
		}
	}
	return false
}

// eventType names an action as the payload's type.
func eventType(action string) string {
	switch action {
	case store.ActionCreate:
		return "record.created"
	case store.ActionUpdate:
		return "record.updated"
	}
	return "record.deleted"
}

// capture runs inside every record transaction before it commits: for
// each change some active webhook wants, it enqueues a delivery in the
// transaction (an outbox row), so the event exists iff the change commits.
// Without webhooks for a collection it costs nothing.
func (s *Service) capture(ctx context.Context, tx *store.Tx, changes []store.Change) error {
	hooks := s.active.Load()
	if hooks == nil || len(*hooks) == 0 {
		return nil
	}
	for _, ch := range changes {
		var payload []byte
		for _, h := range *hooks {
			if !h.wants(ch.Record.Collection, ch.Action) {
				continue
			}
			if h.Filter != "" {
				ok, err := s.st.MatchesRecord(ctx, ch.Record, &filter.RequestInfo{Context: "webhook"}, h.Filter)
				if err != nil {
					// A filter the schema no longer supports must not
					// block record writes; the event is not sent.
					s.log.Warn("webhooks: filter failed, event not sent", "webhook", h.ID, "err", err)
					continue
				}
				if !ok {
					continue
				}
			}
			if payload == nil {
				var err error
				if payload, err = eventPayload(ch); err != nil {
					return fmt.Errorf("webhook payload: %w", err)
				}
			}
			args := deliveryArgs{Delivery: "msg_" + schema.RandomString(24, "abcdefghijklmnopqrstuvwxyz0123456789"), Webhook: h.ID, Type: eventType(ch.Action), Payload: payload}
			if err := s.q.EnqueueTx(ctx, tx, args, &jobs.Opts{MaxAttempts: s.maxAttempts()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// eventPayload is the body of a delivery: the record as the API shows it
// to a superuser, hidden fields left out.
func eventPayload(ch store.Change) ([]byte, error) {
	data := map[string]any{"collection": ch.Record.Collection.Name, "record": ch.Record}
	if ch.Original != nil {
		data["oldRecord"] = ch.Original
	}
	return json.Marshal(map[string]any{
		"type":      eventType(ch.Action),
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"data":      data,
	})
}

// deliver is one attempt of a delivery.
func (s *Service) deliver(ctx context.Context, j *jobs.Job[deliveryArgs]) error {
	a := j.Args
	d := &Delivery{ID: a.Delivery, Webhook: a.Webhook, Type: a.Type, Payload: a.Payload, Attempts: j.Attempt}
	h, err := s.get(ctx, a.Webhook)
	switch {
	case errors.Is(err, ErrNotFound):
		return jobs.Cancel(errors.New("the webhook was deleted"))
	case err != nil:
		return err
	case !h.Active:
		d.Status, d.LastError = "cancelled", "the webhook is disabled"
		if h.DisabledReason != "" {
			d.LastError += ": " + h.DisabledReason
		}
		if err := s.saveDelivery(ctx, d); err != nil {
			return err
		}
		return jobs.Cancel(errors.New(d.LastError))
	}
	sendErr := s.send(ctx, h, d)
	final := false
	switch {
	case sendErr == nil:
		d.Status = "delivered"
	case errors.Is(sendErr, ErrPrivateTarget):
		// Retrying cannot help until the setting changes; a retry from
		// the API sends it again.
		d.Status, final = "failed", true
	case j.Attempt >= j.MaxAttempts:
		d.Status, final = "failed", true
	default:
		d.Status = "retrying"
		d.NextAttempt = schema.FormatDate(time.Now().Add(s.schedule[min(j.Attempt, len(s.schedule))-1]))
	}
	if sendErr != nil {
		d.LastError = sendErr.Error()
	}
	if err := s.saveDelivery(ctx, d); err != nil {
		return err
	}
	if sendErr == nil {
		return nil
	}
	if final {
		if !errors.Is(sendErr, ErrPrivateTarget) {
			s.disable(ctx, h.ID, fmt.Sprintf("delivery %s failed %d times over %s; last error: %s", d.ID, j.Attempt, time.Since(j.CreatedAt).Round(time.Second), d.LastError))
		}
		return jobs.Cancel(sendErr)
	}
	return sendErr
}

// send makes one HTTP attempt and notes its response in d.
func (s *Service) send(ctx context.Context, h *Webhook, d *Delivery) error {
	if h.secretErr != nil {
		return h.secretErr
	}
	ts := time.Now().Unix()
	sig, err := Sign(h.Secret, d.ID, ts, d.Payload)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Plinth-Webhooks")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is on the webhook already
		}
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, excerptMax))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	d.LastStatus, d.LastResponse = resp.StatusCode, strings.ToValidUTF8(string(body), "")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the endpoint answered %d", resp.StatusCode)
	}
	return nil
}

func (s *Service) saveDelivery(ctx context.Context, d *Delivery) error {
	now := schema.FormatDate(time.Now())
	q := s.st.Rebind(`INSERT INTO _webhookDeliveries (id, webhook, type, payload, status, attempts, lastStatus, lastResponse, lastError, nextAttempt, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, lastStatus = excluded.lastStatus,
			lastResponse = excluded.lastResponse, lastError = excluded.lastError, nextAttempt = excluded.nextAttempt, updated = excluded.updated`)
	if _, err := s.st.JobsDB().ExecContext(ctx, q, d.ID, d.Webhook, d.Type, string(d.Payload), d.Status, d.Attempts, d.LastStatus,
		d.LastResponse, d.LastError, d.NextAttempt, now, now); err != nil {
		return fmt.Errorf("save delivery %s: %w", d.ID, err)
	}
	return nil
}

// disable turns a webhook off with a reason.
func (s *Service) disable(ctx context.Context, id, reason string) {
	_, err := s.st.JobsDB().ExecContext(ctx, s.st.Rebind(`UPDATE _webhooks SET active = ?, disabledReason = ?, updated = ? WHERE id = ?`),
		false, reason, schema.FormatDate(time.Now()), id)
	if err == nil {
		err = s.reload(ctx)
	}
	if err != nil {
		s.log.Error("webhooks: disable", "webhook", id, "err", err)
		return
	}
	s.log.Warn("webhooks: disabled after persistent failure", "webhook", id, "reason", reason)
}

// DeliveryParams filter a delivery listing.
type DeliveryParams struct {
	// Status keeps deliveries in that status ("" for all).
	Status string
	// Limit caps the list (default 100, max 500); newest first.
	Limit int
}

// Deliveries lists a webhook's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, webhook string, p DeliveryParams) ([]*Delivery, error) {
	if _, err := s.get(ctx, webhook); err != nil {
		return nil, err
	}
	if p.Limit <= 0 {
		p.Limit = 100
	}
	p.Limit = min(p.Limit, 500)
	q := `SELECT id, webhook, type, payload, status, attempts, lastStatus, lastResponse, lastError, nextAttempt, created, updated FROM _webhookDeliveries WHERE webhook = ?`
	args := []any{webhook}
	if p.Status != "" {
		q += ` AND status = ?`
		args = append(args, p.Status)
	}
	q += ` ORDER BY created DESC, id DESC LIMIT ?`
	args = append(args, p.Limit)
	rs, err := s.st.ReadDB().QueryContext(ctx, s.st.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []*Delivery{}
	for rs.Next() {
		d := &Delivery{}
		var payload string
		if err := rs.Scan(&d.ID, &d.Webhook, &d.Type, &payload, &d.Status, &d.Attempts, &d.LastStatus, &d.LastResponse, &d.LastError, &d.NextAttempt, &d.Created, &d.Updated); err != nil {
			return nil, err
		}
		d.Payload = json.RawMessage(payload)
		out = append(out, d)
	}
	return out, rs.Err()
}

// RetryDelivery sends a delivery again now, with the same webhook-id, in
// a fresh series of attempts.
func (s *Service) RetryDelivery(ctx context.Context, webhook, id string) (*Delivery, error) {
	d := &Delivery{}
	var payload string
	err := s.st.JobsDB().QueryRowContext(ctx, s.st.Rebind(`SELECT id, webhook, type, payload FROM _webhookDeliveries WHERE id = ? AND webhook = ?`), id, webhook).
		Scan(&d.ID, &d.Webhook, &d.Type, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.Payload, d.Status = json.RawMessage(payload), "pending"
	if err := s.saveDelivery(ctx, d); err != nil {
		return nil, err
	}
	_, err = s.q.Enqueue(ctx, deliveryArgs{Delivery: d.ID, Webhook: d.Webhook, Type: d.Type, Payload: d.Payload}, &jobs.Opts{MaxAttempts: s.maxAttempts()})
	return d, err
}
