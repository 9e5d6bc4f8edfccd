package oauth2

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/oauth2/oauth2test"
)

// The OpenID Connect end-to-end tests run a real provider (mockoidc, see
// internal/testprovider) as a separate process, through oauth2test.

func TestMain(m *testing.M) {
	code := m.Run()
	oauth2test.RemoveBinary()
	os.Exit(code)
}

func startProvider(t *testing.T, args ...string) *oauth2test.Server {
	return oauth2test.Start(t, args...)
}

const testRedirect = "http://127.0.0.1:1/api/oauth2-redirect"

// authorize runs the provider's authorization and returns the code and
// state of its redirect, which must go to testRedirect.
func authorize(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	loc := oauth2test.Authorize(t, authURL)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		t.Fatalf("redirected to %s, want %s", got, testRedirect)
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}

func newProvider(t *testing.T, name string, cfg Config) Provider {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := NewRegistry(nil).New(ctx, name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// loginFlow runs AuthURL -> provider -> callback -> Exchange.
func loginFlow(t *testing.T, p Provider, tamper func(url.Values)) (*Token, string, error) {
	t.Helper()
	state, verifier := NewState(), NewVerifier()
	authURL := p.AuthURL(state, verifier, testRedirect)
	if tamper != nil {
		u, err := url.Parse(authURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		tamper(q)
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	code, gotState := authorize(t, authURL)
	if err := CheckState(state, gotState); err != nil {
		t.Fatalf("state: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := p.Exchange(ctx, code, verifier, testRedirect)
	return tok, code, err
}

func TestOIDCEndToEnd(t *testing.T) {
	t.Parallel()
	srv := startProvider(t)
	p := newProvider(t, "oidc", Config{Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})

	state, verifier := NewState(), NewVerifier()
	au, err := url.Parse(p.AuthURL(state, verifier, testRedirect))
	if err != nil {
		t.Fatal(err)
	}
	q := au.Query()
	for k, want := range map[string]string{
		"client_id":             srv.ClientID,
		"response_type":         "code",
		"redirect_uri":          testRedirect,
		"state":                 state,
		"code_challenge":        Challenge(verifier),
		"code_challenge_method": "S256",
		"nonce":                 nonceFor(verifier),
		"scope":                 "openid email profile",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("auth URL %s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(au.String(), verifier) {
		t.Error("the auth URL leaks the code verifier")
	}

	code, gotState := authorize(t, au.String())
	if err := CheckState(state, gotState); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := p.Exchange(ctx, code, verifier, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.IDToken == "" || tok.Claims["sub"] != "user-1234" {
		t.Fatalf("token = %+v", tok)
	}
	u, err := p.User(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "user-1234" || u.Email != "jane@example.com" || !u.EmailVerified || u.Username != "jane" {
		t.Fatalf("user = %+v", u)
	}
	if p.Name() != "oidc" || p.DisplayName() == "" {
		t.Errorf("names %q %q", p.Name(), p.DisplayName())
	}

	// A code is good for one exchange only.
	if _, err := p.Exchange(ctx, code, verifier, testRedirect); err == nil {
		t.Error("second exchange of the same code succeeded")
	}
}

func TestOIDCPKCEVerifierMismatch(t *testing.T) {
	t.Parallel()
	srv := startProvider(t)
	p := newProvider(t, "oidc", Config{Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
	state := NewState()
	code, _ := authorize(t, p.AuthURL(state, NewVerifier(), testRedirect))
	_, err := p.Exchange(context.Background(), code, NewVerifier(), testRedirect)
	if err == nil || !strings.Contains(err.Error(), "verifier") {
		t.Fatalf("exchange with another verifier: %v", err)
	}
	if _, err := p.Exchange(context.Background(), code, "short", testRedirect); !errors.Is(err, ErrInvalidVerifier) {
		t.Fatalf("malformed verifier: %v", err)
	}
}

func TestOIDCEmailNotVerified(t *testing.T) {
	t.Parallel()
	srv := startProvider(t, "-email-verified=false", "-email=bob@example.com", "-sub=bob")
	p := newProvider(t, "oidc", Config{Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
	tok, _, err := loginFlow(t, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := p.User(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "bob" || u.Email != "bob@example.com" || u.EmailVerified {
		t.Fatalf("user = %+v", u)
	}
}

func TestOIDCWrongNonce(t *testing.T) {
	t.Parallel()
	srv := startProvider(t)
	p := newProvider(t, "oidc", Config{Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
	// An ID token minted for another authorization request (another nonce)
	// must be refused even though the code and the PKCE verifier match.
	_, _, err := loginFlow(t, p, func(q url.Values) { q.Set("nonce", nonceFor(NewVerifier())) })
	if !errors.Is(err, ErrNonceMismatch) {
		t.Fatalf("err = %v, want ErrNonceMismatch", err)
	}
	_, _, err = loginFlow(t, p, func(q url.Values) { q.Del("nonce") })
	if !errors.Is(err, ErrNonceMismatch) {
		t.Fatalf("no nonce: err = %v, want ErrNonceMismatch", err)
	}
}

func TestOIDCForeignSignature(t *testing.T) {
	t.Parallel()
	real := startProvider(t)
	// The impostor claims the real provider's issuer and knows the client
	// credentials, but signs with its own key.
	impostor := startProvider(t, "-advertise="+real.Addr)
	p := newProvider(t, "oidc", Config{
		Issuer:       real.Issuer,
		ClientID:     real.ClientID,
		ClientSecret: real.ClientSecret,
		AuthURL:      "http://" + impostor.Addr + "/oidc/authorize",
		TokenURL:     "http://" + impostor.Addr + "/oidc/token",
	})
	_, _, err := loginFlow(t, p, nil)
	if !errors.Is(err, ErrInvalidIDToken) || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("err = %v, want an invalid signature", err)
	}
}

func TestOIDCWrongIssuer(t *testing.T) {
	t.Parallel()
	real := startProvider(t)
	other := startProvider(t)
	p := newProvider(t, "oidc", Config{
		Issuer:       real.Issuer,
		ClientID:     real.ClientID,
		ClientSecret: real.ClientSecret,
		AuthURL:      "http://" + other.Addr + "/oidc/authorize",
		TokenURL:     "http://" + other.Addr + "/oidc/token",
	})
	_, _, err := loginFlow(t, p, nil)
	if !errors.Is(err, ErrInvalidIDToken) {
		t.Fatalf("err = %v, want ErrInvalidIDToken", err)
	}
}

func TestOIDCExpiredIDToken(t *testing.T) {
	t.Parallel()
	srv := startProvider(t, "-clock=-2h")
	p := newProvider(t, "oidc", Config{Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
	_, _, err := loginFlow(t, p, nil)
	if !errors.Is(err, ErrInvalidIDToken) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("err = %v, want an expired token", err)
	}
}

func TestGoogleAgainstRealProvider(t *testing.T) {
	t.Parallel()
	srv := startProvider(t)
	p := newProvider(t, "google", Config{Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
	tok, _, err := loginFlow(t, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := p.User(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "google" || u.Email != "jane@example.com" || !u.EmailVerified {
		t.Fatalf("%s user = %+v", p.Name(), u)
	}
}

func TestOIDCDiscoveryFailure(t *testing.T) {
	t.Parallel()
	srv := startProvider(t)
	_, err := NewRegistry(nil).New(context.Background(), "oidc", Config{Issuer: srv.Issuer + "/nope", ClientID: "x"})
	if err == nil {
		t.Fatal("discovery of a wrong issuer succeeded")
	}
	if _, err := NewRegistry(nil).New(context.Background(), "oidc", Config{ClientID: "x"}); !errors.Is(err, ErrMissingConfig) {
		t.Fatalf("missing issuer: %v", err)
	}
}
