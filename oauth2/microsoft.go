package oauth2

import (
	"context"
	"errors"
	"net/http"
	"strings"

	xoauth2 "golang.org/x/oauth2"
)

const (
	microsoftAuthority = "https://login.microsoftonline.com"
	// microsoftConsumersTenant is the tenant ID of personal Microsoft
	// accounts.
	microsoftConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

func init() { register("microsoft", newMicrosoft) }

// newMicrosoft builds the "microsoft" provider: Microsoft identity platform
// (Entra ID) v2.0 OpenID Connect.
//
// Config.Extra["tenant"] selects the tenant: "common" (default),
// "organizations", "consumers", a tenant ID or a verified domain.
// Config.Issuer replaces the authority (https://login.microsoftonline.com).
// Because the multi-tenant endpoints issue tokens whose issuer names the
// user's tenant, the issuer is checked as "<authority>/<tid>/v2.0" against
// the token's tid claim, and tid must fit the configured tenant.
//
// Microsoft's email claim is not verified by Microsoft (any tenant admin
// can set it), so EmailVerified is true only when the token carries the
// optional claim xms_edov=true (the e-mail domain is verified by its
// owner), or when Config.Extra["trustEmail"] is "true" for a single-tenant
// setup whose directory the operator controls.
func newMicrosoft(ctx context.Context, cfg Config, hc *http.Client) (Provider, error) {
	tenant := or(cfg.Extra["tenant"], "common")
	authority := strings.TrimSuffix(or(cfg.Issuer, microsoftAuthority), "/")
	trustEmail := cfg.Extra["trustEmail"] == "true"
	o := oidcOptions{
		issuer: authority + "/" + tenant + "/v2.0",
		endpoint: xoauth2.Endpoint{
			AuthURL:  authority + "/" + tenant + "/oauth2/v2.0/authorize",
			TokenURL: authority + "/" + tenant + "/oauth2/v2.0/token",
		},
		jwksURL:         authority + "/" + tenant + "/discovery/v2.0/keys",
		skipIssuerCheck: true,
		checkClaims: func(claims map[string]any) error {
			tid := claimString(claims, "tid")
			if tid == "" {
				return errors.New("no tid claim")
			}
			if claimString(claims, "iss") != authority+"/"+tid+"/v2.0" {
				return errors.New("issuer does not match the token's tenant")
			}
			switch tenant {
			case "common":
			case "consumers":
				if tid != microsoftConsumersTenant {
					return errors.New("not a personal Microsoft account")
				}
			case "organizations":
				if tid == microsoftConsumersTenant {
					return errors.New("personal Microsoft accounts are not allowed")
				}
			default:
				if isGUID(tenant) && !strings.EqualFold(tid, tenant) {
					return errors.New("token from another tenant")
				}
			}
			return nil
		},
		mapUser: func(u *User, _ *Token) {
			u.EmailVerified = trustEmail || claimBool(u.Raw, "xms_edov")
		},
	}
	return newOIDC(ctx, "microsoft", "Microsoft", cfg, hc, o)
}

// isGUID reports whether s looks like 8-4-4-4-12 hex digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
