package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/plinthdev/plinth"
)

// httpsFlags registers the automatic-HTTPS flags; the returned function
// reads the ACME server's CA file once the flags are parsed.
func httpsFlags(fs *flag.FlagSet, cfg *plinth.Config, env func(key, def string) string) (loadCA func() error) {
	domains := fs.String("https", env("HTTPS", ""), "serve HTTPS for these comma-separated domains with certificates from Let's Encrypt; --http then answers ACME challenges and redirects (default :80) (PLINTH_HTTPS)")
	fs.StringVar(&cfg.HTTPS.Addr, "https-addr", env("HTTPS_ADDR", ":443"), "HTTPS listen address with --https (PLINTH_HTTPS_ADDR)")
	fs.StringVar(&cfg.HTTPS.DirectoryURL, "acme-directory", env("ACME_DIRECTORY", ""), "ACME directory URL; empty is Let's Encrypt production (PLINTH_ACME_DIRECTORY)")
	fs.StringVar(&cfg.HTTPS.Email, "acme-email", env("ACME_EMAIL", ""), "contact email of the ACME account (PLINTH_ACME_EMAIL)")
	caFile := fs.String("acme-ca-cert", env("ACME_CA_CERT", ""), "PEM file of the CA that signed a private ACME server's own TLS certificate (PLINTH_ACME_CA_CERT)")
	return func() error {
		for _, d := range strings.Split(*domains, ",") {
			if d = strings.TrimSpace(d); d != "" {
				cfg.HTTPS.Domains = append(cfg.HTTPS.Domains, d)
			}
		}
		if *caFile == "" {
			return nil
		}
		data, err := os.ReadFile(*caFile)
		if err != nil {
			return fmt.Errorf("--acme-ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return fmt.Errorf("--acme-ca-cert: %s holds no PEM certificate", *caFile)
		}
		cfg.HTTPS.RootCAs = pool
		return nil
	}
}

// flagGiven reports whether the flag name was set on the command line
// or through its PLINTH_ variable.
func flagGiven(args []string, getenv func(string) string, name string) bool {
	if getenv("PLINTH_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))) != "" {
		return true
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && n == name {
			return true
		}
	}
	return false
}

// serveHTTPS is serve with --https: TLS on --https-addr, and on --http
// (":80" unless given) the ACME challenges and redirects to HTTPS.
func serveHTTPS(ctx context.Context, app *plinth.App, cfg plinth.Config, httpGiven bool, stdout io.Writer) error {
	plainAddr := cfg.HTTPAddr
	if !httpGiven {
		plainAddr = ":80"
	}
	plain, err := net.Listen("tcp", plainAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	secure, err := net.Listen("tcp", cfg.HTTPS.Addr)
	if err != nil {
		plain.Close()
		return fmt.Errorf("listen: %w", err)
	}
	base := "https://" + cfg.HTTPS.Domains[0]
	if _, port, err := net.SplitHostPort(secure.Addr().String()); err == nil && port != "443" {
		base += ":" + port
	}
	if err := printURLsAt(ctx, app, base, stdout); err != nil {
		secure.Close()
		plain.Close()
		return err
	}
	return app.ServeHTTPS(ctx, cfg.HTTPS, plain, secure)
}
