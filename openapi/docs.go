package openapi

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"net/http"
	"strings"
)

// The documentation page renders the document with Redoc (redoc 2.5.4,
// MIT, docsui/REDOC-LICENSE and THIRD-PARTY-LICENSES.txt), vendored as its
// standalone bundle with one change: the URL of the attribution logo on
// Redoc's CDN is blanked (sed 's|https://cdn.redoc.ly/redoc/logo-mini.svg||'),
// so the page makes no third-party request and works offline. The bundle
// is kept gzipped: served as is to browsers that accept gzip (all of
// them), it costs the binary 330 KB instead of 1.1 MB.
//
//go:embed docsui/redoc.standalone.js.gz
var docsUI embed.FS

const redocPath = "docsui/redoc.standalone.js.gz"

// docsPage loads the bundle and points it at the document; no inline
// script, so the page runs under a CSP without 'unsafe-inline' scripts.
const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Plinth API</title>
</head>
<body>
<redoc spec-url="/api/openapi.json"></redoc>
<script src="/api/docs/redoc.standalone.js"></script>
</body>
</html>
`

// docsCSP allows the bundle and the document from this origin only.
// Redoc's styled components write <style> elements and its search runs in
// a worker made from a blob, hence those two allowances.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// DocsHandler serves the documentation page at /api/docs and its script
// at /api/docs/redoc.standalone.js.
func DocsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/docs", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", docsCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		io.WriteString(w, docsPage)
	})
	mux.HandleFunc("GET /api/docs/redoc.standalone.js", func(w http.ResponseWriter, r *http.Request) {
		gz, err := docsUI.ReadFile(redocPath)
		if err != nil {
			http.Error(w, "missing bundle", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			w.Write(gz)
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			http.Error(w, "bad bundle", http.StatusInternalServerError)
			return
		}
		io.Copy(w, zr)
	})
	return mux
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
