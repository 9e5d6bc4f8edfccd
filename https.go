package plinth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/plinthdev/plinth/store"
)

// HTTPSConfig turns on automatic HTTPS: certificates for Domains are
// obtained and renewed by ACME (Let's Encrypt unless DirectoryURL says
// otherwise) and kept in the database, so that every instance serving the
// domains shares them.
type HTTPSConfig struct {
	// Domains are the host names to serve; a TLS handshake for any other
	// name is refused (no certificate is requested for it).
	Domains []string
	// Addr is the TLS listen address of the command line's serve
	// (default ":443"); ServeHTTPS takes listeners.
	Addr string
	// DirectoryURL is the ACME directory; empty: Let's Encrypt production.
	DirectoryURL string
	// Email is the contact address of the ACME account (optional).
	Email string
	// RootCAs, when set, are the roots trusted for the ACME server's own
	// TLS certificate (a private ACME server; tests).
	RootCAs *x509.CertPool
}

// ServeHTTPS serves the API over TLS on secure with certificates from
// ACME, and on plain answers ACME's http-01 challenges and redirects
// everything else to HTTPS. It returns when ctx is done, as
// ServeListener does.
func (a *App) ServeHTTPS(ctx context.Context, hc HTTPSConfig, plain, secure net.Listener) error {
	if len(hc.Domains) == 0 {
		return errors.New("https: no domains")
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(hc.Domains...),
		Cache:      paramCache{a.store},
		Email:      hc.Email,
	}
	if hc.DirectoryURL != "" || hc.RootCAs != nil {
		client := &acme.Client{DirectoryURL: hc.DirectoryURL}
		if hc.RootCAs != nil {
			client.HTTPClient = &http.Client{Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: hc.RootCAs, MinVersion: tls.VersionTLS12},
			}}
		}
		m.Client = client
	}
	redirect := &http.Server{
		Handler:           m.HTTPHandler(httpsRedirect(secure.Addr())),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
	}
	go redirect.Serve(plain)
	defer redirect.Close()
	tlsConfig := m.TLSConfig()
	tlsConfig.MinVersion = tls.VersionTLS12
	a.log.Info("automatic HTTPS", "domains", strings.Join(hc.Domains, ","), "https", secure.Addr().String(), "http", plain.Addr().String())
	return a.ServeListener(ctx, tls.NewListener(secure, tlsConfig))
}

// httpsRedirect sends plain-HTTP requests to the same URL over HTTPS,
// with the HTTPS port when it is not the default. 308 keeps the method
// and body, so that an API client posting to http:// is not turned into
// a GET.
func httpsRedirect(secure net.Addr) http.Handler {
	port := ""
	if _, p, err := net.SplitHostPort(secure.String()); err == nil && p != "443" {
		port = p
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "Missing Host header.", http.StatusBadRequest)
			return
		}
		if port != "" {
			host = net.JoinHostPort(host, port)
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// paramCache keeps ACME state (account key, certificates, http-01 tokens)
// in the database's parameters, shared by every instance on one database:
// a challenge asked of one instance can be answered by another, and a
// certificate obtained once serves them all.
type paramCache struct{ store *store.Store }

const acmeParamPrefix = "acme:"

// Get implements autocert.Cache.
func (c paramCache) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := c.store.Param(ctx, acmeParamPrefix+key)
	if err != nil {
		return nil, fmt.Errorf("acme cache: %w", err)
	}
	if v == "" {
		return nil, autocert.ErrCacheMiss
	}
	return base64.StdEncoding.DecodeString(v)
}

// Put implements autocert.Cache.
func (c paramCache) Put(ctx context.Context, key string, data []byte) error {
	return c.store.SetParam(ctx, acmeParamPrefix+key, base64.StdEncoding.EncodeToString(data))
}

// Delete implements autocert.Cache (an empty value reads as a miss).
func (c paramCache) Delete(ctx context.Context, key string) error {
	return c.store.SetParam(ctx, acmeParamPrefix+key, "")
}
