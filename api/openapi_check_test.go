package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/store"
)

// Every response a REST test receives through testApp.do or doHeader is
// checked against the OpenAPI document the same app serves at
// /api/openapi.json (issue 17): the route must be in the document, its
// status described (explicitly or by `default`), its content type listed
// and a JSON body valid against the schema. A path or method the document
// does not describe fails too, unless the server refused it as a route
// that does not exist (404 or 405 in the API's error shape). The document
// is generated from the live schema, so it cannot drift from the server
// without a test failing.
//
// kin-openapi's legacy router is used rather than gorillamux: it needs no
// module beyond kin-openapi itself, handles 3.1 documents and path
// parameters such as {collection}, and prefers a concrete path
// (/api/collections/posts/records) over a templated one
// (/api/collections/{collection}/records), as OpenAPI requires.

// isOutsideDocument reports whether path is deliberately left out of the
// document; a response to any other path the document does not describe
// fails the test. Keep the list short, and say why for each entry.
func isOutsideDocument(path string) bool {
	switch {
	case path == "/", path == "/_", strings.HasPrefix(path, "/_/"):
		// The admin dashboard (package ui: HTML, scripts, styles) and the
		// redirects to it: a web app, not API.
		return true
	case path == "/metrics":
		// Prometheus' text exposition, for scrapers; its format is
		// Prometheus'.
		return true
	case strings.HasPrefix(path, "/debug/pprof/"):
		// net/http/pprof, a debugging aid, off by default.
		return true
	case path == "/api/docs", strings.HasPrefix(path, "/api/docs/"):
		// The HTML page (and its script) that renders this document.
		return true
	}
	return false
}

// openapiDoc is the document one testApp's responses are checked against,
// with the router built from it. It is loaded lazily, and reloaded when
// the store's schema snapshot is no longer the one it was generated from
// and the request at hand depends on it. The snapshot is replaced on
// every collection change, whether by HTTP (a create, update, delete or
// import of collections, a restore) or by Go code, so this catches more
// than watching for successful non-GET requests under /api/collections
// would. Only record and auth paths of named collections
// (/api/collections/{name}/...) differ between schemas; everything else
// is checked against the cached document, so a test that makes five
// collections in a row loads the document once, when it first reads or
// writes their records, rather than after each. Loading costs tens of
// milliseconds for a few dozen collections.
type openapiDoc struct {
	mu   sync.Mutex
	snap *store.Schema
	// data is the document as served, to skip rebuilding the router when
	// a schema change did not change it (a rule, an index).
	data   []byte
	doc    *openapi3.T
	router routers.Router
}

// checkLogEnv names a file to which, when set, every checked response
// appends one line ("METHOD /path/template status test") — how the
// coverage of the document by the tests is counted.
const checkLogEnv = "PLINTH_OPENAPI_CHECK_LOG"

// openapiCurrent returns the document and router, reloaded first when
// fresh is set and the schema changed since the last load.
func (ta *testApp) openapiCurrent(fresh bool) (*openapi3.T, routers.Router, error) {
	o := &ta.openapi
	o.mu.Lock()
	defer o.mu.Unlock()
	snap := ta.app.Store().Schema()
	if o.doc != nil && (o.snap == snap || !fresh) {
		return o.doc, o.router, nil
	}
	data, err := ta.fetchOpenAPI()
	if err != nil {
		return nil, nil, err
	}
	if o.doc == nil || !bytes.Equal(data, o.data) {
		doc, router, err := loadOpenAPI(data)
		if err != nil {
			return nil, nil, err
		}
		o.data, o.doc, o.router = data, doc, router
		ta.logOpenAPI("LOAD %d", len(data))
	}
	o.snap = snap
	return o.doc, o.router, nil
}

// fetchOpenAPI reads the document from the app, as a superuser when the
// app has one signed in (the document is public today; a superuser sees
// whatever a guest does and more).
func (ta *testApp) fetchOpenAPI() ([]byte, error) {
	req, err := http.NewRequest("GET", ta.srv.URL+"/api/openapi.json", nil)
	if err != nil {
		return nil, err
	}
	if ta.su != "" {
		req.Header.Set("Authorization", ta.su)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/openapi.json: status %d: %s", res.StatusCode, data)
	}
	return data, nil
}

