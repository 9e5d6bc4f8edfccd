package oauth2

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// Compile-time checks that every provider type implements Provider.
var (
	_ Provider = (*oidcProvider)(nil)
	_ Provider = (*githubProvider)(nil)
	_ Provider = (*gitlabProvider)(nil)
	_ Provider = (*discordProvider)(nil)
	_ Provider = (*facebookProvider)(nil)
	_ Provider = (*xProvider)(nil)
)

// fakeAPI mimics the token endpoint and profile APIs of the plain OAuth2
// providers.
func fakeAPI(t *testing.T, verifier string, routes map[string]string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, basic := r.BasicAuth()
		if !basic {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if id != "cid" || secret != "csecret" || r.PostForm.Get("code") != "c0de" ||
			r.PostForm.Get("code_verifier") != verifier || r.PostForm.Get("grant_type") != "authorization_code" ||
			r.PostForm.Get("redirect_uri") != testRedirect {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at-123","token_type":"bearer","expires_in":3600}`)
	})
	for path, body := range routes {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer at-123" {
				http.Error(w, `{"message":"bad token"}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestPlainProviders(t *testing.T) {
	t.Parallel()
	verifier := NewVerifier()
	cases := []struct {
		name, userPath string
		routes         map[string]string
		scope          string
		want           User
	}{
		{
			name: "github", userPath: "/user", scope: "read:user user:email",
			routes: map[string]string{
				"/user":        `{"id":9007199254740993,"login":"octo","name":"Octo Cat","email":"public@example.com","avatar_url":"https://a/o.png"}`,
				"/user/emails": `[{"email":"old@example.com","primary":false,"verified":true},{"email":"octo@example.com","primary":true,"verified":true}]`,
			},
			want: User{ID: "9007199254740993", Name: "Octo Cat", Username: "octo", Email: "octo@example.com", EmailVerified: true, AvatarURL: "https://a/o.png"},
		},
		{
			name: "github", userPath: "/user", scope: "read:user user:email",
			routes: map[string]string{
				"/user":        `{"id":7,"login":"nov","email":"pub@example.com"}`,
				"/user/emails": `[{"email":"nov@example.com","primary":true,"verified":false}]`,
			},
			want: User{ID: "7", Name: "", Username: "nov", Email: "pub@example.com", EmailVerified: false},
		},
		{
			name: "gitlab", userPath: "/api/v4/user", scope: "read_user",
			routes: map[string]string{"/api/v4/user": `{"id":42,"username":"gl","name":"Git Lab","email":"gl@example.com","avatar_url":"https://a/g.png","confirmed_at":"2020-01-01T00:00:00Z"}`},
			want:   User{ID: "42", Name: "Git Lab", Username: "gl", Email: "gl@example.com", EmailVerified: true, AvatarURL: "https://a/g.png"},
		},
		{
			name: "gitlab", userPath: "/api/v4/user", scope: "read_user",
			routes: map[string]string{"/api/v4/user": `{"id":43,"username":"gl2","email":"gl2@example.com","confirmed_at":null}`},
			want:   User{ID: "43", Username: "gl2", Email: "gl2@example.com"},
		},
		{
			name: "discord", userPath: "/users/@me", scope: "identify email",
			routes: map[string]string{"/users/@me": `{"id":"80351110224678912","username":"nelly","global_name":"Nelly","email":"nelly@example.com","verified":true,"avatar":"8342729096ea3675442027381ff50dfe"}`},
			want: User{ID: "80351110224678912", Name: "Nelly", Username: "nelly", Email: "nelly@example.com", EmailVerified: true,
				AvatarURL: "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"},
		},
		{
			name: "discord", userPath: "/users/@me", scope: "identify email",
			routes: map[string]string{"/users/@me": `{"id":"1","username":"u","email":"u@example.com","verified":false,"avatar":null}`},
			want:   User{ID: "1", Name: "u", Username: "u", Email: "u@example.com"},
		},
		{
			name: "facebook", userPath: "/me", scope: "email public_profile",
			routes: map[string]string{"/me": `{"id":"10158","name":"Fay Book","email":"fay@example.com","picture":{"data":{"url":"https://a/f.jpg"}}}`},
			want:   User{ID: "10158", Name: "Fay Book", Email: "fay@example.com", EmailVerified: true, AvatarURL: "https://a/f.jpg"},
		},
		{
			name: "x", userPath: "/2/users/me", scope: "users.read tweet.read",
			routes: map[string]string{"/2/users/me": `{"data":{"id":"2244994945","name":"X Dev","username":"xdevelopers","profile_image_url":"https://a/x.jpg"}}`},
			want:   User{ID: "2244994945", Name: "X Dev", Username: "xdevelopers", AvatarURL: "https://a/x.jpg"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeAPI(t, verifier, tc.routes)
			p := newProvider(t, tc.name, Config{
				ClientID: "cid", ClientSecret: "csecret",
				AuthURL: "https://idp.example/authorize", TokenURL: srv.URL + "/token",
				UserInfoURL: srv.URL + tc.userPath,
			})
			if p.Name() != tc.name || p.DisplayName() == "" {
				t.Fatalf("names %q %q", p.Name(), p.DisplayName())
			}
			au, err := url.Parse(p.AuthURL("st4te", verifier, testRedirect))
			if err != nil {
				t.Fatal(err)
			}
			q := au.Query()
			if q.Get("state") != "st4te" || q.Get("client_id") != "cid" || q.Get("code_challenge") != Challenge(verifier) ||
				q.Get("code_challenge_method") != "S256" || q.Get("scope") != tc.scope || q.Get("redirect_uri") != testRedirect {
				t.Fatalf("auth URL %s", au)
			}
			ctx := context.Background()
			if _, err := p.Exchange(ctx, "wrong", verifier, testRedirect); err == nil {
				t.Fatal("exchange with a wrong code succeeded")
			}
			tok, err := p.Exchange(ctx, "c0de", verifier, testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			u, err := p.User(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if u.Raw == nil {
				t.Error("Raw is nil")
			}
			u.Raw = nil
			if !reflect.DeepEqual(*u, tc.want) {
				t.Fatalf("user = %+v\nwant   %+v", *u, tc.want)
			}
			if _, err := p.User(ctx, &Token{AccessToken: "revoked"}); !errors.Is(err, ErrUserInfo) {
				t.Fatalf("bad token: %v", err)
			}
		})
	}
}

func TestDefaultEndpoints(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"github":    "https://github.com/login/oauth/authorize",
		"gitlab":    "https://gitlab.com/oauth/authorize",
		"discord":   "https://discord.com/oauth2/authorize",
		"facebook":  "https://www.facebook.com/",
		"x":         "https://x.com/i/oauth2/authorize",
		"google":    "https://accounts.google.com/o/oauth2/v2/auth",
		"microsoft": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		"apple":     "https://appleid.apple.com/auth/authorize",
	}
	reg := NewRegistry(nil)
	for name, prefix := range want {
		// None of these constructors contacts the network.
		p, err := reg.New(context.Background(), name, Config{ClientID: "cid", ClientSecret: "s"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if u := p.AuthURL("s", NewVerifier(), testRedirect); !strings.HasPrefix(u, prefix) {
			t.Errorf("%s auth URL %s, want prefix %s", name, u, prefix)
		}
	}
	if got := strings.Join(reg.Names(), ","); got != "apple,discord,facebook,github,gitlab,google,microsoft,oidc,x" {
		t.Errorf("Names() = %s", got)
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	reg := NewRegistry(nil)
	if _, err := reg.New(context.Background(), "myspace", Config{ClientID: "a"}); !errors.Is(err, ErrUnknownProvider) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := reg.New(context.Background(), "github", Config{}); !errors.Is(err, ErrMissingConfig) {
		t.Fatalf("no client id: %v", err)
	}
	reg.Register("custom", func(ctx context.Context, cfg Config, hc *http.Client) (Provider, error) {
		return builtins["github"](ctx, cfg, hc)
	})
	if _, err := reg.New(context.Background(), "custom", Config{ClientID: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRegistry(nil).New(context.Background(), "custom", Config{ClientID: "a"}); err == nil {
		t.Fatal("registration leaked into another registry")
	}
}

func TestPKCEAndState(t *testing.T) {
	t.Parallel()
	v := NewVerifier()
	if len(v) != 43 || !validVerifier(v) || v == NewVerifier() {
		t.Fatalf("verifier %q", v)
	}
	// RFC 7636 appendix B.
	if got := Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("Challenge = %s", got)
	}
	for _, bad := range []string{"", "short", strings.Repeat("a", 129), strings.Repeat("a", 42) + "+"} {
		if validVerifier(bad) {
			t.Errorf("validVerifier(%q) = true", bad)
		}
	}
	s := NewState()
	if len(s) < 43 || s == NewState() {
		t.Fatalf("state %q", s)
	}
	if err := CheckState(s, s); err != nil {
		t.Fatal(err)
	}
	for _, got := range []string{"", s + "x", NewState()} {
		if err := CheckState(s, got); !errors.Is(err, ErrStateMismatch) {
			t.Errorf("CheckState(%q) = %v", got, err)
		}
	}
	if err := CheckState("", ""); !errors.Is(err, ErrStateMismatch) {
		t.Error("empty expected state matched")
	}
	first, again := nonceFor(v), nonceFor(v)
	if first == Challenge(v) || first != again || first == nonceFor(NewVerifier()) {
		t.Error("nonce derivation")
	}
}
