package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
)

type ctxKey int

const (
	authKey ctxKey = iota
	apiKeyKey
)

// requestAuth is what loadAuth learnt from a request's verified token.
type requestAuth struct {
	record *schema.Record
	claims *auth.Claims
}

// authRecord returns the authenticated record of the request, or nil.
func authRecord(r *http.Request) *schema.Record {
	if a, _ := r.Context().Value(authKey).(*requestAuth); a != nil {
		return a.record
	}
	return nil
}

// authClaims returns the claims of the request's verified token, or nil.
func authClaims(r *http.Request) *auth.Claims {
	if a, _ := r.Context().Value(authKey).(*requestAuth); a != nil {
		return a.claims
	}
	return nil
}

func withAuth(ctx context.Context, rec *schema.Record, claims *auth.Claims) context.Context {
	return context.WithValue(ctx, authKey, &requestAuth{record: rec, claims: claims})
}

// requestAPIKey returns the verified API key of the request, or nil.
func requestAPIKey(r *http.Request) *auth.APIKey {
	k, _ := r.Context().Value(apiKeyKey).(*auth.APIKey)
	return k
}

func withAPIKey(ctx context.Context, k *auth.APIKey) context.Context {
	return context.WithValue(ctx, apiKeyKey, k)
}

func isSuperuser(rec *schema.Record) bool {
	return rec != nil && rec.Collection.ID == superusersID
}

// caller builds the rule context of a request. body may be nil. The query
// and header maps are copied only when a rule can read them (or for
// superusers, whose filters may): most requests need neither.
func (s *Server) caller(r *http.Request, body map[string]any) *record.Caller {
	info := &filter.RequestInfo{
		Auth:    authRecord(r),
		Body:    body,
		Method:  r.Method,
		Context: "default",
	}
	if !isSuperuser(info.Auth) && !s.store.Schema().RulesReadRequestData() {
		return &record.Caller{Auth: info.Auth, Request: info, Key: requestAPIKey(r)}
	}
	info.Query = make(map[string]string, len(r.URL.Query()))
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			info.Query[k] = v[0]
		}
	}
	info.Headers = make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		if len(v) > 0 && !strings.EqualFold(k, "Authorization") && !strings.EqualFold(k, "Cookie") {
			info.Headers[strings.ReplaceAll(strings.ToLower(k), "-", "_")] = v[0]
		}
	}
	return &record.Caller{Auth: info.Auth, Request: info, Key: requestAPIKey(r)}
}

// readBody decodes a JSON or multipart/form-data body into a map. For
// multipart, the `@jsonPayload` value holds a JSON object and plain values
// are taken as strings; repeated keys become lists. File parts are
// rejected: only record writes take them (readRecordBody in files.go).
// The body is held to the route's limits (limitsOf): by default the small
// limit of auth flows.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	return s.decodeBody(w, r, false)
}

// decodeBody is readBody; acceptFiles leaves a multipart body's file parts
// in r.MultipartForm instead of rejecting them. A body over its limit is a
// 413 (an *http.MaxBytesError or tooLarge), found before it is decoded.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, acceptFiles bool) (map[string]any, error) {
	l := s.limitsOf(r)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		limit := l.json
		if acceptFiles && l.files > 0 {
			limit = l.files
		}
		if r.ContentLength > limit {
			return nil, tooLarge(nil)
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return s.readMultipart(r, acceptFiles, l.json)
	}
	if r.ContentLength > l.json {
		return nil, tooLarge(nil)
	}
	r.Body = http.MaxBytesReader(w, r.Body, l.json)
	if ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			if isTooLarge(err) {
				return nil, err
			}
			return nil, badRequest("Failed to read the form body.", err)
		}
		return formValues(r.PostForm), nil
	}
	// Decode from the limited stream: no copy of the whole body first.
	dec := json.NewDecoder(r.Body)
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return map[string]any{}, nil // an empty body
		case isTooLarge(err):
			return nil, err
		}
		return nil, badRequest("Failed to parse the request body: it must be a JSON object.", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if isTooLarge(err) {
			return nil, err
		}
		return nil, badRequest("Failed to parse the request body: it must be a JSON object.", err)
	}
	if body == nil {
		body = map[string]any{}
	}
	return body, nil
}

