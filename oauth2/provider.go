package oauth2

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"

	xoauth2 "golang.org/x/oauth2"
)

// Provider is one configured identity provider.
type Provider interface {
	// Name is the registry name, e.g. "google".
	Name() string
	// DisplayName is a human readable name, e.g. "Google".
	DisplayName() string
	// AuthURL returns the URL the user agent is sent to. state must come
	// from NewState and codeVerifier from NewVerifier; only the S256
	// challenge of the verifier is put in the URL.
	AuthURL(state, codeVerifier, redirectURL string) string
	// Exchange trades an authorization code for tokens, sending the PKCE
	// verifier. For OpenID Connect providers the ID token is verified here.
	Exchange(ctx context.Context, code, codeVerifier, redirectURL string) (*Token, error)
	// User returns the normalised profile of the token's owner.
	User(ctx context.Context, tok *Token) (*User, error)
}

// User is the normalised profile returned by a provider.
type User struct {
	ID            string
	Name          string
	Username      string
	Email         string
	EmailVerified bool
	AvatarURL     string
	// Raw holds the provider's own profile data (ID token claims, API
	// response) for callers that need more than the normalised fields.
	Raw map[string]any
}

// Token is the result of an authorization code exchange.
type Token struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	Expiry       time.Time
	// IDToken is the raw OpenID Connect ID token, if one was issued.
	IDToken string
	// Claims are the claims of the verified ID token (nil when there is
	// none). They are only set by Exchange after verification.
	Claims map[string]any
	// Extra carries values from the callback request that some providers
	// need: Apple sends the user's name only once, as the "user" form field
	// of its form_post callback; put that raw JSON under key "user".
	Extra map[string]string
}

// Config configures a provider. Empty endpoint fields use the provider's
// defaults.
type Config struct {
	ClientID     string
	ClientSecret string
	AuthURL      string
	TokenURL     string
	UserInfoURL  string
	// Issuer is the OpenID Connect issuer. Required for "oidc"; for other
	// OIDC providers it replaces the default issuer (see each provider).
	Issuer string
	// Scopes replaces the provider's default scopes when not empty.
	Scopes []string
	// Extra holds provider-specific settings, e.g. "tenant" for microsoft
	// or "teamId", "keyId" and "privateKey" for apple.
	Extra map[string]string
}

// Errors returned by the package. Wrapped errors carry more detail; use
// errors.Is.
var (
	ErrUnknownProvider = errors.New("oauth2: unknown provider")
	ErrStateMismatch   = errors.New("oauth2: state mismatch")
	ErrNonceMismatch   = errors.New("oauth2: ID token nonce mismatch")
	ErrInvalidVerifier = errors.New("oauth2: invalid PKCE code verifier")
	ErrNoIDToken       = errors.New("oauth2: token response has no id_token")
	ErrInvalidIDToken  = errors.New("oauth2: invalid ID token")
	ErrMissingConfig   = errors.New("oauth2: incomplete provider configuration")
	ErrUserInfo        = errors.New("oauth2: cannot fetch user profile")
)

// NewVerifier returns a fresh PKCE code verifier (32 random bytes,
// base64url encoded: 43 characters).
func NewVerifier() string { return xoauth2.GenerateVerifier() }

// Challenge returns the S256 code challenge of verifier:
// base64url(SHA-256(verifier)) without padding.
func Challenge(verifier string) string { return xoauth2.S256ChallengeFromVerifier(verifier) }

// NewState returns a random, URL-safe state value (32 random bytes).
func NewState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckState compares the state kept by the caller with the one returned
// in the callback in constant time. An empty expected state never matches.
func CheckState(expected, got string) error {
	if expected == "" || subtle.ConstantTimeCompare([]byte(expected), []byte(got)) != 1 {
		return ErrStateMismatch
	}
	return nil
}

// validVerifier reports whether v is a verifier RFC 7636 allows:
// 43 to 128 characters of [A-Za-z0-9-._~].
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
