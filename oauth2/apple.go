package oauth2

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	xoauth2 "golang.org/x/oauth2"
)

const appleIssuer = "https://appleid.apple.com"

func init() { register("apple", newApple) }

// newApple builds the "apple" provider: Sign in with Apple, OpenID Connect
// at appleid.apple.com.
//
// Apple's client secret is a short-lived ES256 JWT signed with a private
// key from the Apple developer account. Set Config.Extra["teamId"],
// Config.Extra["keyId"] and Config.Extra["privateKey"] (the .p8 PEM text)
// and a fresh secret is generated for every exchange; otherwise
// Config.ClientSecret is sent as a pre-generated secret.
//
// Apple returns the user's name only on the first authorization, and not
// in the ID token but as the "user" form field (JSON) of its form_post
// callback. The HTTP layer must copy that field into Token.Extra["user"]
// before calling User, and must store the name then: later logins carry no
// name at all. Because the default scopes ("name email") make Apple use
// response_mode=form_post, the redirect URL must accept POST.
//
// Config.Issuer replaces https://appleid.apple.com (endpoints are derived
// from it as <issuer>/auth/authorize, /auth/token and /auth/keys).
func newApple(ctx context.Context, cfg Config, hc *http.Client) (Provider, error) {
	issuer := strings.TrimSuffix(or(cfg.Issuer, appleIssuer), "/")
	o := oidcOptions{
		issuer: issuer,
		endpoint: xoauth2.Endpoint{
			AuthURL:   issuer + "/auth/authorize",
			TokenURL:  issuer + "/auth/token",
			AuthStyle: xoauth2.AuthStyleInParams,
		},
		jwksURL:    issuer + "/auth/keys",
		scopes:     []string{"name", "email"},
		authParams: []xoauth2.AuthCodeOption{xoauth2.SetAuthURLParam("response_mode", "form_post")},
		mapUser:    appleMapUser,
	}
	if cfg.Extra["privateKey"] != "" {
		gen, err := appleSecretGenerator(cfg.ClientID, cfg.Extra["teamId"], cfg.Extra["keyId"], cfg.Extra["privateKey"], issuer)
		if err != nil {
			return nil, err
		}
		o.clientSecret = gen
	} else if cfg.ClientSecret == "" {
		return nil, fmt.Errorf("%w: apple: set Extra teamId, keyId and privateKey (or a ClientSecret JWT)", ErrMissingConfig)
	}
	return newOIDC(ctx, "apple", "Apple", cfg, hc, o)
}

// appleSecretGenerator parses the PKCS#8 P-256 key and returns a function
// that signs a five-minute client secret JWT:
// iss=team ID, sub=client ID, aud=issuer, kid=key ID.
func appleSecretGenerator(clientID, teamID, keyID, keyPEM, audience string) (func() (string, error), error) {
	if teamID == "" || keyID == "" {
		return nil, fmt.Errorf("%w: apple: teamId and keyId are required with privateKey", ErrMissingConfig)
	}
	key, err := jwt.ParseECPrivateKeyFromPEM([]byte(keyPEM))
	if err != nil {
		return nil, fmt.Errorf("%w: apple: privateKey: %v", ErrMissingConfig, err)
	}
	return func() (string, error) {
		return appleClientSecret(key, clientID, teamID, keyID, audience, time.Now())
	}, nil
}

func appleClientSecret(key *ecdsa.PrivateKey, clientID, teamID, keyID, audience string, now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Issuer:    teamID,
		Subject:   clientID,
		Audience:  jwt.ClaimStrings{audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)),
	})
	t.Header["kid"] = keyID
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("oauth2: apple: signing client secret: %w", err)
	}
	return s, nil
}

// appleFormUser is the "user" form field of Apple's first callback.
type appleFormUser struct {
	Name struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"name"`
}

func appleMapUser(u *User, tok *Token) {
	// Apple e-mails (including private relay ones) are verified by Apple;
	// email_verified arrives as "true" or true and claimBool handles both.
	if raw := tok.Extra["user"]; raw != "" {
		if name, err := ParseAppleUser(raw); err == nil && name != "" {
			u.Name = name
		}
	}
}

// ParseAppleUser returns the display name from the "user" form field Apple
// posts on the first authorization; it is what User uses when that field is
// in Token.Extra["user"].
func ParseAppleUser(formValue string) (string, error) {
	var fu appleFormUser
	if err := json.Unmarshal([]byte(formValue), &fu); err != nil {
		return "", errors.New("oauth2: apple: malformed user field")
	}
	return strings.TrimSpace(fu.Name.FirstName + " " + fu.Name.LastName), nil
}
