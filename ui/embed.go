// Package ui embeds Plinth's admin dashboard: the Vite build in dist/,
// committed to the repository so that `go build` never needs Node (CI
// rebuilds it and fails if the committed output differs; see
// docs/dashboard.md). Handler serves it under a path prefix such as /_/.
package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// CSP is the dashboard's Content-Security-Policy: scripts, styles and
// everything else come from the dashboard itself (no inline script, no
// CDN); the API is same-origin. Images may also be blob: and data: URLs
// (previews of files chosen for upload). index.html adds a per-response
// style nonce (see nonceMeta).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"font-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// nonceMeta is the empty meta tag of index.html that each response fills
// with a fresh nonce: CodeMirror injects its styles in <style> elements,
// which style-src allows only with that nonce (EditorView.cspNonce).
var nonceMeta = []byte(`<meta name="csp-nonce" content="">`)

// asset is one file of the build, with its gzip form when that is smaller.
type asset struct {
	body  []byte
	gz    []byte
	etag  string
	ctype string
	// immutable: the name carries a content hash (Vite's assets/ dir).
	immutable bool
	// page: index.html, which carries the per-response style nonce.
	page bool
}

// handler serves the embedded build.
type handler struct {
	prefix string
	files  fs.FS
	mu     sync.Mutex
	cache  map[string]*asset
}

// Handler serves the dashboard under prefix (which must end in "/", e.g.
// "/_/"). Hashed assets are cached for a year as immutable; index.html
// is revalidated on every load (no-cache with an ETag), and any path that
// is not a file is answered with index.html so the client router can take
// it. Text assets are sent gzip-compressed to clients that accept it.
func Handler(prefix string) http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist exists
	}
	return &handler{prefix: prefix, files: sub, cache: map[string]*asset{}}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, h.prefix)
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	a := h.asset(name)
	if a == nil {
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" && name != "index.html" {
			// A missing script or image must not be answered with HTML.
			http.NotFound(w, r)
			return
		}
		a = h.asset("index.html")
		if a == nil {
			http.Error(w, "dashboard not built", http.StatusNotFound)
			return
		}
	}
	hd := w.Header()
	csp := CSP
	if a.page {
		// The page itself: a fresh style nonce per response, so it is never
		// served from a cache (no ETag) and never compressed ahead.
		b := make([]byte, 18)
		rand.Read(b)
		nonce := base64.StdEncoding.EncodeToString(b)
		csp = strings.Replace(CSP, "style-src 'self'", "style-src 'self' 'nonce-"+nonce+"'", 1)
		body := bytes.Replace(a.body, nonceMeta, []byte(`<meta name="csp-nonce" content="`+nonce+`">`), 1)
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-cache")
		hd.Set("Content-Type", a.ctype)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		return
	}
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if a.immutable {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	hd.Set("Content-Type", a.ctype)
	hd.Set("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	if a.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// asset loads and caches one file of the build; nil if there is none.
func (h *handler) asset(name string) *asset {
	if name == "" {
		name = "index.html"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.cache[name]; ok {
		return a
	}
	body, err := fs.ReadFile(h.files, name)
	if err != nil {
		return nil // not cached: the set of names asked for is unbounded
	}
	sum := sha256.Sum256(body)
	a := &asset{
		body:      body,
		etag:      `"` + hex.EncodeToString(sum[:8]) + `"`,
		ctype:     mime.TypeByExtension(path.Ext(name)),
		immutable: strings.HasPrefix(name, "assets/"),
		page:      name == "index.html",
	}
	if a.ctype == "" {
		a.ctype = "application/octet-stream"
	}
	if compressible(a.ctype) && len(body) > 512 && !a.page {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			a.gz = buf.Bytes()
		}
	}
	h.cache[name] = a
	return a
}

func compressible(ctype string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg"} {
		if strings.HasPrefix(ctype, p) {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether the request accepts gzip (q=0 excluded).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") || strings.TrimSpace(enc) == "*" {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}
