package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/client"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/store"
)

const (
	suEmail    = "admin@example.com"
	suPassword = "secret-pass-1"
)

// server is a real Plinth app on one backend, behind httptest, with the
// OpenAPI document it serves and a transport that checks every exchange
// against that document.
type server struct {
	t   *testing.T
	app *plinth.App
	srv *httptest.Server

	mu     sync.Mutex
	snap   *store.Schema // the schema the document was fetched for
	data   []byte        // the document as served
	doc    *openapi3.T
	router routers.Router
	// used counts the exchanges per operation of client.Operations();
	// raw counts those of Client.Send, by method and path template.
	used map[client.Operation]int
	raw  map[string]int
}

// start runs an app on b with a superuser, closed when the test ends.
func start(t *testing.T, b testenv.Backend) *server {
	t.Helper()
	ctx := context.Background()
	app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); app.Close() })
	if err := app.UpsertSuperuser(ctx, suEmail, suPassword); err != nil {
		t.Fatal(err)
	}
	return &server{t: t, app: app, srv: srv, used: map[client.Operation]int{}, raw: map[string]int{}}
}

// client returns a client of the server whose every request and response
// is validated against the document.
func (s *server) client(opts ...client.Option) *client.Client {
	hc := &http.Client{Transport: &checkingTransport{s: s, base: s.srv.Client().Transport}}
	return client.New(s.srv.URL, append([]client.Option{client.WithHTTPClient(hc)}, opts...)...)
}

// superuser returns a checked client signed in as the superuser.
func (s *server) superuser(ctx context.Context) *client.Client {
	s.t.Helper()
	c := s.client()
	if _, err := c.AuthWithPassword(ctx, "_superusers", suEmail, suPassword); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// document returns the document and its router, fetched again when the
// collections changed since the last fetch (per-collection paths and
// schemas follow them).
func (s *server) document() (*openapi3.T, routers.Router, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.app.Store().Schema()
	if s.doc != nil && s.snap == snap {
		return s.doc, s.router, nil
	}
	res, err := s.srv.Client().Get(s.srv.URL + "/api/openapi.json")
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET /api/openapi.json: %d %s", res.StatusCode, data)
	}
	if s.doc == nil || !bytes.Equal(data, s.data) {
		// Decoded as JSON, then resolved: Loader.LoadFromData would read
		// the JSON through a YAML parser.
		doc := &openapi3.T{}
		if err := json.Unmarshal(data, doc); err != nil {
			return nil, nil, fmt.Errorf("decode document: %w", err)
		}
		if err := openapi3.NewLoader().ResolveRefsIn(doc, nil); err != nil {
			return nil, nil, fmt.Errorf("resolve document: %w", err)
		}
		router, err := legacy.NewRouter(doc)
		if err != nil {
			return nil, nil, fmt.Errorf("document: %w", err)
		}
		s.data, s.doc, s.router = data, doc, router
	}
	s.snap = snap
	return s.doc, s.router, nil
}

// checkingTransport validates every exchange of a client against the
// document: the route must be in it, the request valid for the operation
// (parameters and body) and the response described (status, content type,
// JSON body). A mismatch fails the test, naming the exchange.
type checkingTransport struct {
	s    *server
	base http.RoundTripper
}

func (ct *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := ct.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	ct.s.count(req)
	if err := ct.s.check(req, reqBody, res, resBody); err != nil {
		ct.s.t.Errorf("openapi: %s %s -> %d: %v\nresponse: %.400s", req.Method, req.URL.RequestURI(), res.StatusCode, err, resBody)
	}
	return res, nil
}

// count notes which operation of the table req is, or that it is a raw
// Send.
func (s *server) count(req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range client.Operations() {
		if o.Method == req.Method && matches(o.Path, req.URL.EscapedPath()) {
			s.used[o]++
			return
		}
	}
	s.raw[req.Method+" "+req.URL.Path]++
}

// matches reports whether path is an instance of the template.
func matches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, seg := range ts {
		if strings.HasPrefix(seg, "{") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if seg != ps[i] {
			return false
		}
	}
	return true
}

// check validates one exchange against the document.
func (s *server) check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	_, router, err := s.document()
	if err != nil {
		return err
	}
	// The document's server is "/": the router matches the path alone.
	local := &http.Request{Method: req.Method, URL: &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery},
		Header: req.Header, Body: io.NopCloser(bytes.NewReader(reqBody)), ContentLength: int64(len(reqBody))}
	route, params, err := router.FindRoute(local)
	if err != nil {
		return fmt.Errorf("not in the document: %w", err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	in := &openapi3filter.RequestValidationInput{Request: local, PathParams: params, Route: route, Options: opts}
	var errs []string
	// A request the document calls invalid is a mismatch when the server
	// accepted it; when the server refused it too (the integration test
	// sends bad input on purpose), the two agree.
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && res.StatusCode < 400 {
		errs = append(errs, fmt.Sprintf("request (%s %s): %v", route.Method, route.Path, err))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Options: opts}
	out.SetBodyBytes(resBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		errs = append(errs, fmt.Sprintf("response (%s %s): %v", route.Method, route.Path, err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// usedOperations returns how often each operation of the table was
// called, and the raw Send calls.
func (s *server) usedOperations() (map[client.Operation]int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	used := make(map[client.Operation]int, len(s.used))
	for k, v := range s.used {
		used[k] = v
	}
	raw := make(map[string]int, len(s.raw))
	for k, v := range s.raw {
		raw[k] = v
	}
	return used, raw
}
