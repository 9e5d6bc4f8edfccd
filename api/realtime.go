package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/realtime"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Realtime: the realtime package keeps connections, subscriptions and the
// bus; this file decides what each subscriber may see (its own list or
// view rule, evaluated against the record as it was at the event) and
// publishes every committed write.

// realtimeQuiet lists collections whose writes are never published: they
// hold auth plumbing that no subscriber has any business watching.
var realtimeQuiet = map[string]bool{"_mfas": true, "_otps": true, "_totps": true, "_apiKeys": true}

// newRealtime builds the broker and its HTTP handler.
func (s *Server) newRealtime(bus realtime.Bus) error {
	b, err := realtime.NewBroker(realtime.Config{
		Authorizer:  realtime.AuthorizerFunc(s.realtimeMessage),
		Bus:         bus,
		Logger:      s.log,
		IdleTimeout: s.cfg.RealtimeIdleTimeout,
		OnSignal:    s.realtimeSignal,
	})
	if err != nil {
		return err
	}
	s.broker = b
	s.redirects = b
	s.rt = realtime.NewHandler(b, realtime.HandlerConfig{
		WriteError: func(w http.ResponseWriter, r *http.Request, status int, message string) {
			s.writeError(w, r, &Error{Status: status, Message: message})
		},
		Authenticate: s.realtimeAuthenticate,
		Logger:       s.log,
		// Pages on other origins may connect, as they may use REST and the
		// SSE stream (CORS is open) and GraphQL subscriptions: tokens, not
		// cookies, authenticate, so a foreign page without one is a guest
		// on every transport alike.
		InsecureSkipOriginCheck: true,
	})
	s.store.OnCommit(s.publishChanges)
	// Collections live in the shared database, but each instance keeps a
	// snapshot: a change made here tells the others to reload theirs.
	s.store.OnSchemaChange(func() {
		if err := b.Signal(context.Background(), signalSchema, nil); err != nil {
			s.log.Warn("schema change not signalled to other instances", "err", err)
		}
	})
	return nil
}

const signalSchema = "schema"

