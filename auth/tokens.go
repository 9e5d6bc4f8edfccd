package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/plinthdev/plinth/schema"
)

// Token types, as the SDK reads them from the "type" claim.
const (
	TypeAuth = "auth"
	TypeFile = "file"
	// TypeVerification, TypePasswordReset and TypeEmailChange are the
	// single-purpose tokens mailed to users; each carries the address it
	// was sent to (and, for an email change, the new one) in its claims.
	TypeVerification  = "verification"
	TypePasswordReset = "passwordReset"
	TypeEmailChange   = "emailChange"
)

// SuperusersID is the fixed id of the _superusers collection.
const SuperusersID = "pbc_3142635823"

// ErrInvalidToken is returned for any token that does not verify; callers
// must not tell clients why, to avoid helping forgers.
var ErrInvalidToken = errors.New("invalid or expired token")

// RecordFinder loads the auth record a token names.
type RecordFinder interface {
	FindAuthRecord(ctx context.Context, collectionID, id string) (*schema.Record, error)
}

// Tokens signs and verifies auth tokens.
type Tokens struct {
	secret []byte
	finder RecordFinder
	now    func() time.Time
}

// NewTokens returns a Tokens that signs with secret (at least 32 bytes,
// kept in the database and never sent) and loads records with finder.
func NewTokens(secret []byte, finder RecordFinder) *Tokens {
	return &Tokens{secret: secret, finder: finder, now: time.Now}
}

// Claims are the JWT claims Plinth writes.
type Claims struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	CollectionID string `json:"collectionId"`
	Refreshable  bool   `json:"refreshable"`
	// Email is the address an emailed token was sent for; NewEmail is the
	// requested address of an email change.
	Email    string `json:"email,omitempty"`
	NewEmail string `json:"newEmail,omitempty"`
	jwt.RegisteredClaims
}

func (t *Tokens) key(r *schema.Record, typ string) []byte {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte(typ))
	m.Write([]byte{0})
	m.Write([]byte(r.Collection.ID))
	m.Write([]byte{0})
	m.Write([]byte(r.GetString("tokenKey")))
	return m.Sum(nil)
}

// Issue signs a token of type typ for the auth record r, valid for d.
func (t *Tokens) Issue(r *schema.Record, typ string, d time.Duration, refreshable bool) (string, error) {
	now := t.now()
	claims := Claims{
		ID: r.ID(), Type: typ, CollectionID: r.Collection.ID, Refreshable: refreshable,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(d)), IssuedAt: jwt.NewNumericDate(now)},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key(r, typ))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// IssueEmail signs a non-refreshable token of type typ for r bound to the
// address email (and, for an email change, newEmail), valid for d. Like
// every token it is signed with r's token key, so it dies when the
// password or email changes; callers must also check that Claims.Email is
// still r's address.
func (t *Tokens) IssueEmail(r *schema.Record, typ string, d time.Duration, email, newEmail string) (string, error) {
	now := t.now()
	claims := Claims{
		ID: r.ID(), Type: typ, CollectionID: r.Collection.ID, Email: email, NewEmail: newEmail,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(d)), IssuedAt: jwt.NewNumericDate(now)},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key(r, typ))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Verify checks a token of type typ and returns its record and claims.
func (t *Tokens) Verify(ctx context.Context, token, typ string) (*schema.Record, *Claims, error) {
	var claims Claims
	var rec *schema.Record
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(t.now))
	_, err := parser.ParseWithClaims(token, &claims, func(tok *jwt.Token) (any, error) {
		c := tok.Claims.(*Claims)
		if c.Type != typ || c.ID == "" || c.CollectionID == "" {
			return nil, ErrInvalidToken
		}
		r, err := t.finder.FindAuthRecord(ctx, c.CollectionID, c.ID)
		if err != nil {
			return nil, ErrInvalidToken
		}
		rec = r
		return t.key(r, typ), nil
	})
	if err != nil || rec == nil {
		return nil, nil, ErrInvalidToken
	}
	return rec, &claims, nil
}

// HashPassword hashes a password with bcrypt at cost (bcrypt's own range is
// enforced; 0 means bcrypt.DefaultCost).
func HashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyInput is what an unknown identity's check hashes: a constant, so
// that its time does not depend on what the caller sent.
var dummyInput = []byte("plinth-timing-equaliser")

// CheckPassword reports whether password matches hash (bcrypt compares in
// constant time). An empty hash, for an identity that does not exist,
// spends the same time: it hashes a constant at dummyCost, which should be
// the cost of the real hashes of that kind (--bcrypt-cost, or the field's
// own cost), since a bcrypt hash and a bcrypt comparison at one cost take
// the same time. dummyCost 0 means bcrypt.DefaultCost.
func CheckPassword(hash, password string, dummyCost int) bool {
	if hash == "" {
		dummyHash(dummyCost)
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyHash spends the time of a check at cost (0: bcrypt.DefaultCost)
// and returns the hash it made.
func dummyHash(cost int) []byte {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, _ := bcrypt.GenerateFromPassword(dummyInput, cost)
	return h
}
