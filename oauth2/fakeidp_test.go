package oauth2

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeIDP is an in-process stand-in for providers whose endpoint layout
// differs from discovery (Apple, Microsoft): a JWKS, an authorize endpoint
// that remembers the nonce, and a token endpoint that signs the claims the
// test asks for.
type fakeIDP struct {
	srv        *httptest.Server
	key        *rsa.PrivateKey
	mu         sync.Mutex
	nonce      string
	claims     func(nonce string) jwt.MapClaims
	checkToken func(form url.Values) bool
}

func newFakeIDP(t *testing.T, authPath, tokenPath, keysPath string) *fakeIDP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIDP{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc(keysPath, func(w http.ResponseWriter, r *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc(authPath, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.nonce = r.URL.Query().Get("nonce")
		f.mu.Unlock()
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?code=c0de&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
	})
	mux.HandleFunc(tokenPath, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("code") != "c0de" || r.PostForm.Get("code_verifier") == "" ||
			(f.checkToken != nil && !f.checkToken(r.PostForm)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		f.mu.Lock()
		claims := f.claims(f.nonce)
		f.mu.Unlock()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "k1"
		idt, err := tok.SignedString(key)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "at-fake", "token_type": "Bearer", "expires_in": 3600, "id_token": idt,
		})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func baseClaims(iss, aud, nonce string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": iss, "aud": aud, "nonce": nonce, "sub": "subject-1",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
}
