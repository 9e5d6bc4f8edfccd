package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// API keys (beyond PocketBase): superusers create named, scoped keys for
// servers; a key is shown once, stored as a hash, revocable, and its last
// use is recorded. Requests send it as `X-API-Key: <key>` or
// `Authorization: Bearer <key>`.

const apiKeysCollection = "_apiKeys"

// apiKeyCacheTTL bounds how long a verified key is trusted without reading
// its row again: revocation on another instance takes effect within it.
const apiKeyCacheTTL = 5 * time.Second

// lastUsedEvery is how often a key's lastUsed is written at most, so that a
// busy server's key does not turn every read into a write.
const lastUsedEvery = time.Minute

// apiKeys verifies keys with a short cache.
type apiKeys struct {
	store *store.Store
	mu    sync.Mutex
	cache map[string]cachedKey // by prefix
}

type cachedKey struct {
	hash     string
	key      *auth.APIKey
	lastUsed time.Time
	fetched  time.Time
}

var errInvalidAPIKey = errors.New("invalid, expired or revoked API key")

// verify returns the key for a presented credential.
func (k *apiKeys) verify(ctx context.Context, presented string) (*auth.APIKey, error) {
	prefix, secret, ok := auth.ParseAPIKey(presented)
	if !ok {
		return nil, errInvalidAPIKey
	}
	now := time.Now()
	k.mu.Lock()
	ck, hit := k.cache[prefix]
	k.mu.Unlock()
	if !hit || now.Sub(ck.fetched) > apiKeyCacheTTL {
		var err error
		ck, err = k.load(ctx, prefix)
		if errors.Is(err, store.ErrNotFound) {
			k.forget(prefix)
			// Spend the time of a comparison all the same.
			auth.CheckAPIKeySecret(strings.Repeat("0", 64), secret)
			return nil, errInvalidAPIKey
		}
		if err != nil {
			return nil, err
		}
		ck.fetched = now
		k.mu.Lock()
		if k.cache == nil {
			k.cache = map[string]cachedKey{}
		}
		k.cache[prefix] = ck
		k.mu.Unlock()
	}
	if !auth.CheckAPIKeySecret(ck.hash, secret) {
		return nil, errInvalidAPIKey
	}
	if !ck.key.Expires.IsZero() && now.After(ck.key.Expires) {
		return nil, errInvalidAPIKey
	}
	if now.Sub(ck.lastUsed) > lastUsedEvery {
		k.touch(ctx, prefix, now)
	}
	return ck.key, nil
}

func (k *apiKeys) forget(prefix string) {
	k.mu.Lock()
	delete(k.cache, prefix)
	k.mu.Unlock()
}

func (k *apiKeys) load(ctx context.Context, prefix string) (cachedKey, error) {
	c := k.store.Schema().Lookup(apiKeysCollection)
	if c == nil {
		return cachedKey{}, store.ErrNotFound
	}
	rec, err := k.store.FindFirstBy(ctx, c, "prefix", prefix)
	if err != nil {
		return cachedKey{}, err
	}
	key, err := apiKeyFromRecord(rec)
	if err != nil {
		return cachedKey{}, err
	}
	lastUsed, _ := schema.ParseDate(rec.GetString("lastUsed"))
	return cachedKey{hash: rec.GetString("hash"), key: key, lastUsed: lastUsed}, nil
}

// touch records a key's use in the background: the request must not wait
// for, or fail by, this bookkeeping write.
func (k *apiKeys) touch(ctx context.Context, prefix string, now time.Time) {
	k.mu.Lock()
	if ck, ok := k.cache[prefix]; ok {
		ck.lastUsed = now
		k.cache[prefix] = ck
	}
	k.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	go func() {
		defer cancel()
		c := k.store.Schema().Lookup(apiKeysCollection)
		if c == nil {
			return
		}
		k.store.Tx(ctx, func(tx *store.Tx) error {
			rec, err := k.store.FindFirstBy(ctx, c, "prefix", prefix)
			if err != nil {
				return err
			}
			rec = rec.Clone()
			rec.Set("lastUsed", schema.FormatDate(now))
			return tx.Update(ctx, rec)
		})
	}()
}

func apiKeyFromRecord(rec *schema.Record) (*auth.APIKey, error) {
	key := &auth.APIKey{ID: rec.ID(), Name: rec.GetString("name")}
	if exp := rec.GetString("expires"); exp != "" {
		t, err := schema.ParseDate(exp)
		if err != nil {
			return nil, err
		}
		key.Expires = t
	}
	for _, s := range recordScopes(rec) {
		scope, err := auth.ParseScope(s)
		if err != nil {
			continue // a hand-edited row: ignore what cannot grant anything
		}
		key.Scopes = append(key.Scopes, scope)
	}
	return key, nil
}