// loadOpenAPI loads a document and builds its router, which validates it.
// It decodes the JSON itself and resolves the references with a Loader
// (Loader.LoadFromData would read the JSON through a YAML parser first).
func loadOpenAPI(data []byte) (*openapi3.T, routers.Router, error) {
	doc := &openapi3.T{}
	if err := json.Unmarshal(data, doc); err != nil {
		return nil, nil, fmt.Errorf("decode /api/openapi.json: %w", err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(doc, nil); err != nil {
		return nil, nil, fmt.Errorf("resolve /api/openapi.json: %w", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("/api/openapi.json: %w", err)
	}
	return doc, router, nil
}

// dependsOnSchema reports whether the document's description of path
// changes with the collections: the record and auth paths of a named
// collection do.
func dependsOnSchema(path string) bool {
	rest, ok := strings.CutPrefix(path, "/api/collections/")
	return ok && strings.Contains(strings.Trim(rest, "/"), "/")
}

// checkOpenAPI fails the test (without stopping it) when a response does
// not match the document. It is called by do and doHeader for every
// response they receive.
func (ta *testApp) checkOpenAPI(req *http.Request, res *http.Response, body []byte) {
	ta.t.Helper()
	if isOutsideDocument(req.URL.Path) {
		return
	}
	operation, err := ta.openapiMismatch(req, res, body)
	if err != nil {
		ta.t.Errorf("openapi: %s %s (operation %s, status %d): %v; body %.300s", req.Method, req.URL.RequestURI(), operation, res.StatusCode, err, body)
	}
	ta.logChecked(req.Method, operation, res.StatusCode)
}

// openapiMismatch says how the response to req differs from the document,
// and which operation (path template) it was checked against.
func (ta *testApp) openapiMismatch(req *http.Request, res *http.Response, body []byte) (operation string, err error) {
	route, err := ta.findOperation(req)
	var rerr *routers.RouteError
	if errors.As(err, &rerr) && (res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed) {
		// A route that does not exist, refused as such: nothing to drift
		// from, but the refusal is still an error in the API's shape.
		return "(none)", ta.validateError(res, body)
	}
	if err != nil {
		return "(none)", err
	}
	return route.Path, validateResponse(route, req, res, body)
}

// validateError checks that res is a JSON error in the document's Error
// schema.
func (ta *testApp) validateError(res *http.Response, body []byte) error {
	doc, _, err := ta.openapiCurrent(false)
	if err != nil {
		return err
	}
	if media, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); media != "application/json" {
		return fmt.Errorf("content type %q, want application/json", res.Header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// findOperation finds the operation of the document that describes req.
// A HEAD request is described by its GET operation unless the document
// has a HEAD one (net/http answers HEAD for every GET route).
func (ta *testApp) findOperation(req *http.Request) (*routers.Route, error) {
	_, router, err := ta.openapiCurrent(dependsOnSchema(req.URL.Path))
	if err != nil {
		return nil, err
	}
	// The document's server is "/": the router matches the path against
	// it, so it gets the request without scheme and host.
	local := &http.Request{Method: req.Method, URL: &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}, Header: req.Header}
	route, _, err := router.FindRoute(local)
	if err != nil && req.Method == http.MethodHead {
		local.Method = http.MethodGet
		route, _, err = router.FindRoute(local)
	}
	if err != nil {
		return nil, fmt.Errorf("not described by the document (drift): %w", err)
	}
	return route, nil
}

// validateResponse checks status, content type and, for JSON, the body.
// Non-JSON bodies (files, event streams, archives, CSV) are checked for
// status and content type only, and only as far as the document lists
// them.
func validateResponse(route *routers.Route, req *http.Request, res *http.Response, body []byte) error {
	resp := route.Operation.Responses.Status(res.StatusCode)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("status %d is not described", res.StatusCode)
	}
	ctype := res.Header.Get("Content-Type")
	if len(resp.Value.Content) == 0 {
		if len(body) > 0 && req.Method != http.MethodHead {
			return fmt.Errorf("status %d is described without a body, but one came (%s)", res.StatusCode, ctype)
		}
		return nil
	}
	if req.Method == http.MethodHead || len(body) == 0 && res.StatusCode == http.StatusNoContent {
		return nil
	}
	if resp.Value.Content.Get(ctype) == nil {
		return fmt.Errorf("status %d: content type %q is not described", res.StatusCode, ctype)
	}
	media, _, _ := mime.ParseMediaType(ctype)
	isJSON := media == "application/json" || strings.HasSuffix(media, "+json")
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			ExcludeResponseBody:   !isJSON,
			MultiError:            true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// logChecked notes a checked response in the file named by
// PLINTH_OPENAPI_CHECK_LOG.
func (ta *testApp) logChecked(method, path string, status int) {
	ta.logOpenAPI("%s %s %d", method, path, status)
}

// logOpenAPI appends a line, followed by the test's name, to the file
// named by PLINTH_OPENAPI_CHECK_LOG, if set.
func (ta *testApp) logOpenAPI(format string, args ...any) {
	name := os.Getenv(checkLogEnv)
	if name == "" {
		return
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, format+" %s\n", append(args, ta.t.Name())...)
}

// TestOpenAPICheckCatchesDrift makes sure the check is not vacuous: made-up
// responses that the document does not describe are refused.
func TestOpenAPICheckCatchesDrift(t *testing.T) {
	ta := setup(t, testenv.New(t, "sqlite"))
	ta.createCollection(map[string]any{"name": "posts", "listRule": "", "fields": []map[string]any{
		{"name": "title", "type": "text"}, {"name": "score", "type": "number"},
		{"name": "tags", "type": "select", "values": []string{"go", "sql"}, "maxSelect": 2}, {"name": "meta", "type": "json"},
	}})
	check := func(method, target string, status int, ctype, body string) error {
		req := httptest.NewRequest(method, target, nil)
		res := &http.Response{StatusCode: status, Header: http.Header{}}
		if ctype != "" {
			res.Header.Set("Content-Type", ctype)
		}
		_, err := ta.openapiMismatch(req, res, []byte(body))
		return err
	}
	good := `{"page":1,"perPage":30,"totalItems":1,"totalPages":1,"items":[{"id":"a","collectionId":"c","collectionName":"posts","title":"x","score":1,"tags":["go"],"meta":null}]}`
	if err := check("GET", "/api/collections/posts/records", 200, "application/json", good); err != nil {
		t.Fatalf("a valid list is refused: %v", err)
	}
	if err := check("GET", "/api/nowhere", 404, "application/json", `{"status":404,"message":"Not found.","data":{}}`); err != nil {
		t.Fatalf("a 404 for an unknown path is refused: %v", err)
	}
	for _, tt := range []struct {
		name, method, target string
		status               int
		ctype, body          string
	}{
		{"list envelope", "GET", "/api/collections/posts/records", 200, "application/json", `{"page":"1","items":[]}`},
		{"field type", "GET", "/api/collections/posts/records/a", 200, "application/json", `{"id":"a","score":"high"}`},
		{"select value", "GET", "/api/collections/posts/records/a", 200, "application/json", `{"id":"a","tags":["rust"]}`},
		{"error shape", "GET", "/api/collections/posts/records/a", 404, "application/json", `{"error":"not found"}`},
		{"content type", "GET", "/api/collections/posts/records/a", 200, "text/plain", `hello`},
		{"unknown path", "GET", "/api/nowhere", 200, "application/json", `{}`},
		{"unknown path, bad error", "GET", "/api/nowhere", 404, "text/plain", `404 page not found`},
		{"body on 204", "DELETE", "/api/collections/posts/records/a", 204, "application/json", `{}`},
	} {
		if err := check(tt.method, tt.target, tt.status, tt.ctype, tt.body); err == nil {
			t.Errorf("%s: %s %s %d %s passed", tt.name, tt.method, tt.target, tt.status, tt.body)
		}
	}
}

// TestOpenAPIDescribesEveryRoute fails when a route of the REST mux has no
// operation in the document, or an operation of the document no route.
// The server keeps no list of its routes, so the patterns are read from
// the source: every Handle or HandleFunc call with a literal pattern in
// package api and in the root package's app.go (where GraphQL, this
// document and its page are mounted).
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	patterns := routePatterns(t)
	if len(patterns) < 50 {
		t.Fatalf("found only %d route patterns: %v", len(patterns), patterns)
	}
	ta := setup(t, testenv.New(t, "sqlite"))
	doc, _, err := ta.openapiCurrent(true)
	if err != nil {
		t.Fatal(err)
	}
	template := regexp.MustCompile(`\{[^}]*\}`)
	described := map[string]bool{} // "GET /api/x/{}"
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+template.ReplaceAllString(p, "{}")] = true
		}
	}
	mux := http.NewServeMux()
	for _, pat := range patterns {
		mux.HandleFunc(pat, func(http.ResponseWriter, *http.Request) {})
		method, p, ok := strings.Cut(pat, " ")
		if !ok {
			method, p = "", pat
		}
		switch {
		case p == "/api/":
			continue // the catch-all that answers 404 in the API's shape
		case p == "/{$}" || isOutsideDocument(p):
			continue
		}
		methods := []string{method}
		if method == "" {
			methods = []string{"GET", "POST"} // GraphQL answers both
		}
		for _, m := range methods {
			if key := m + " " + template.ReplaceAllString(p, "{}"); !described[key] {
				t.Errorf("route %q is not in the document", pat)
			}
		}
	}
	// And the other way: every operation is served by a route, not by the
	// catch-all.
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			target := template.ReplaceAllString(p, "x")
			_, got := mux.Handler(httptest.NewRequest(method, target, nil))
			if got == "" || got == "/api/" {
				t.Errorf("operation %s %s has no route (it would reach %q)", method, p, got)
			}
		}
	}
}

// routePatterns reads the literal patterns of Handle and HandleFunc calls
// from package api's non-test files and from ../app.go.
func routePatterns(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "app.go"))
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if p, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, p)
			}
			return true
		})
	}
	return out
}
