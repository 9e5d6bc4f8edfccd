package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
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
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	return s.decodeBody(w, r, false)
}

// decodeBody is readBody; acceptFiles leaves a multipart body's file parts
// in r.MultipartForm instead of rejecting them.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, acceptFiles bool) (map[string]any, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		return s.readMultipart(r, acceptFiles)
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, badRequest("Failed to read the form body.", err)
		}
		return formValues(r.PostForm), nil
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, badRequest("Failed to read the request body.", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return map[string]any{}, nil
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, badRequest("Failed to parse the request body: it must be a JSON object.", err)
	}
	if body == nil {
		body = map[string]any{}
	}
	return body, nil
}

func (s *Server) readMultipart(r *http.Request, acceptFiles bool) (map[string]any, error) {
	if err := r.ParseMultipartForm(min(s.cfg.MaxBodyBytes, multipartMemory)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, badRequest("Failed to parse the multipart body.", err)
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
func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("Invalid "+name+" parameter: it must be a non-negative integer.", err)
	}
	return n, nil
}

func boolParam(r *http.Request, name string) bool {
	switch strings.ToLower(r.URL.Query().Get(name)) {
	case "1", "true", "t", "yes":
		return true
	}
	return false
}
