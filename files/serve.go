package files

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// DefaultCacheControl is sent with public files: 30 days, as PocketBase.
const DefaultCacheControl = "max-age=2592000"

// SandboxCSP is sent with every file served as an attachment: should a
// browser render it anyway, it runs in an opaque origin with no script and
// no subresources, so it cannot reach the API's cookies or storage.
const SandboxCSP = "sandbox; default-src 'none'"

// ServeOptions tune [Serve].
type ServeOptions struct {
	// Download forces "Content-Disposition: attachment" (download=1).
	Download bool
	// Name is the file name offered to the browser; default: the stored
	// name (the key's last segment; for a thumbnail, its original's).
	Name string
	// CacheControl defaults to DefaultCacheControl; pass
	// "private, no-store" for protected files.
	CacheControl string
}

// Serve writes the object under key to w, honouring Range, If-Range,
// If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since (via
// http.ServeContent) and HEAD. Headers:
//
//   - Content-Type: the stored (sniffed) type, never guessed again;
//     X-Content-Type-Options: nosniff.
//   - ETag: strong, from the store's ETag (size and modification time on
//     local disk); Last-Modified; Cache-Control (see ServeOptions).
//   - Content-Disposition: "inline" only for types a browser shows without
//     running script ([InlineSafe]) and not Download; otherwise
//     "attachment" plus Content-Security-Policy [SandboxCSP]. The file name
//     is encoded with mime.FormatMediaType (RFC 2231 for non-ASCII).
//
// It returns an error wrapping [ErrNotFound] or [ErrInvalidKey] (answer
// 404) or a storage error (answer 500) before writing anything; once the
// response has started it returns nil, as http.ServeContent reports its
// own failures.
func Serve(w http.ResponseWriter, r *http.Request, st Storage, key string, opts ServeOptions) error {
	obj, err := st.Open(r.Context(), key)
	if err != nil {
		return err
	}
	defer obj.Close()
	ServeObject(w, r, obj, opts)
	return nil
}

// ServeObject is [Serve] for an object the caller has opened already.
func ServeObject(w http.ResponseWriter, r *http.Request, obj *Object, opts ServeOptions) {
	h := w.Header()
	ct := obj.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	name := opts.Name
	if name == "" {
		// A thumbnail is offered under its original's name.
		if info, ok := ParseKey(obj.Key); ok {
			name = info.Filename
		} else {
			_, name = splitKey(obj.Key)
		}
	}
	disposition := "inline"
	if opts.Download || !InlineSafe(ct) {
		disposition = "attachment"
		h.Set("Content-Security-Policy", SandboxCSP)
	}
	cd := mime.FormatMediaType(disposition, map[string]string{"filename": name})
	if cd == "" {
		// A name FormatMediaType cannot encode (invalid UTF-8): no name.
		cd = disposition
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", cd)
	h.Set("X-Content-Type-Options", "nosniff")
	cc := opts.CacheControl
	if cc == "" {
		cc = DefaultCacheControl
	}
	h.Set("Cache-Control", cc)
	if etag := strongETag(obj.Attributes); etag != "" {
		h.Set("ETag", etag)
	}
	http.ServeContent(w, r, name, obj.ModTime, obj)
}

// strongETag quotes the store's ETag, or derives one from size and
// modification time when it is missing or has characters an entity tag
// cannot hold.
func strongETag(a Attributes) string {
	tag := a.ETag
	ok := tag != ""
	for i := 0; i < len(tag) && ok; i++ {
		c := tag[i]
		ok = c > 0x20 && c < 0x7F && c != '"'
	}
	if !ok {
		if a.ModTime.IsZero() {
			return ""
		}
		tag = strconv.FormatInt(a.ModTime.UnixNano(), 36) + "-" + strconv.FormatInt(a.Size, 36)
	}
	return `"` + tag + `"`
}

// InlineSafe reports whether a file of this content type may be shown
// inline by a browser: it cannot run script in the page's origin. The
// allow-list is images except SVG, audio, video, PDF and plain text;
// everything else (HTML, XHTML, SVG, XML, JavaScript, unknown types) is
// served as an attachment in a sandbox.
func InlineSafe(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case mt == "image/svg+xml" || strings.HasSuffix(mt, "+xml"):
		return false
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "video/"), strings.HasPrefix(mt, "audio/"):
		return true
	case mt == "application/pdf", mt == "text/plain":
		return true
	}
	return false
}
