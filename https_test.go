package plinth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/acmetest"
	"github.com/plinthdev/plinth/internal/testenv"
)

// TestAutomaticHTTPS obtains a certificate from a real ACME server
// (Pebble) on the first TLS handshake, serves the API with it, redirects
// plain HTTP, refuses names it does not serve, and a second instance on
// the same database serves the stored certificate without a new order.
func TestAutomaticHTTPS(t *testing.T) {
	t.Parallel()
	pebble := acmetest.Start(t)
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		hc := plinth.HTTPSConfig{Domains: []string{"plinth.test"}, DirectoryURL: pebble.DirectoryURL, RootCAs: pebble.APIRoots}
		serve := func() (secure, plain string, stop func()) {
			app, err := plinth.New(context.Background(), plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			sl, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- app.ServeHTTPS(ctx, hc, pl, sl) }()
			return sl.Addr().String(), pl.Addr().String(), func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("serve: %v", err)
				}
				app.Close()
			}
		}
		roots := pebble.IssuerRoots(t)
		clientTo := func(addr string) *http.Client {
			return &http.Client{
				Timeout: 60 * time.Second,
				Transport: &http.Transport{
					TLSClientConfig: &tls.Config{RootCAs: roots},
					DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
						return (&net.Dialer{}).DialContext(ctx, network, addr)
					},
				},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
		}
		health := func(addr string) *x509.Certificate {
			t.Helper()
			res, err := clientTo(addr).Get("https://plinth.test/api/health")
			if err != nil {
				t.Fatalf("https: %v", err)
			}
			res.Body.Close()
			if res.StatusCode != 200 || res.TLS == nil {
				t.Fatalf("https health: %d", res.StatusCode)
			}
			return res.TLS.PeerCertificates[0]
		}

		secure, plain, stop := serve()
		first := health(secure)
		if first.Subject.CommonName != "plinth.test" && !strings.Contains(strings.Join(first.DNSNames, ","), "plinth.test") {
			t.Errorf("certificate names %v", first.DNSNames)
		}
		res, err := clientTo(plain).Post("http://plinth.test/api/health?x=1", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		_, port, _ := net.SplitHostPort(secure)
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusPermanentRedirect || loc != "https://plinth.test:"+port+"/api/health?x=1" {
			t.Errorf("plain HTTP: %d %q", res.StatusCode, loc)
		}
		// A name not served gets no certificate (and none is ordered).
		conn, err := tls.Dial("tcp", secure, &tls.Config{ServerName: "other.test", RootCAs: roots})
		if err == nil {
			conn.Close()
			t.Error("handshake for a name not served succeeded")
		}
		stop()

		// Another instance on the same database: the stored certificate.
		secure, _, stop = serve()
		defer stop()
		if again := health(secure); again.SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Errorf("second instance got a new certificate (serial %v, first %v)", again.SerialNumber, first.SerialNumber)
		}
	})
}