// createAPIKey is POST /api/api-keys {name, scopes, expires|duration}.
func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	errs := schema.Errors{}
	name, _ := body["name"].(string)
	if strings.TrimSpace(name) == "" {
		errs.Add("name", schema.ErrRequired())
	}
	var scopes []string
	raw, _ := body["scopes"].([]any)
	if len(raw) == 0 {
		errs.Add("scopes", schema.NewFieldError("validation_required", "List at least one scope, as collection:action."))
	}
	snap := s.store.Schema()
	for _, v := range raw {
		str, _ := v.(string)
		scope, err := auth.ParseScope(str)
		if err != nil {
			errs.Add("scopes", schema.NewFieldError("validation_invalid_scope", err.Error()))
			break
		}
		if scope.Collection != "*" {
			c := snap.Lookup(scope.Collection)
			if c == nil {
				errs.Add("scopes", schema.NewFieldError("validation_invalid_scope", "Unknown collection "+scope.Collection+"."))
				break
			}
			if strings.HasPrefix(c.Name, "_") {
				errs.Add("scopes", schema.NewFieldError("validation_invalid_scope", "API keys cannot be scoped to system collections."))
				break
			}
		}
		scopes = append(scopes, scope.String())
	}
	var expires string
	switch {
	case body["expires"] != nil && body["expires"] != "":
		str, _ := body["expires"].(string)
		t, err := schema.ParseDate(str)
		if err != nil || !t.After(time.Now()) {
			errs.Add("expires", schema.NewFieldError("validation_invalid_date", "Expected a future date."))
		} else {
			expires = schema.FormatDate(t)
		}
	case body["duration"] != nil:
		secs, ok := body["duration"].(float64)
		if !ok || secs <= 0 {
			errs.Add("duration", schema.NewFieldError("validation_invalid_duration", "Expected a positive number of seconds."))
		} else {
			expires = schema.FormatDate(time.Now().Add(time.Duration(secs) * time.Second))
		}
	}
	for k := range body {
		switch k {
		case "name", "scopes", "expires", "duration":
		default:
			errs.Add(k, schema.NewFieldError("validation_unknown_field", "Unknown field."))
		}
	}
	if len(errs) > 0 {
		return &Error{Status: http.StatusBadRequest, Message: "Failed to create the API key.", Data: errs}
	}
	c := snap.Lookup(apiKeysCollection)
	key, prefix, hash := auth.NewAPIKey()
	rec := schema.NewRecord(c)
	rec.Set("name", strings.TrimSpace(name))
	rec.Set("prefix", prefix)
	rec.Set("hash", hash)
	scopesJSON, err := json.Marshal(scopes)
	if err != nil {
		return err
	}
	rec.Set("scopes", json.RawMessage(scopesJSON))
	rec.Set("expires", expires)
	schema.Prepare(rec, true, time.Now())
	if verrs := schema.Validate(rec); len(verrs) > 0 {
		return verrs
	}
	if err := s.store.Tx(r.Context(), func(tx *store.Tx) error { return tx.Insert(r.Context(), rec) }); err != nil {
		return err
	}
	out := apiKeyJSON(rec)
	out["key"] = key
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listAPIKeys is GET /api/api-keys: every key, without secrets.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	c := s.store.Schema().Lookup(apiKeysCollection)
	page, err := s.store.List(r.Context(), store.ListQuery{Collection: c, Sort: "-created", PerPage: 1000, SkipTotal: true})
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(page.Items))
	for _, rec := range page.Items {
		items = append(items, apiKeyJSON(rec))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// deleteAPIKey is DELETE /api/api-keys/{id}: revocation.
func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	c := s.store.Schema().Lookup(apiKeysCollection)
	id := r.PathValue("id")
	if !schema.ValidID(id) {
		return notFound()
	}
	var prefix string
	err := s.store.Tx(r.Context(), func(tx *store.Tx) error {
		rec, err := tx.FindOne(r.Context(), c, id, nil)
		if err != nil {
			return err
		}
		prefix = rec.GetString("prefix")
		return tx.Delete(r.Context(), rec)
	})
	if err != nil {
		return err
	}
	s.apiKeys.forget(prefix)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func apiKeyJSON(rec *schema.Record) map[string]any {
	return map[string]any{
		"id":       rec.ID(),
		"name":     rec.GetString("name"),
		"prefix":   rec.GetString("prefix"),
		"scopes":   recordScopes(rec),
		"expires":  rec.GetString("expires"),
		"lastUsed": rec.GetString("lastUsed"),
		"created":  rec.GetString("created"),
	}
}

// recordScopes reads the scopes JSON list of a key row.
func recordScopes(rec *schema.Record) []string {
	raw, _ := rec.Get("scopes").(json.RawMessage)
	var list []string
	json.Unmarshal(raw, &list) // a hand-edited row may hold anything: no scopes then
	return list
}
