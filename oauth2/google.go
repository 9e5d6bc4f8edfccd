package oauth2

import (
	"context"
	"net/http"
	"strings"

	xoauth2 "golang.org/x/oauth2"
)

// Google's fixed OpenID Connect endpoints.
const (
	googleIssuer   = "https://accounts.google.com"
	googleAuthURL  = "https://accounts.google.com/o/oauth2/v2/auth"
	googleTokenURL = "https://oauth2.googleapis.com/token"
	googleJWKSURL  = "https://www.googleapis.com/oauth2/v3/certs"
	googleUserInfo = "https://openidconnect.googleapis.com/v1/userinfo"
)

func init() { register("google", newGoogle) }

// newGoogle builds the "google" provider: OpenID Connect at
// accounts.google.com with fixed endpoints (no discovery round trip). A
// Config.Issuer other than Google's switches to discovery at that issuer,
// which is how tests point it at a local OpenID provider.
func newGoogle(ctx context.Context, cfg Config, hc *http.Client) (Provider, error) {
	o := oidcOptions{issuer: googleIssuer}
	if cfg.Issuer == "" || strings.TrimSuffix(cfg.Issuer, "/") == googleIssuer {
		o.endpoint = xoauth2.Endpoint{AuthURL: googleAuthURL, TokenURL: googleTokenURL}
		o.jwksURL = googleJWKSURL
		o.userInfoURL = googleUserInfo
	} else {
		o.issuer = cfg.Issuer
	}
	return newOIDC(ctx, "google", "Google", cfg, hc, o)
}
