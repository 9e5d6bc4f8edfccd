package files_test

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/files"
)

func serveStore(t *testing.T, objects map[string][2]string) files.Storage {
	t.Helper()
	st := newLocal(t)
	for key, v := range objects { // content type, content
		if err := st.Put(context.Background(), key, strings.NewReader(v[1]), int64(len(v[1])), v[0]); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func serve(t *testing.T, st files.Storage, key string, opts files.ServeOptions, method string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/api/files/"+key, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	if err := files.Serve(rec, req, st, key, opts); err != nil {
		t.Fatalf("Serve(%q): %v", key, err)
	}
	return rec
}

func TestServeHeaders(t *testing.T) {
	t.Parallel()
	st := serveStore(t, map[string][2]string{
		"c/r/pic_abc.png":  {"image/png", "\x89PNG\r\n\x1a\nfake"},
		"c/r/page_abc.jpg": {"text/html; charset=utf-8", "<html><script>alert(1)</script></html>"},
		"c/r/draw_abc.svg": {"image/svg+xml", "<svg/>"},
		"c/r/doc_abc.pdf":  {"application/pdf", "%PDF-1.4"},
		"c/r/a_abc.txt":    {"text/plain; charset=utf-8", "hello"},
		"c/r/x_abc.xml":    {"text/xml; charset=utf-8", "<a/>"},
		"c/r/s_abc.js":     {"text/javascript", "alert(1)"},
		"c/r/v_abc.mp4":    {"video/mp4", "...."},
		"c/r/z_abc.zip":    {"application/zip", "PK"},
	})
	for _, tt := range []struct {
		key, ct string
		inline  bool
	}{
		{"c/r/pic_abc.png", "image/png", true},
		{"c/r/page_abc.jpg", "text/html; charset=utf-8", false}, // the stored type wins over the name
		{"c/r/draw_abc.svg", "image/svg+xml", false},
		{"c/r/doc_abc.pdf", "application/pdf", true},
		{"c/r/a_abc.txt", "text/plain; charset=utf-8", true},
		{"c/r/x_abc.xml", "text/xml; charset=utf-8", false},
		{"c/r/s_abc.js", "text/javascript", false},
		{"c/r/v_abc.mp4", "video/mp4", true},
		{"c/r/z_abc.zip", "application/zip", false},
	} {
		rec := serve(t, st, tt.key, files.ServeOptions{}, http.MethodGet, nil)
		h := rec.Header()
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", tt.key, rec.Code)
		}
		if h.Get("Content-Type") != tt.ct || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "max-age=2592000" {
			t.Errorf("%s: headers %v", tt.key, h)
		}
		disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
		if err != nil || params["filename"] != tt.key[4:] {
			t.Errorf("%s: Content-Disposition %q", tt.key, h.Get("Content-Disposition"))
		}
		if tt.inline {
			if disp != "inline" || h.Get("Content-Security-Policy") != "" {
				t.Errorf("%s: want inline without CSP, got %q / %q", tt.key, disp, h.Get("Content-Security-Policy"))
			}
		} else if disp != "attachment" || h.Get("Content-Security-Policy") != files.SandboxCSP {
			t.Errorf("%s: want attachment with sandbox CSP, got %q / %q", tt.key, disp, h.Get("Content-Security-Policy"))
		}
		if h.Get("ETag") == "" || h.Get("Last-Modified") == "" {
			t.Errorf("%s: no validators: %v", tt.key, h)
		}
	}
}

