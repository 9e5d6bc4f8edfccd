package oauth2

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	xoauth2 "golang.org/x/oauth2"
)

func init() {
	register("oidc", func(ctx context.Context, cfg Config, hc *http.Client) (Provider, error) {
		if cfg.Issuer == "" {
			return nil, fmt.Errorf("%w: oidc: issuer is required", ErrMissingConfig)
		}
		return newOIDC(ctx, "oidc", or(cfg.Extra["displayName"], "OpenID Connect"), cfg, hc, oidcOptions{
			issuer:  cfg.Issuer,
			jwksURL: cfg.Extra["jwksURL"],
		})
	})
}

// defaultOIDCScopes are requested when Config.Scopes is empty.
var defaultOIDCScopes = []string{oidc.ScopeOpenID, "email", "profile"}

// oidcOptions are the provider-specific parts of an OpenID Connect
// provider. Empty endpoints are taken from the issuer's discovery document.
type oidcOptions struct {
	issuer      string
	endpoint    xoauth2.Endpoint
	jwksURL     string
	userInfoURL string
	scopes      []string
	authParams  []xoauth2.AuthCodeOption
	// skipIssuerCheck disables go-oidc's exact issuer comparison; checkClaims
	// must then verify the issuer itself (multi-tenant issuers).
	skipIssuerCheck bool
	// checkClaims runs on the verified claims after the standard checks.
	checkClaims func(claims map[string]any) error
	// mapUser adjusts the normalised user (e.g. e-mail trust rules).
	mapUser func(u *User, tok *Token)
	// clientSecret, when set, produces the client secret per exchange.
	clientSecret func() (string, error)
}

// oidcProvider is an OpenID Connect provider: an OAuth2 code flow with PKCE
// and a nonce, whose ID token is verified on exchange.
type oidcProvider struct {
	base
	verifier     *oidc.IDTokenVerifier
	userInfoURL  string
	checkClaims  func(map[string]any) error
	mapUser      func(*User, *Token)
	clientSecret func() (string, error)
}

func newOIDC(ctx context.Context, name, display string, cfg Config, hc *http.Client, o oidcOptions) (*oidcProvider, error) {
	ep := o.endpoint
	ep.AuthURL = or(cfg.AuthURL, ep.AuthURL)
	ep.TokenURL = or(cfg.TokenURL, ep.TokenURL)
	userInfoURL := or(cfg.UserInfoURL, o.userInfoURL)
	vcfg := &oidc.Config{ClientID: cfg.ClientID, SkipIssuerCheck: o.skipIssuerCheck}
	keyCtx := oidc.ClientContext(context.Background(), hc)

	var verifier *oidc.IDTokenVerifier
	if ep.AuthURL == "" || ep.TokenURL == "" || o.jwksURL == "" {
		disc, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), o.issuer)
		if err != nil {
			return nil, fmt.Errorf("oauth2: %s: discovery: %w", name, err)
		}
		dep := disc.Endpoint()
		ep.AuthURL = or(ep.AuthURL, dep.AuthURL)
		ep.TokenURL = or(ep.TokenURL, dep.TokenURL)
		ep.DeviceAuthURL = or(ep.DeviceAuthURL, dep.DeviceAuthURL)
		if userInfoURL == "" && o.userInfoURL == "" {
			userInfoURL = disc.UserInfoEndpoint()
		}
		if o.jwksURL != "" {
			verifier = oidc.NewVerifier(o.issuer, oidc.NewRemoteKeySet(keyCtx, o.jwksURL), vcfg)
		} else {
			verifier = disc.Verifier(vcfg)
		}
	} else {
		verifier = oidc.NewVerifier(o.issuer, oidc.NewRemoteKeySet(keyCtx, o.jwksURL), vcfg)
	}

	scopes := o.scopes
	if scopes == nil {
		scopes = defaultOIDCScopes
	}
	b := newBase(name, display, cfg, hc, ep, scopes)
	b.authParams = o.authParams
	return &oidcProvider{
		base:         b,
		verifier:     verifier,
		userInfoURL:  userInfoURL,
		checkClaims:  o.checkClaims,
		mapUser:      o.mapUser,
		clientSecret: o.clientSecret,
	}, nil
}

