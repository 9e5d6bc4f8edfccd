package client_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/plinthdev/plinth/client"
	"github.com/plinthdev/plinth/internal/testenv"
)

// TestOperationsAreInDocument checks the client's table of operations
// against the document a real server serves: every operation must be
// there under the same method and path template, answer success with
// JSON (or 204), and every property the client's result types decode must
// be one the document describes, with a compatible type.
func TestOperationsAreInDocument(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		s := start(t, b)
		doc, _, err := s.document()
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Fatalf("the document is invalid: %v", err)
		}
		ops := client.Operations()
		if len(ops) < 10 {
			t.Fatalf("only %d operations: %v", len(ops), ops)
		}
		seen := map[client.Operation]bool{}
		for _, o := range ops {
			if seen[o] {
				t.Errorf("%s %s is listed twice", o.Method, o.Path)
			}
			seen[o] = true
			item := doc.Paths.Value(o.Path)
			if item == nil {
				t.Errorf("%s %s: the document has no path %s", o.Method, o.Path, o.Path)
				continue
			}
			op := item.GetOperation(o.Method)
			if op == nil {
				t.Errorf("%s %s: the document's path has no %s operation", o.Method, o.Path, o.Method)
				continue
			}
			ok := op.Responses.Status(http.StatusOK)
			if ok == nil {
				ok = op.Responses.Status(http.StatusNoContent)
			}
			if ok == nil {
				t.Errorf("%s %s: no 200 or 204 response", o.Method, o.Path)
			}
			if op.Responses.Default() == nil {
				t.Errorf("%s %s: errors are not described (no default response)", o.Method, o.Path)
			}
		}

		// The document also spells the record and auth paths out per
		// collection, with that collection's schemas; the server's router
		// (and the check of the exchanges) prefers those. Each collection
		// must have the table's operations there too: record reads for
		// all, writes for all but views, sign-in for auth collections.
		ctx := context.Background()
		su := s.superuser(ctx)
		for _, body := range []map[string]any{
			{"name": "posts", "type": "base", "fields": []map[string]any{{"name": "title", "type": "text"}}},
			{"name": "post_titles", "type": "view", "viewQuery": "SELECT id, title FROM posts"},
		} {
			if err := su.Send(ctx, "POST", "/api/collections", body, nil); err != nil {
				t.Fatal(err)
			}
		}
		if doc, _, err = s.document(); err != nil {
			t.Fatal(err)
		}
		cols, err := su.Collections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		for _, c := range cols {
			types[c.Type] = true
			for _, o := range ops {
				rest, ok := strings.CutPrefix(o.Path, "/api/collections/{collection}/")
				if !ok {
					continue
				}
				write := o.Method != "GET"
				auth := !strings.HasPrefix(rest, "records")
				if auth && c.Type != "auth" || !auth && write && c.Type == "view" {
					continue
				}
				concrete := "/api/collections/" + c.Name + "/" + rest
				if item := doc.Paths.Value(concrete); item == nil || item.GetOperation(o.Method) == nil {
					t.Errorf("collection %s (%s): no %s %s in the document", c.Name, c.Type, o.Method, concrete)
				}
			}
			if c.Type == "view" {
				if item := doc.Paths.Value("/api/collections/" + c.Name + "/records"); item != nil && item.Post != nil {
					t.Errorf("view %s: the document describes creating records", c.Name)
				}
			}
		}
		if !types["base"] || !types["auth"] || !types["view"] {
			t.Errorf("collection types covered: %v", types)
		}

		// The result types against the success schemas.
		for _, tt := range []struct {
			op     client.Operation
			schema string // "" for the operation's 200 response; else a component
			typ    any
		}{
			{client.Operation{Method: "GET", Path: "/api/health"}, "", client.Health{}},
			{client.Operation{Method: "POST", Path: "/api/collections/{collection}/auth-with-password"}, "", client.AuthResult{}},
			{client.Operation{Method: "POST", Path: "/api/collections/{collection}/auth-refresh"}, "", client.AuthResult{}},
			{client.Operation{Method: "GET", Path: "/api/collections/{collection}/records"}, "", client.ListResult{}},
			{client.Operation{Method: "GET", Path: "/api/collections"}, "", client.Page[client.Collection]{}},
			{client.Operation{Method: "GET", Path: "/api/collections/{collection}"}, "", client.Collection{}},
			{client.Operation{Method: "POST", Path: "/api/batch"}, "", []client.BatchResult{}},
			{client.Operation{}, "Error", client.Error{}},
		} {
			var sch *openapi3.SchemaRef
			if tt.schema != "" {
				sch = doc.Components.Schemas[tt.schema]
			} else if item := doc.Paths.Value(tt.op.Path); item != nil && item.GetOperation(tt.op.Method) != nil {
				if r := item.GetOperation(tt.op.Method).Responses.Status(http.StatusOK); r != nil && r.Value.Content.Get("application/json") != nil {
					sch = r.Value.Content.Get("application/json").Schema
				}
			}
			name := tt.schema
			if name == "" {
				name = tt.op.Method + " " + tt.op.Path
			}
			if sch == nil || sch.Value == nil {
				t.Errorf("%s: no JSON schema in the document", name)
				continue
			}
			for _, problem := range compareType(name, reflect.TypeOf(tt.typ), sch.Value) {
				t.Error(problem)
			}
		}
	})
}

