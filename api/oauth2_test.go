package api_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/oauth2/oauth2test"
)

func TestMain(m *testing.M) {
	code := m.Run()
	oauth2test.RemoveBinary()
	os.Exit(code)
}

// oauth2Login runs the SDK's manual OAuth2 flow against a real provider:
// auth-methods, the provider's authorization, then auth-with-oauth2.
func (ta *testApp) oauth2Login(coll, provider string, createData map[string]any) (status int, body []byte) {
	ta.t.Helper()
	var methods struct {
		OAuth2 struct {
			Providers []struct{ Name, AuthURL, CodeVerifier, State string }
		}
	}
	ta.mustJSON("GET", "/api/collections/"+coll+"/auth-methods", nil, "", 200, &methods)
	for _, p := range methods.OAuth2.Providers {
		if p.Name != provider {
			continue
		}
		if !strings.HasSuffix(p.AuthURL, "redirect_uri=") {
			ta.t.Fatalf("authURL %s does not end with redirect_uri=", p.AuthURL)
		}
		redirect := ta.srv.URL + "/api/oauth2-redirect"
		loc := oauth2test.Authorize(ta.t, p.AuthURL+redirect)
		if loc.Query().Get("state") != p.State {
			ta.t.Fatalf("state %q, want %q", loc.Query().Get("state"), p.State)
		}
		return ta.do("POST", "/api/collections/"+coll+"/auth-with-oauth2", map[string]any{
			"provider": provider, "code": loc.Query().Get("code"), "codeVerifier": p.CodeVerifier,
			"redirectURL": redirect, "createData": createData,
		}, "")
	}
	ta.t.Fatalf("provider %s not in auth-methods", provider)
	return 0, nil
}

// enableOIDC points the users collection at a provider process.
func (ta *testApp) enableOIDC(srv *oauth2test.Server) {
	ta.t.Helper()
	ta.mustJSON("PATCH", "/api/collections/users", map[string]any{"oauth2": map[string]any{
		"enabled":      true,
		"mappedFields": map[string]any{"name": "name"},
		"providers": []map[string]any{{"name": "oidc", "clientId": srv.ClientID, "clientSecret": srv.ClientSecret,
			"issuer": srv.Issuer, "displayName": "Test IdP"}},
	}}, ta.su, 200, nil)
}

// TestOAuth2 signs up, signs in again and links accounts through a real
// OpenID Connect provider process.
func TestOAuth2(t *testing.T) {
	t.Parallel()
	verified := oauth2test.Start(t, "-sub", "sub-jane", "-email", "jane@example.com")
	unverified := oauth2test.Start(t, "-sub", "sub-mallory", "-email", "ann@example.com", "-email-verified=false")
	linking := oauth2test.Start(t, "-sub", "sub-bob", "-email", "bob@example.com")
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.run(t, []scenario{
			{name: "disabled provider", method: "POST", path: "/api/collections/users/auth-with-oauth2",
				body: map[string]any{"provider": "oidc", "code": "x", "redirectURL": "http://x"}, status: 400, want: []string{`validation_invalid_provider`}},
			{name: "missing fields", method: "POST", path: "/api/collections/users/auth-with-oauth2", body: map[string]any{}, status: 400,
				want: []string{`"provider":{"code":"validation_required"`, `"code":{"code":"validation_required"`}},
		})
		ta.enableOIDC(verified)
		ta.run(t, []scenario{{name: "auth-methods lists the provider", method: "GET", path: "/api/collections/users/auth-methods", status: 200,
			want:    []string{`"oauth2":{"enabled":true`, `"name":"oidc"`, `"displayName":"Test IdP"`, `"codeChallengeMethod":"S256"`},
			notWant: []string{verified.ClientSecret}}})

		status, body := ta.oauth2Login("users", "oidc", map[string]any{"emailVisibility": true})
		if status != 200 || !strings.Contains(string(body), `"isNew":true`) || !strings.Contains(string(body), `"email":"jane@example.com"`) ||
			!strings.Contains(string(body), `"verified":true`) || !strings.Contains(string(body), `"emailVisibility":true`) {
			t.Fatalf("first login: %d %s", status, body)
		}
		status, body = ta.oauth2Login("users", "oidc", nil)
		if status != 200 || !strings.Contains(string(body), `"isNew":false`) {
			t.Fatalf("second login: %d %s", status, body)
		}
		var links struct{ TotalItems int }
		ta.mustJSON("GET", "/api/collections/_externalAuths/records", nil, ta.su, 200, &links)
		if links.TotalItems != 1 {
			t.Errorf("%d external auths after two logins of one user, want 1", links.TotalItems)
		}

		// An existing account is linked when the provider verified the email
		// (an unverified one loses its password and tokens on the way: see
		// TestOAuth2PreAccountTakeover)...
		bobID, _ := ta.signUp("bob@example.com")
		ta.enableOIDC(linking)
		status, body = ta.oauth2Login("users", "oidc", nil)
		if status != 200 || !strings.Contains(string(body), `"id":"`+bobID+`"`) || !strings.Contains(string(body), `"isNew":false`) {
			t.Fatalf("linking login: %d %s", status, body)
		}
		var linked struct{ Token string }
		if err := json.Unmarshal(body, &linked); err != nil {
			t.Fatal(err)
		}
		bobTok := linked.Token
		ta.run(t, []scenario{
			{name: "bob sees his link", method: "GET", path: "/api/collections/_externalAuths/records", as: bobTok, status: 200,
				want: []string{`"totalItems":1`, `"provider":"oidc"`, `"providerId":"sub-bob"`}},
			{name: "a guest sees none", method: "GET", path: "/api/collections/_externalAuths/records", status: 200, want: []string{`"totalItems":0`}},
		})

		// ...and not when it did not: that would be an account takeover.
		ta.signUp("ann@example.com")
		ta.enableOIDC(unverified)
		status, body = ta.oauth2Login("users", "oidc", nil)
		if status != 400 || !strings.Contains(string(body), `validation_email_not_verified`) {
			t.Fatalf("unverified email login: %d %s", status, body)
		}

		// Deleting a user deletes its links.
		ta.mustJSON("DELETE", "/api/collections/users/records/"+bobID, nil, ta.su, 204, nil)
		ta.run(t, []scenario{{name: "links of a deleted user go", method: "GET", path: "/api/collections/_externalAuths/records?filter=" + "recordRef%3D%27" + bobID + "%27",
			as: "su", status: 200, want: []string{`"totalItems":0`}}})

		// A made-up code is refused.
		ta.run(t, []scenario{{name: "bogus code", method: "POST", path: "/api/collections/users/auth-with-oauth2",
			body:   map[string]any{"provider": "oidc", "code": "bogus", "codeVerifier": strings.Repeat("a", 43), "redirectURL": ta.srv.URL + "/api/oauth2-redirect"},
			status: 400}})
	})
}