// realtimeSignal receives another instance's signal.
func (s *Server) realtimeSignal(name string, _ json.RawMessage) {
	if name != signalSchema {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.store.ReloadSchema(ctx); err != nil {
		s.log.Error("reload schema after another instance changed it", "err", err)
	}
}

// publishChanges hands committed writes to the broker; it never blocks.
func (s *Server) publishChanges(changes []store.Change) {
	ctx := context.Background()
	for _, ch := range changes {
		c := ch.Record.Collection
		if !realtimeQuiet[c.Name] && s.broker.Wants(c.ID, c.Name) {
			s.publishChange(ctx, ch)
		}
		if c.IsAuth() && ch.Action == store.ActionDelete {
			s.broker.DropAuth(ctx, c.ID, ch.Record.ID())
		}
	}
}

func (s *Server) publishChange(ctx context.Context, ch store.Change) {
	c := ch.Record.Collection
	// The event carries the whole record (hidden fields too) so that
	// rules can be evaluated on any instance, even after a delete.
	data := ch.Record.AppendJSON(nil, schema.EncodeOptions{ShowHidden: true})
	if err := s.broker.Publish(ctx, realtime.Event{
		CollectionID: c.ID, CollectionName: c.Name, RecordID: ch.Record.ID(), Action: ch.Action, Data: data,
	}); err != nil && !errors.Is(err, realtime.ErrQueueFull) {
		// A full queue is logged (rate-limited) and counted by the
		// broker; logging it here too would flood the log under load.
		s.log.Warn("realtime event not published", "collection", c.Name, "action", ch.Action, "err", err)
	}
}

// realtimeStamp identifies the token generation of an auth record: it
// changes with the token key, so a password change (which rotates it)
// turns the old subscriber into a guest.
func realtimeStamp(rec *schema.Record) string {
	h := sha256.Sum256([]byte(rec.Collection.ID + "\x00" + rec.GetString("tokenKey")))
	return hex.EncodeToString(h[:12])
}

func realtimeAuthOf(rec *schema.Record) realtime.Auth {
	if rec == nil {
		return realtime.Auth{}
	}
	return realtime.Auth{CollectionID: rec.Collection.ID, RecordID: rec.ID(), Stamp: realtimeStamp(rec)}
}

// realtimeAuthenticate resolves a WebSocket token.
func (s *Server) realtimeAuthenticate(ctx context.Context, token string) (realtime.Auth, error) {
	rec, _, err := s.tokens.Verify(ctx, token, auth.TypeAuth)
	if err != nil {
		return realtime.Auth{}, err
	}
	return realtimeAuthOf(rec), nil
}

// realtimeSubscribe is POST /api/realtime: the subscriber's auth is the
// request's.
func (s *Server) realtimeSubscribe(w http.ResponseWriter, r *http.Request) {
	s.rt.Subscribe(w, r, realtimeAuthOf(authRecord(r)))
}

// realtimeViewer loads a subscriber's auth record, as of now: a deleted
// record or a rotated token key makes the subscriber a guest.
func (s *Server) realtimeViewer(ctx context.Context, a realtime.Auth) *schema.Record {
	if a.IsGuest() {
		return nil
	}
	rec, err := s.store.FindAuthRecord(ctx, a.CollectionID, a.RecordID)
	if err != nil || realtimeStamp(rec) != a.Stamp {
		return nil
	}
	return rec
}

// realtimeMessage implements realtime.Authorizer: the event as one group
// of subscribers (same auth, same options) may see it, or ok=false.
func (s *Server) realtimeMessage(ctx context.Context, a realtime.Auth, sub realtime.Subscription, ev realtime.Event) ([]byte, bool, error) {
	switch ev.Action {
	case store.ActionCreate, store.ActionUpdate, store.ActionDelete:
	default:
		return nil, false, nil // not an event this server publishes
	}
	c := s.store.Schema().Lookup(ev.CollectionID)
	if c == nil || c.ID != ev.CollectionID {
		return nil, false, nil
	}
	rec, err := decodeSnapshot(c, ev.Data)
	if err != nil {
		return nil, false, err
	}
	viewer := s.realtimeViewer(ctx, a)
	headers := make(map[string]string, len(sub.Headers))
	for k, v := range sub.Headers {
		headers[strings.ReplaceAll(strings.ToLower(k), "-", "_")] = v
	}
	caller := &record.Caller{Auth: viewer, Request: &filter.RequestInfo{
		Auth: viewer, Method: http.MethodGet, Context: "realtime", Query: sub.Query, Headers: headers,
	}}
	ok, err := s.records.Visible(ctx, caller, rec, sub.Wildcard(), sub.Query["filter"])
	if err != nil || !ok {
		return nil, false, err
	}
	proj, err := schema.ParseProjection(sub.Query["fields"])
	if err != nil {
		return nil, false, nil
	}
	if expand := sub.Query["expand"]; expand != "" {
		// An expand the subscriber may not follow is dropped, not fatal:
		// the event itself is visible.
		if err := s.records.Expand(ctx, caller, c, []*schema.Record{rec}, expand); err != nil {
			s.log.DebugContext(ctx, "realtime expand failed", "collection", c.Name, "err", err)
		}
	}
	buf := []byte(`{"action":`)
	buf = strconv.AppendQuote(buf, ev.Action) // create, update or delete: plain ASCII
	buf = append(buf, `,"record":`...)
	buf = rec.AppendJSON(buf, encodeOptions{projection: proj, viewer: viewer}.schemaOptions())
	buf = append(buf, '}')
	return buf, true, nil
}

// decodeSnapshot rebuilds a record from the JSON of an event.
func decodeSnapshot(c *schema.Collection, data []byte) (*schema.Record, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	r := schema.NewRecord(c)
	for _, f := range c.Fields {
		raw, ok := m[f.Name]
		if !ok {
			continue
		}
		var v any = raw
		if f.Storage() != schema.StoreJSON {
			if err := json.Unmarshal(raw, &v); err != nil {
				continue
			}
		}
		if nv, ferr := f.Options.Normalize(f, v); ferr == nil {
			r.Set(f.Name, nv)
		}
	}
	return r, nil
}
