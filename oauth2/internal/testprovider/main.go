// Command testprovider runs a real OpenID Connect provider (mockoidc) as a
// separate process for the oauth2 package's end-to-end tests.
//
// It listens on 127.0.0.1 with a port chosen by the kernel and prints one
// JSON line to stdout: {"issuer","client_id","client_secret","addr"}. The
// authorization endpoint approves every request at once, as the configured
// user. The process exits when its standard input is closed, so it never
// outlives the test that started it.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	clientID := flag.String("client-id", "plinth-test-client", "OAuth2 client ID")
	clientSecret := flag.String("client-secret", "plinth-test-secret", "OAuth2 client secret")
	advertise := flag.String("advertise", "", "host:port to put in the issuer instead of the listen address (to mint tokens that claim another provider's issuer)")
	subject := flag.String("sub", "user-1234", "subject of the approved user")
	email := flag.String("email", "jane@example.com", "e-mail of the approved user")
	verified := flag.Bool("email-verified", true, "email_verified claim")
	username := flag.String("username", "jane", "preferred_username claim")
	clock := flag.Duration("clock", 0, "offset added to the provider's clock (negative values mint expired tokens)")
	flag.Parse()

	// mockoidc's default key is a constant shared by every instance; each
	// process gets its own so that tokens of one do not verify at another.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	m, err := mockoidc.NewServer(key)
	if err != nil {
		log.Fatal(err)
	}
	m.ClientID, m.ClientSecret = *clientID, *clientSecret
	m.CodeChallengeMethodsSupported = []string{"S256"}
	if *clock != 0 {
		m.FastForward(*clock)
	}
	user := &mockoidc.MockUser{
		Subject:           *subject,
		Email:             *email,
		EmailVerified:     *verified,
		PreferredUsername: *username,
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc(mockoidc.AuthorizationEndpoint, func(w http.ResponseWriter, r *http.Request) {
		m.QueueUser(user) // every login is the configured user
		m.Authorize(w, r)
	})
	mux.HandleFunc(mockoidc.TokenEndpoint, m.Token)
	mux.HandleFunc(mockoidc.UserinfoEndpoint, m.Userinfo)
	mux.HandleFunc(mockoidc.JWKSEndpoint, m.JWKS)
	mux.HandleFunc(mockoidc.DiscoveryEndpoint, m.Discovery)
	// mockoidc derives its issuer from Server.Addr; serving through our own
	// listener lets -advertise choose it. mockoidc keeps sessions in a plain
	// map, so requests are serialised.
	m.Server = &http.Server{Addr: or(*advertise, addr), Handler: serial(mux), ReadHeaderTimeout: 10 * time.Second}

	out, _ := json.Marshal(map[string]string{
		"issuer":        m.Issuer(),
		"client_id":     m.ClientID,
		"client_secret": m.ClientSecret,
		"addr":          addr,
	})
	fmt.Println(string(out))

	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := m.Server.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// serial runs one request at a time.
func serial(h http.Handler) http.Handler {
	lock := make(chan struct{}, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lock <- struct{}{}
		defer func() { <-lock }()
		h.ServeHTTP(w, r)
	})
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
