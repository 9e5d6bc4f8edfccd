package oauth2

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/url"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestApple(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))

	idp := newFakeIDP(t, "/auth/authorize", "/auth/token", "/auth/keys")
	idp.checkToken = func(form url.Values) bool {
		// The client secret must be an ES256 JWT from our key.
		tok, err := jwt.Parse(form.Get("client_secret"), func(tk *jwt.Token) (any, error) {
			if tk.Header["kid"] != "KEY123" {
				return nil, errors.New("kid")
			}
			return &ecKey.PublicKey, nil
		}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer("TEAM42"),
			jwt.WithSubject("com.example.app"), jwt.WithAudience(idp.srv.URL), jwt.WithExpirationRequired())
		return err == nil && tok.Valid && form.Get("client_id") == "com.example.app"
	}
	idp.claims = func(nonce string) jwt.MapClaims {
		c := baseClaims(idp.srv.URL, "com.example.app", nonce)
		c["email"], c["email_verified"], c["is_private_email"] = "x1@privaterelay.appleid.com", "true", "true"
		return c
	}

	p := newProvider(t, "apple", Config{
		ClientID: "com.example.app",
		Issuer:   idp.srv.URL,
		Extra:    map[string]string{"teamId": "TEAM42", "keyId": "KEY123", "privateKey": keyPEM},
	})
	state, verifier := NewState(), NewVerifier()
	au, _ := url.Parse(p.AuthURL(state, verifier, testRedirect))
	if au.Query().Get("response_mode") != "form_post" || au.Query().Get("scope") != "name email" {
		t.Fatalf("auth URL %s", au)
	}
	code, gotState := authorize(t, au.String())
	if err := CheckState(state, gotState); err != nil {
		t.Fatal(err)
	}
	tok, err := p.Exchange(context.Background(), code, verifier, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	// First login: the name arrives as the "user" form field.
	tok.Extra = map[string]string{"user": `{"name":{"firstName":"Ann","lastName":"Lee"},"email":"x1@privaterelay.appleid.com"}`}
	u, err := p.User(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "subject-1" || u.Name != "Ann Lee" || u.Email != "x1@privaterelay.appleid.com" || !u.EmailVerified {
		t.Fatalf("user = %+v", u)
	}
	// Later logins carry no name.
	tok.Extra = nil
	if u, _ := p.User(context.Background(), tok); u.Name != "" {
		t.Fatalf("name without form field: %q", u.Name)
	}

	if _, err := NewRegistry(nil).New(context.Background(), "apple", Config{ClientID: "a"}); !errors.Is(err, ErrMissingConfig) {
		t.Fatalf("apple without secret: %v", err)
	}
	if _, err := NewRegistry(nil).New(context.Background(), "apple", Config{ClientID: "a",
		Extra: map[string]string{"teamId": "t", "keyId": "k", "privateKey": "garbage"}}); !errors.Is(err, ErrMissingConfig) {
		t.Fatalf("apple with bad key: %v", err)
	}
	if n, err := ParseAppleUser(`{"name":{"firstName":"Bo"}}`); err != nil || n != "Bo" {
		t.Fatalf("ParseAppleUser = %q, %v", n, err)
	}
}

func TestMicrosoft(t *testing.T) {
	t.Parallel()
	const tid = "11111111-2222-3333-4444-555555555555"
	idp := newFakeIDP(t, "/organizations/oauth2/v2.0/authorize", "/organizations/oauth2/v2.0/token", "/organizations/discovery/v2.0/keys")
	iss := ""
	edov := false
	idp.claims = func(nonce string) jwt.MapClaims {
		c := baseClaims(iss, "ms-app", nonce)
		c["tid"], c["email"], c["name"], c["preferred_username"] = tid, "ann@contoso.com", "Ann", "ann@contoso.com"
		if edov {
			c["xms_edov"] = true
		}
		return c
	}
	p := newProvider(t, "microsoft", Config{ClientID: "ms-app", ClientSecret: "s", Issuer: idp.srv.URL,
		Extra: map[string]string{"tenant": "organizations"}})
	login := func() (*User, error) {
		tok, _, err := loginFlow(t, p, nil)
		if err != nil {
			return nil, err
		}
		return p.User(context.Background(), tok)
	}

	set := func(newIss string, newEdov bool) {
		idp.mu.Lock()
		iss, edov = newIss, newEdov
		idp.mu.Unlock()
	}
	set(idp.srv.URL+"/"+tid+"/v2.0", false)
	u, err := login()
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "subject-1" || u.Email != "ann@contoso.com" || u.EmailVerified || u.Username != "ann@contoso.com" {
		t.Fatalf("user = %+v (email must not count as verified without xms_edov)", u)
	}
	set(idp.srv.URL+"/"+tid+"/v2.0", true)
	if u, err = login(); err != nil || !u.EmailVerified {
		t.Fatalf("with xms_edov: %+v, %v", u, err)
	}
	set(idp.srv.URL+"/99999999-2222-3333-4444-555555555555/v2.0", true) // issuer of another tenant than tid
	if _, err := login(); !errors.Is(err, ErrInvalidIDToken) {
		t.Fatalf("issuer/tid mismatch: %v", err)
	}
}