func TestServeDownloadAndName(t *testing.T) {
	t.Parallel()
	st := serveStore(t, map[string][2]string{"c/r/pic_abc.png": {"image/png", "png"}})
	rec := serve(t, st, "c/r/pic_abc.png", files.ServeOptions{Download: true}, http.MethodGet, nil)
	if d := rec.Header().Get("Content-Disposition"); d != "attachment; filename=pic_abc.png" {
		t.Errorf("download: %q", d)
	}
	if rec.Header().Get("Content-Security-Policy") != files.SandboxCSP {
		t.Error("download without CSP")
	}
	// Names needing escapes come out as RFC 2231 / quoted strings, never
	// raw quotes or line breaks.
	for _, name := range []string{`Été "quoted".png`, "a\r\nSet-Cookie: x=y.png", `back\slash;.png`} {
		rec := serve(t, st, "c/r/pic_abc.png", files.ServeOptions{Download: true, Name: name}, http.MethodGet, nil)
		cd := rec.Header().Get("Content-Disposition")
		if strings.ContainsAny(cd, "\r\n") {
			t.Errorf("header injection: %q", cd)
		}
		if _, params, err := mime.ParseMediaType(cd); err == nil && params["filename"] != name && cd != "attachment" {
			t.Errorf("name %q came back as %q (%q)", name, params["filename"], cd)
		}
	}
	if err := st.Put(context.Background(), "c/r/thumbs_pic_abc.png/10x10_pic_abc.png", strings.NewReader("t"), 1, "image/png"); err != nil {
		t.Fatal(err)
	}
	rec = serve(t, st, "c/r/thumbs_pic_abc.png/10x10_pic_abc.png", files.ServeOptions{Download: true}, http.MethodGet, nil)
	if d := rec.Header().Get("Content-Disposition"); d != "attachment; filename=pic_abc.png" {
		t.Errorf("thumbnail download: %q", d)
	}
	rec = serve(t, st, "c/r/pic_abc.png", files.ServeOptions{CacheControl: "private, no-store"}, http.MethodGet, nil)
	if rec.Header().Get("Cache-Control") != "private, no-store" {
		t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
}

func TestServeConditionalAndRange(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789", 100)
	st := serveStore(t, map[string][2]string{"c/r/a_abc.txt": {"text/plain; charset=utf-8", body}})
	key := "c/r/a_abc.txt"
	first := serve(t, st, key, files.ServeOptions{}, http.MethodGet, nil)
	etag, lastMod := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") || first.Body.String() != body {
		t.Fatalf("ETag %q, body %d bytes", etag, first.Body.Len())
	}
	if first.Header().Get("Content-Length") != "1000" || first.Header().Get("Accept-Ranges") != "bytes" {
		t.Errorf("headers %v", first.Header())
	}
	for _, tt := range []struct {
		name   string
		hdr    map[string]string
		status int
		body   string
	}{
		{"If-None-Match", map[string]string{"If-None-Match": etag}, http.StatusNotModified, ""},
		{"If-None-Match other", map[string]string{"If-None-Match": `"nope"`}, http.StatusOK, body},
		{"If-Modified-Since", map[string]string{"If-Modified-Since": lastMod}, http.StatusNotModified, ""},
		{"If-Modified-Since old", map[string]string{"If-Modified-Since": time.Unix(0, 0).UTC().Format(http.TimeFormat)}, http.StatusOK, body},
		{"Range", map[string]string{"Range": "bytes=10-19"}, http.StatusPartialContent, "0123456789"},
		{"suffix Range", map[string]string{"Range": "bytes=-5"}, http.StatusPartialContent, "56789"},
		{"open Range", map[string]string{"Range": "bytes=995-"}, http.StatusPartialContent, "56789"},
		{"unsatisfiable", map[string]string{"Range": "bytes=5000-"}, http.StatusRequestedRangeNotSatisfiable, ""},
		{"If-Range match", map[string]string{"Range": "bytes=0-1", "If-Range": etag}, http.StatusPartialContent, "01"},
		{"If-Range stale", map[string]string{"Range": "bytes=0-1", "If-Range": `"old"`}, http.StatusOK, body},
		{"If-Match stale", map[string]string{"If-Match": `"old"`}, http.StatusPreconditionFailed, ""},
	} {
		rec := serve(t, st, key, files.ServeOptions{}, http.MethodGet, tt.hdr)
		if rec.Code != tt.status || (tt.body != "" && rec.Body.String() != tt.body) {
			t.Errorf("%s: %d %q", tt.name, rec.Code, rec.Body.String())
		}
	}
	rec := serve(t, st, key, files.ServeOptions{}, http.MethodGet, map[string]string{"Range": "bytes=0-0,5-5"})
	if rec.Code != http.StatusPartialContent || !strings.HasPrefix(rec.Header().Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("multi-range: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec = serve(t, st, key, files.ServeOptions{}, http.MethodHead, nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "1000" {
		t.Errorf("HEAD: %d, %d bytes, %v", rec.Code, rec.Body.Len(), rec.Header())
	}
}

func TestServeErrors(t *testing.T) {
	t.Parallel()
	st := serveStore(t, nil)
	for key, want := range map[string]error{
		"c/r/missing.png":  files.ErrNotFound,
		"../../etc/passwd": files.ErrInvalidKey,
		"c/r/..":           files.ErrInvalidKey,
		"/etc/passwd":      files.ErrInvalidKey,
	} {
		rec := httptest.NewRecorder()
		err := files.Serve(rec, httptest.NewRequest(http.MethodGet, "/", nil), st, key, files.ServeOptions{})
		if !errors.Is(err, want) {
			t.Errorf("Serve(%q) = %v, want %v", key, err, want)
		}
		if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
			t.Errorf("Serve(%q) wrote a response", key)
		}
	}
}

func TestInlineSafe(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true,
		"video/mp4": true, "audio/mpeg": true, "application/pdf": true, "text/plain; charset=utf-8": true,
		"image/svg+xml": false, "text/html": false, "application/xhtml+xml": false, "text/xml": false,
		"application/xml": false, "text/javascript": false, "application/javascript": false,
		"application/json": false, "text/css": false, "application/octet-stream": false, "": false,
		"garbage": false, "image/foo+xml": false,
	} {
		if got := files.InlineSafe(ct); got != want {
			t.Errorf("InlineSafe(%q) = %v", ct, got)
		}
	}
}
