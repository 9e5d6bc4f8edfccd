package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// API keys are Plinth's credentials for servers (beyond PocketBase). A key
// reads "plk_<prefix>_<secret>": the prefix finds the stored row, and only a
// SHA-256 hash of the secret is stored, so a database leak does not leak
// usable keys. The secret carries 256 bits, so a fast hash is enough (no
// bcrypt: keys are checked on every request).
const apiKeyScheme = "plk_"

// Record actions an API key scope can grant.
const (
	ActionList   = "list"
	ActionView   = "view"
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

var apiKeyActions = []string{ActionList, ActionView, ActionCreate, ActionUpdate, ActionDelete}

// NewAPIKey returns a fresh key, its prefix and the hash to store.
func NewAPIKey() (key, prefix, hash string) {
	p := make([]byte, 6)
	s := make([]byte, 32)
	rand.Read(p)
	rand.Read(s)
	prefix = hex.EncodeToString(p)
	secret := hex.EncodeToString(s)
	return apiKeyScheme + prefix + "_" + secret, prefix, HashAPIKeySecret(secret)
}

// LooksLikeAPIKey reports whether a credential is an API key rather than a
// JWT, so that the caller knows which check applies.
func LooksLikeAPIKey(s string) bool { return strings.HasPrefix(s, apiKeyScheme) }

// ParseAPIKey splits a key into its prefix and secret.
func ParseAPIKey(key string) (prefix, secret string, ok bool) {
	rest, found := strings.CutPrefix(key, apiKeyScheme)
	if !found {
		return "", "", false
	}
	prefix, secret, found = strings.Cut(rest, "_")
	if !found || len(prefix) != 12 || len(secret) != 64 {
		return "", "", false
	}
	return prefix, secret, true
}

// HashAPIKeySecret is the stored form of a key's secret.
func HashAPIKeySecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CheckAPIKeySecret compares a presented secret with the stored hash in
// constant time.
func CheckAPIKeySecret(hash, secret string) bool {
	got := HashAPIKeySecret(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// APIKey is a verified key, as a request's caller.
type APIKey struct {
	ID      string
	Name    string
	Scopes  []Scope
	Expires time.Time // zero: never
}

// Scope grants actions on one collection ("*": every collection).
type Scope struct {
	Collection string
	Action     string // one of the Action constants, or "*"
}

// String is the scope's wire form, "collection:action".
func (s Scope) String() string { return s.Collection + ":" + s.Action }

// ParseScope reads "collection:action", where either part may be "*".
func ParseScope(s string) (Scope, error) {
	coll, action, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || coll == "" || action == "" {
		return Scope{}, fmt.Errorf("scope %q: want collection:action", s)
	}
	if action != "*" && !slices.Contains(apiKeyActions, action) {
		return Scope{}, fmt.Errorf("scope %q: action must be one of %s or *", s, strings.Join(apiKeyActions, ", "))
	}
	return Scope{Collection: coll, Action: action}, nil
}

// Allows reports whether the key grants action on the collection with the
// given id or name. Scopes name collections by name or id; "*" never
// covers system collections (names starting with "_"), so that no key can
// reach superusers or other keys.
func (k *APIKey) Allows(collectionID, collectionName, action string) bool {
	if strings.HasPrefix(collectionName, "_") {
		return false
	}
	for _, s := range k.Scopes {
		if (s.Collection == "*" || s.Collection == collectionID || strings.EqualFold(s.Collection, collectionName)) &&
			(s.Action == "*" || s.Action == action) {
			return true
		}
	}
	return false
}