// isTooLarge reports whether err comes from a body over its limit.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// readMultipart parses a multipart body, keeping at most multipartMemory
// of its file parts in memory (the rest goes to temporary files). Its plain
// values, which are decoded like a JSON body, may total at most jsonLimit.
func (s *Server) readMultipart(r *http.Request, acceptFiles bool, jsonLimit int64) (map[string]any, error) {
	if err := r.ParseMultipartForm(min(jsonLimit, multipartMemory)); err != nil {
		if isTooLarge(err) || errors.Is(err, multipart.ErrMessageTooLarge) {
			return nil, tooLarge(err)
		}
		return nil, badRequest("Failed to parse the multipart body.", err)
	}
	var plain int64
	for k, list := range r.MultipartForm.Value {
		plain += int64(len(k))
		for _, v := range list {
			plain += int64(len(v))
		}
	}
	if plain > jsonLimit {
		return nil, tooLarge(nil)
	}
	body := formValues(r.MultipartForm.Value)
	if raw, ok := body["@jsonPayload"]; ok {
		delete(body, "@jsonPayload")
		payloads, _ := raw.([]any)
		if s, ok := raw.(string); ok {
			payloads = []any{s}
		}
		for _, p := range payloads {
			var m map[string]any
			if err := json.Unmarshal([]byte(p.(string)), &m); err != nil {
				return nil, badRequest("Failed to parse @jsonPayload: it must be a JSON object.", err)
			}
			for k, v := range m {
				body[k] = v
			}
		}
	}
	if len(r.MultipartForm.File) > 0 && !acceptFiles {
		data := schema.Errors{}
		for name := range r.MultipartForm.File {
			data.Add(name, schema.NewFieldError("validation_file_upload_unsupported", "This endpoint does not accept files."))
		}
		return nil, &Error{Status: http.StatusBadRequest, Message: "This endpoint does not accept files.", Data: data}
	}
	return body, nil
}

// readRaw reads the whole body, held to the route's JSON limit, for
// handlers that decode it into a typed value.
func (s *Server) readRaw(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.limitsOf(r).json
	if r.ContentLength > limit {
		return nil, tooLarge(nil)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if isTooLarge(err) {
			return nil, err
		}
		return nil, badRequest("Failed to read the request body.", err)
	}
	return data, nil
}

// bodyLimits bound one endpoint's request body.
type bodyLimits struct {
	// json bounds a JSON or url-encoded body, and the plain (non-file)
	// values of a multipart one: what is decoded into maps, which costs up
	// to about 50 times its size in memory (a 33 MB array of numbers took
	// 1 GB of RSS).
	json int64
	// files bounds a whole multipart body when the endpoint takes file
	// parts (record writes, batch); 0 means it takes none, and a multipart
	// body is then held to json like any other.
	files int64
}

// max is the largest body l admits in any encoding.
func (l bodyLimits) max() int64 { return max(l.json, l.files) }

type bodyLimitsKey struct{}

// withBodyLimits makes limit decide the size of the request bodies next
// reads (readBody, readRecordBody, readRaw). A body whose Content-Length
// already exceeds every limit is refused with 413 before next runs; a
// body that turns out larger while being read (chunked, or a lying
// header) is stopped by http.MaxBytesReader at the limit, also for a
// handler that reads it in its own way (r.ParseForm).
func (s *Server) withBodyLimits(limit func(*http.Request) bodyLimits, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := limit(r)
		if r.ContentLength > l.max() {
			s.writeError(w, r, tooLarge(nil))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, l.max())
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyLimitsKey{}, l)))
	})
}

