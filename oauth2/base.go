package oauth2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	xoauth2 "golang.org/x/oauth2"
)

// maxBody bounds the size of provider API responses we read.
const maxBody = 1 << 20

// base holds what every provider shares: its names, the x/oauth2
// configuration (without a redirect URL, which is per request) and the HTTP
// client.
type base struct {
	name, display string
	conf          xoauth2.Config
	hc            *http.Client
	authParams    []xoauth2.AuthCodeOption
}

func newBase(name, display string, cfg Config, hc *http.Client, ep xoauth2.Endpoint, scopes []string) base {
	if cfg.AuthURL != "" {
		ep.AuthURL = cfg.AuthURL
	}
	if cfg.TokenURL != "" {
		ep.TokenURL = cfg.TokenURL
	}
	if len(cfg.Scopes) > 0 {
		scopes = cfg.Scopes
	}
	return base{
		name:    name,
		display: display,
		hc:      hc,
		conf: xoauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     ep,
			Scopes:       append([]string(nil), scopes...),
		},
	}
}

// Name implements Provider.
func (b *base) Name() string { return b.name }

// DisplayName implements Provider.
func (b *base) DisplayName() string { return b.display }

// AuthURL implements Provider for plain OAuth2 providers.
func (b *base) AuthURL(state, codeVerifier, redirectURL string) string {
	return b.authURL(state, codeVerifier, redirectURL)
}

func (b *base) authURL(state, verifier, redirectURL string, extra ...xoauth2.AuthCodeOption) string {
	conf := b.conf
	conf.RedirectURL = redirectURL
	opts := make([]xoauth2.AuthCodeOption, 0, len(b.authParams)+len(extra)+1)
	opts = append(opts, xoauth2.S256ChallengeOption(verifier))
	opts = append(opts, b.authParams...)
	opts = append(opts, extra...)
	return conf.AuthCodeURL(state, opts...)
}

// Exchange implements Provider for plain OAuth2 providers.
func (b *base) Exchange(ctx context.Context, code, codeVerifier, redirectURL string) (*Token, error) {
	t, err := b.exchange(ctx, code, codeVerifier, redirectURL, b.conf.ClientSecret)
	if err != nil {
		return nil, err
	}
	return fromXToken(t), nil
}

func (b *base) exchange(ctx context.Context, code, verifier, redirectURL, secret string) (*xoauth2.Token, error) {
	if !validVerifier(verifier) {
		return nil, ErrInvalidVerifier
	}
	conf := b.conf
	conf.RedirectURL = redirectURL
	conf.ClientSecret = secret
	t, err := conf.Exchange(b.ctx(ctx), code, xoauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("oauth2: %s: code exchange: %w", b.name, err)
	}
	return t, nil
}

// ctx makes x/oauth2 use the provider's HTTP client.
func (b *base) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, xoauth2.HTTPClient, b.hc)
}

// fetch GETs url with the bearer token and returns the body of a 2xx
// answer.
func (b *base) fetch(ctx context.Context, url, accessToken string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUserInfo, b.name, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUserInfo, b.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUserInfo, b.name, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%w: %s: %s: %s", ErrUserInfo, b.name, resp.Status,
			strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	return body, nil
}

// getJSON fetches url and decodes the JSON answer into out (when not nil)
// and into a raw map whose numbers are json.Number, so that large numeric
// IDs keep their digits.
func (b *base) getJSON(ctx context.Context, url, accessToken string, out any) (map[string]any, error) {
	body, err := b.fetch(ctx, url, accessToken)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return nil, fmt.Errorf("%w: %s: decoding response: %v", ErrUserInfo, b.name, err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %s: decoding response: %v", ErrUserInfo, b.name, err)
	}
	return raw, nil
}

func fromXToken(t *xoauth2.Token) *Token {
	return &Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
	}
}

// or returns a unless it is empty, else b.
func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// claimString returns m[key] when it is a string.
func claimString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// claimBool accepts a JSON boolean or the strings "true"/"false" (Apple
// sends email_verified as a string).
func claimBool(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}