// compareType lists the ways Go type typ (decoded with encoding/json)
// does not fit schema s: a property the schema does not list, or a kind
// that differs.
func compareType(at string, typ reflect.Type, s *openapi3.Schema) []string {
	return compareAt(at+": ", typ, s)
}

func compareAt(path string, typ reflect.Type, s *openapi3.Schema) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	kind := func(want ...string) []string {
		if s.Type == nil || len(*s.Type) == 0 {
			return nil // any value
		}
		for _, w := range want {
			if s.Type.Includes(w) {
				return nil
			}
		}
		return []string{path + "Go " + typ.String() + " but the document says " + strings.Join(s.Type.Slice(), "|")}
	}
	switch typ.Kind() {
	case reflect.String:
		return kind("string")
	case reflect.Bool:
		return kind("boolean")
	case reflect.Int, reflect.Int64:
		return kind("integer")
	case reflect.Float64:
		return kind("number", "integer")
	case reflect.Map:
		return kind("object")
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Uint8 { // json.RawMessage: any value
			return nil
		}
		if p := kind("array"); p != nil || s.Items == nil || s.Items.Value == nil {
			return p
		}
		return compareAt(strings.TrimSuffix(path, ": ")+"[]: ", typ.Elem(), s.Items.Value)
	case reflect.Struct:
		if p := kind("object"); p != nil || len(s.Properties) == 0 {
			return p // a free-form object: nothing to compare
		}
		var out []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			p := strings.TrimSuffix(path, ": ") + "." + name + ": "
			prop := s.Properties[name]
			if prop == nil || prop.Value == nil {
				out = append(out, p+"decoded by the client but not in the document")
				continue
			}
			out = append(out, compareAt(p, f.Type, prop.Value)...)
		}
		return out
	}
	return nil
}

// TestCheckIsNotVacuous makes sure the transport's check refuses
// exchanges the document does not describe.
func TestCheckIsNotVacuous(t *testing.T) {
	s := start(t, testenv.New(t, "sqlite"))
	check := func(method, target, reqBody string, status int, resBody string) error {
		req, _ := http.NewRequest(method, s.srv.URL+target, strings.NewReader(reqBody))
		if reqBody != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}}
		return s.check(req, []byte(reqBody), res, []byte(resBody))
	}
	if err := check("GET", "/api/health", "", 200, `{"code":200,"message":"API is healthy.","data":{}}`); err != nil {
		t.Fatalf("a valid exchange is refused: %v", err)
	}
	for _, tt := range []struct {
		name, method, target, reqBody string
		status                        int
		resBody                       string
	}{
		{"list envelope", "GET", "/api/collections/users/records", "", 200, `{"page":"1","items":[]}`},
		{"record field type", "GET", "/api/collections/users/records/abc", "", 200, `{"id":"abc","verified":"yes"}`},
		{"error shape", "GET", "/api/collections/users/records/abc", "", 404, `{"error":"not found"}`},
		{"unknown path", "GET", "/api/nowhere", "", 200, `{}`},
		{"query type", "GET", "/api/collections/users/records?page=first", "", 200, `{"page":1,"perPage":30,"totalItems":0,"totalPages":0,"items":[]}`},
		{"auth body accepted", "POST", "/api/collections/users/auth-with-password", `{"identity":"a@b.c"}`, 200, `{"token":"t","record":{"id":"abc"}}`},
		{"status not described", "POST", "/api/collections/users/auth-with-password", `{"identity":"a@b.c","password":"p"}`, 201, `{"token":"t","record":{"id":"abc"}}`},
	} {
		if err := check(tt.method, tt.target, tt.reqBody, tt.status, tt.resBody); err == nil {
			t.Errorf("%s: %s %s passed", tt.name, tt.method, tt.target)
		}
	}
}