// authLimits bound the bodies of auth flows: the default of limitsOf, for
// routes whose handler reads the body itself (the OAuth2 redirect).
func (s *Server) authLimits(*http.Request) bodyLimits {
	return bodyLimits{json: s.cfg.MaxAuthBodyBytes}
}

// limitsOf returns the body limits of r's route: those withBodyLimits set,
// else the small limit of auth flows. Small is the default so that a new
// endpoint reading a body is safe until its route says otherwise.
func (s *Server) limitsOf(r *http.Request) bodyLimits {
	if l, ok := r.Context().Value(bodyLimitsKey{}).(bodyLimits); ok {
		return l
	}
	return bodyLimits{json: s.cfg.MaxAuthBodyBytes}
}

// adminLimits bound the bodies of superuser-only JSON endpoints:
// collections, their import and the settings.
func (s *Server) adminLimits(*http.Request) bodyLimits {
	return bodyLimits{json: s.cfg.MaxAdminBodyBytes}
}

// recordLimits bound a record create or update: MaxRecordBodyBytes for the
// JSON (or the plain values of a multipart body), raised by the size caps
// of the collection's editor and json fields so that every value the
// schema admits can be sent as JSON, but never past MaxBodyBytes; a
// multipart body with files may reach MaxBodyBytes.
func (s *Server) recordLimits(r *http.Request) bodyLimits {
	l := bodyLimits{json: s.cfg.MaxRecordBodyBytes, files: s.cfg.MaxBodyBytes}
	if c := s.store.Schema().Lookup(r.PathValue("collection")); c != nil {
		l.json = s.recordJSONLimit(c)
	}
	return l
}

// recordJSONLimit is the JSON body limit of a record write to c.
func (s *Server) recordJSONLimit(c *schema.Collection) int64 {
	n := s.cfg.MaxRecordBodyBytes
	for _, f := range c.Fields {
		switch o := f.Options.(type) {
		case *schema.EditorOptions:
			n += o.MaxBytes()
		case *schema.JSONOptions:
			n += o.MaxBytes()
		}
	}
	return min(n, max(s.cfg.MaxBodyBytes, s.cfg.MaxRecordBodyBytes))
}

// batchLimits bound POST /api/batch: the settings' batch.maxBodySize when
// set (never past MaxBodyBytes), else BatchJSONFactor record bodies of
// JSON and MaxBodyBytes of multipart.
func (s *Server) batchLimits(*http.Request) bodyLimits {
	l := bodyLimits{json: min(batchJSONFactor*s.cfg.MaxRecordBodyBytes, max(s.cfg.MaxBodyBytes, s.cfg.MaxRecordBodyBytes)), files: s.cfg.MaxBodyBytes}
	if n := s.currentSettings().s.Batch.MaxBodySize; n > 0 {
		l.json, l.files = min(n, s.cfg.MaxBodyBytes), min(n, s.cfg.MaxBodyBytes)
	}
	return l
}

// batchJSONFactor is how many default record bodies a JSON batch may
// carry: enough for a batch of 50 ordinary records, small enough that
// decoding it stays in the tens of megabytes.
const batchJSONFactor = 4

func tooLarge(cause error) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Message: "Request body too large.", Cause: cause}
}

func formValues(v map[string][]string) map[string]any {
	out := make(map[string]any, len(v))
	for k, list := range v {
		if len(list) == 1 {
			out[k] = list[0]
			continue
		}
		items := make([]any, len(list))
		for i, x := range list {
			items[i] = x
		}
		out[k] = items
	}
	return out
}

// intParam reads a non-negative integer query parameter; a malformed value
// is a 400 rather than a silent default.
func boolParam(r *http.Request, name string) bool {
	switch strings.ToLower(r.URL.Query().Get(name)) {
	case "1", "true", "t", "yes":
		return true
	}
	return false
}