// nonceFor derives the OpenID Connect nonce from the PKCE verifier. The
// verifier is secret until the token request and the hash is one-way and
// domain separated from the S256 challenge, so the nonce binds the ID token
// to this very authorization request without storing anything else.
func nonceFor(verifier string) string {
	sum := sha256.Sum256([]byte("plinth/oauth2 nonce\x00" + verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthURL implements Provider.
func (p *oidcProvider) AuthURL(state, codeVerifier, redirectURL string) string {
	return p.authURL(state, codeVerifier, redirectURL, oidc.Nonce(nonceFor(codeVerifier)))
}

// Exchange implements Provider: it redeems the code with the PKCE verifier
// and verifies the ID token's signature, issuer, audience, expiry, nonce and
// at_hash.
func (p *oidcProvider) Exchange(ctx context.Context, code, codeVerifier, redirectURL string) (*Token, error) {
	secret := p.conf.ClientSecret
	if p.clientSecret != nil {
		s, err := p.clientSecret()
		if err != nil {
			return nil, err
		}
		secret = s
	}
	xt, err := p.exchange(ctx, code, codeVerifier, redirectURL, secret)
	if err != nil {
		return nil, err
	}
	raw, _ := xt.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w (%s)", ErrNoIDToken, p.name)
	}
	claims, err := p.VerifyIDToken(ctx, raw, codeVerifier, xt.AccessToken)
	if err != nil {
		return nil, err
	}
	tok := fromXToken(xt)
	tok.IDToken = raw
	tok.Claims = claims
	return tok, nil
}

// VerifyIDToken verifies a raw ID token issued for the authorization
// request that used codeVerifier and returns its claims. accessToken, when
// not empty, is checked against the at_hash claim.
func (p *oidcProvider) VerifyIDToken(ctx context.Context, rawIDToken, codeVerifier, accessToken string) (map[string]any, error) {
	idt, err := p.verifier.Verify(oidc.ClientContext(ctx, p.hc), rawIDToken)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidIDToken, p.name, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonceFor(codeVerifier))) != 1 {
		return nil, fmt.Errorf("%w (%s)", ErrNonceMismatch, p.name)
	}
	if idt.AccessTokenHash != "" && accessToken != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidIDToken, p.name, err)
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidIDToken, p.name, err)
	}
	if p.checkClaims != nil {
		if err := p.checkClaims(claims); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidIDToken, p.name, err)
		}
	}
	return claims, nil
}

// User implements Provider. The verified ID token claims are
// authoritative; the UserInfo endpoint is only asked when the ID token
// lacks the e-mail (or when there are no claims at all), and its answer is
// only used when its subject matches.
func (p *oidcProvider) User(ctx context.Context, tok *Token) (*User, error) {
	claims := make(map[string]any, len(tok.Claims))
	for k, v := range tok.Claims {
		claims[k] = v
	}
	if p.userInfoURL != "" && tok.AccessToken != "" && (len(claims) == 0 || claimString(claims, "email") == "") {
		info, err := p.getJSON(ctx, p.userInfoURL, tok.AccessToken, nil)
		if err != nil {
			return nil, err
		}
		sub := claimString(claims, "sub")
		infoSub := claimString(info, "sub")
		switch {
		case sub != "" && infoSub != "" && sub != infoSub:
			return nil, fmt.Errorf("%w: %s: userinfo subject does not match the ID token", ErrUserInfo, p.name)
		case sub == "" && infoSub == "":
			return nil, fmt.Errorf("%w: %s: userinfo has no subject", ErrUserInfo, p.name)
		}
		for k, v := range info {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	u := &User{
		ID:            claimString(claims, "sub"),
		Name:          claimString(claims, "name"),
		Username:      claimString(claims, "preferred_username"),
		Email:         claimString(claims, "email"),
		EmailVerified: claimBool(claims, "email_verified"),
		AvatarURL:     claimString(claims, "picture"),
		Raw:           claims,
	}
	if u.ID == "" {
		return nil, fmt.Errorf("%w: %s: no subject", ErrUserInfo, p.name)
	}
	if p.mapUser != nil {
		p.mapUser(u, tok)
	}
	if u.Email == "" {
		u.EmailVerified = false
	}
	return u, nil
}
