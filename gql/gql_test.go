package gql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

type env struct {
	t   *testing.T
	url string
	app *plinth.App
	su  string
}

func setup(t *testing.T, b testenv.Backend) *env {
	t.Helper()
	ctx := context.Background()
	app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, DisableRateLimits: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); app.Close() })
	if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, url: srv.URL, app: app}
	var res struct{ Token string }
	e.rest("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": "admin@example.com", "password": "secret-pass-1"}, "", 200, &res)
	e.su = res.Token
	return e
}

func (e *env) send(method, path string, body any, token string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

func (e *env) rest(method, path string, body any, token string, status int, out any) []byte {
	e.t.Helper()
	got, data := e.send(method, path, body, token)
	if got != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatal(err)
		}
	}
	return data
}

type gqlResponse struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions map[string]any `json:"extensions"`
	status     int
	raw        string
}

func (e *env) gql(token, query string, vars map[string]any) gqlResponse {
	e.t.Helper()
	status, data := e.send("POST", "/api/graphql", map[string]any{"query": query, "variables": vars}, token)
	var r gqlResponse
	if err := json.Unmarshal(data, &r); err != nil {
		e.t.Fatalf("graphql %q: status %d, body %s", query, status, data)
	}
	r.status, r.raw = status, string(data)
	if status >= 500 {
		e.t.Fatalf("graphql %q: status %d: %s", query, status, data)
	}
	return r
}

// errStatus is the REST status a GraphQL error reports, 0 for none.
func (r gqlResponse) errStatus() int {
	if len(r.Errors) == 0 {
		return 0
	}
	s, _ := r.Errors[0].Extensions["status"].(float64)
	return int(s)
}

// blog creates users, posts (owner rules, a hidden field) and comments.
func (e *env) blog() (owner, other string, ownerID, otherID string) {
	e.t.Helper()
	var users struct{ ID string }
	e.rest("GET", "/api/collections/users", nil, e.su, 200, &users)
	e.rest("POST", "/api/collections", map[string]any{
		"name": "posts", "type": "base",
		"listRule": "owner = @request.auth.id", "viewRule": "owner = @request.auth.id",
		"createRule": "@request.auth.id != '' && owner = @request.auth.id", "updateRule": "owner = @request.auth.id", "deleteRule": "owner = @request.auth.id",
		"fields": []map[string]any{
			{"name": "title", "type": "text", "required": true},
			{"name": "score", "type": "number"},
			{"name": "tags", "type": "select", "values": []string{"go", "sql", "web"}, "maxSelect": 3},
			{"name": "secret", "type": "text", "hidden": true},
			{"name": "owner", "type": "relation", "collectionId": users.ID, "maxSelect": 1},
		},
	}, e.su, 200, nil)
	var posts struct{ ID string }
	e.rest("GET", "/api/collections/posts", nil, e.su, 200, &posts)
	e.rest("POST", "/api/collections", map[string]any{
		"name": "comments", "type": "base", "listRule": "", "viewRule": "",
		"fields": []map[string]any{
			{"name": "body", "type": "text"},
			{"name": "post", "type": "relation", "collectionId": posts.ID, "maxSelect": 1},
			{"name": "author", "type": "relation", "collectionId": users.ID, "maxSelect": 1},
		},
	}, e.su, 200, nil)
	ids := map[string]string{}
	for _, email := range []string{"owner@example.com", "other@example.com"} {
		var u struct{ ID string }
		e.rest("POST", "/api/collections/users/records", map[string]any{"email": email, "password": "pass-12345", "passwordConfirm": "pass-12345", "name": email[:5]}, e.su, 200, &u)
		ids[email] = u.ID
	}
	login := func(email string) string {
		r := e.gql("", `mutation($i: String!) { auth_with_password(collection: "users", identity: $i, password: "pass-12345") { token record } }`, map[string]any{"i": email})
		if len(r.Errors) > 0 {
			e.t.Fatalf("login: %s", r.raw)
		}
		var res struct{ Token string }
		json.Unmarshal(r.Data["auth_with_password"], &res)
		return res.Token
	}
	return login("owner@example.com"), login("other@example.com"), ids["owner@example.com"], ids["other@example.com"]
}

func TestRulesMatchREST(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		e := setup(t, b)
		owner, other, ownerID, otherID := e.blog()
		var p struct{ ID string }
		e.rest("POST", "/api/collections/posts/records", map[string]any{"title": "mine", "score": 5, "secret": "s3", "owner": ownerID}, owner, 200, &p)
		e.rest("POST", "/api/collections/posts/records", map[string]any{"title": "theirs", "score": 9, "owner": otherID}, other, 200, nil)
		key := func(scopes ...string) string {
			var out struct{ Key string }
			e.rest("POST", "/api/api-keys", map[string]any{"name": "k", "scopes": scopes}, e.su, 200, &out)
			return out.Key
		}
		callers := map[string]string{"guest": "", "owner": owner, "other": other, "superuser": e.su,
			"full key": key("posts:list", "posts:view", "posts:create", "posts:update", "posts:delete"),
			"read key": key("posts:list", "posts:view"), "foreign key": key("comments:list")}
		for name, tok := range callers {
			// list: the same records as REST.
			var page struct {
				Items []struct{ ID string }
			}
			status, data := e.send("GET", "/api/collections/posts/records", nil, tok)
			json.Unmarshal(data, &page)
			r := e.gql(tok, `{ posts(order_by: [{title: asc}]) { id title } }`, nil)
			var list []struct{ ID string }
			json.Unmarshal(r.Data["posts"], &list)
			if status != 200 {
				if r.errStatus() != status {
					t.Errorf("%s: list: REST %d, graphql %s", name, status, r.raw)
				}
			} else if len(list) != len(page.Items) || len(r.Errors) > 0 {
				t.Errorf("%s: list: graphql %s, REST %d items", name, r.raw, len(page.Items))
			}
			// view: found exactly when REST finds it.
			status, _ = e.send("GET", "/api/collections/posts/records/"+p.ID, nil, tok)
			r = e.gql(tok, `query($id: String!) { posts_by_pk(id: $id) { id } }`, map[string]any{"id": p.ID})
			if found := string(r.Data["posts_by_pk"]) != "null"; found != (status == 200) {
				t.Errorf("%s: view: graphql %s, REST %d", name, r.raw, status)
			}
			// create: refused with the status REST answers.
			body := map[string]any{"title": "new " + name, "owner": ownerID}
			status, _ = e.send("POST", "/api/collections/posts/records", body, tok)
			r = e.gql(tok, `mutation($o: posts_insert_input!) { insert_posts_one(object: $o) { id title } }`, map[string]any{"o": body})
			if status == 200 {
				if len(r.Errors) > 0 {
					t.Errorf("%s: create: REST 200, graphql %s", name, r.raw)
				}
			} else if r.errStatus() != status {
				t.Errorf("%s: create: REST %d, graphql %s", name, status, r.raw)
			}
			// update: allowed exactly when REST allows it.
			status, _ = e.send("PATCH", "/api/collections/posts/records/"+p.ID, map[string]any{"score": 6}, tok)
			r = e.gql(tok, `mutation($id: String!) { update_posts_by_pk(pk_columns: {id: $id}, _set: {score: 7}) { id score } }`, map[string]any{"id": p.ID})
			if ok := len(r.Errors) == 0 && string(r.Data["update_posts_by_pk"]) != "null"; ok != (status == 200) {
				t.Errorf("%s: update: REST %d, graphql %s", name, status, r.raw)
			}
		}
		// Hidden fields are not in the schema, for anyone.
		r := e.gql(e.su, `{ posts { secret } }`, nil)
		if r.status != 400 || len(r.Errors) == 0 {
			t.Errorf("hidden field query: %d %s", r.status, r.raw)
		}
		r = e.gql(e.su, `{ __type(name: "posts") { fields { name } } }`, nil)
		if strings.Contains(r.raw, "secret") || !strings.Contains(r.raw, "title") {
			t.Errorf("introspection shows %s", r.raw)
		}
		// An email is shown as REST shows it: not to other users.
		r = e.gql(other, `{ comments { id } users(where: {id: {_eq: "`+ownerID+`"}}) { id email } }`, nil)
		if strings.Contains(r.raw, "owner@example.com") {
			t.Errorf("email leaked: %s", r.raw)
		}
		// delete: the owner may, the other may not.
		r = e.gql(other, `mutation($id: String!) { delete_posts_by_pk(id: $id) { id } }`, map[string]any{"id": p.ID})
		if string(r.Data["delete_posts_by_pk"]) != "null" {
			t.Errorf("other deleted: %s", r.raw)
		}
		r = e.gql(owner, `mutation($id: String!) { delete_posts_by_pk(id: $id) { id title } }`, map[string]any{"id": p.ID})
		if !strings.Contains(r.raw, `"title":"mine"`) {
			t.Errorf("owner delete: %s", r.raw)
		}
		e.rest("GET", "/api/collections/posts/records/"+p.ID, nil, e.su, 404, nil)
	})
}

func TestQueriesAndBatching(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		e := setup(t, b)
		owner, _, ownerID, _ := e.blog()
		reads := func(n int) (float64, gqlResponse) {
			for i := 0; i < n; i++ {
				var p struct{ ID string }
				e.rest("POST", "/api/collections/posts/records", map[string]any{"title": fmt.Sprintf("p%02d", i), "score": i, "tags": []string{"go"}, "owner": ownerID}, owner, 200, &p)
				for j := 0; j < 3; j++ {
					e.rest("POST", "/api/collections/comments/records", map[string]any{"body": fmt.Sprintf("c%d", j), "post": p.ID, "author": ownerID}, e.su, 200, nil)
				}
			}
			r := e.gql(owner, `{ posts(limit: 100) { title owner { id name } comments_via_post { body author { name } post { title } } } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("nested: %s", r.raw)
			}
			return r.Extensions["reads"].(float64), r
		}
		few, r := reads(2)
		if !strings.Contains(r.raw, `{"body":"c0","author":{"name":"owner"},"post":{"title":"p00"}}`) {
			t.Errorf("nested shape: %s", r.raw)
		}
		many, _ := reads(20)
		if few != many || many > 5 {
			t.Errorf("reads grew with rows: %v for 2 posts, %v for 22", few, many)
		}
		// where, order_by, limit, offset, aggregate.
		r = e.gql(owner, `{ posts(where: {_and: [{score: {_gte: 3}}, {score: {_lt: 6}}], title: {_nin: ["p04"]}}, order_by: [{score: desc}], limit: 2, offset: 1) { title }
			posts_aggregate(where: {tags: {_eq: "go"}}) { aggregate { count } } }`, nil)
		if !strings.Contains(r.raw, `"posts":[{"title":"p03"}]`) || !strings.Contains(r.raw, `"count":22`) {
			t.Errorf("where/order/aggregate: %s", r.raw)
		}
		r = e.gql(owner, `{ posts(where: {_not: {title: {_like: "p0"}}, _or: [{score: {_in: [10, 11]}}, {title: {_is_null: true}}]}, order_by: {title: asc}) { title } }`, nil)
		if !strings.Contains(r.raw, `[{"title":"p10"},{"title":"p11"}]`) {
			t.Errorf("_not/_or/_in: %s", r.raw)
		}
		// Values are bound, not spliced: a quote is just a character.
		r = e.gql(owner, `{ posts(where: {title: {_eq: "x\" || id != \""}}) { title } }`, nil)
		if len(r.Errors) > 0 || !strings.Contains(r.raw, `"posts":[]`) {
			t.Errorf("quoted value: %s", r.raw)
		}
	})
}

func TestErrorsAndLimits(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		e := setup(t, b)
		e.blog()
		for _, c := range []struct {
			query  string
			status int
			want   string
		}{
			{`{ posts { id `, 400, "Expected"},
			{`{ nope }`, 400, "Cannot query field"},
			{`{ posts(filter: "nope = 1") { id } }`, 200, "Invalid filter"},
			{`{ posts(filter: "((") { id } }`, 200, "Invalid filter"},
			{`{ posts(limit: 5000) { id } }`, 200, "at most 1000"},
			{`{ posts(limit: -1) { id } }`, 200, "non-negative"},
			{`{ comments { post { owner { id } } author { id } } posts(limit: 1000) { comments_via_post { post { comments_via_post { post { comments_via_post { post { comments_via_post { post { comments_via_post { id } } } } } } } } } } }`, 200, "levels deep"},
			{`{ a: posts(limit: 1000) { comments_via_post { post { comments_via_post { id } } } } }`, 200, "complexity"},
			{`{ posts_by_pk(id: "../../etc") { id } }`, 200, `"posts_by_pk":null`},
		} {
			r := e.gql(e.su, c.query, nil)
			if r.status != c.status || !strings.Contains(r.raw, c.want) {
				t.Errorf("%s: %d %s", c.query, r.status, r.raw)
			}
		}
		// A GET request works, a body that is not JSON is a 400.
		status, data := e.send("GET", "/api/graphql?query=%7Bposts%7Bid%7D%7D", nil, e.su)
		if status != 200 || !strings.Contains(string(data), `"posts":[]`) {
			t.Errorf("GET: %d %s", status, data)
		}
		req, _ := http.NewRequest("POST", e.url+"/api/graphql", strings.NewReader("{"))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Errorf("bad JSON: %d", res.StatusCode)
		}
		// Introspection is on by default and can be turned off.
		if r := e.gql("", `{ __schema { types { name } } }`, nil); !strings.Contains(r.raw, "posts_bool_exp") {
			t.Errorf("introspection: %s", r.raw)
		}
		e.rest("PATCH", "/api/settings", map[string]any{"graphql": map[string]any{"disableIntrospection": true}}, e.su, 200, nil)
		if r := e.gql("", `{ __schema { types { name } } }`, nil); !strings.Contains(r.raw, "introspection is disabled") {
			t.Errorf("introspection off: %s", r.raw)
		}
	})
}

func TestSchemaSwap(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		e := setup(t, b)
		if r := e.gql(e.su, `{ notes { id } }`, nil); r.status != 400 {
			t.Fatalf("before: %s", r.raw)
		}
		e.rest("POST", "/api/collections", map[string]any{"name": "notes", "listRule": "", "fields": []map[string]any{{"name": "text", "type": "text"}}}, e.su, 200, nil)
		e.rest("POST", "/api/collections/notes/records", map[string]any{"text": "hi"}, e.su, 200, nil)
		if r := e.gql("", `{ notes { text } }`, nil); !strings.Contains(r.raw, `"notes":[{"text":"hi"}]`) {
			t.Fatalf("after create: %s", r.raw)
		}
		e.rest("PATCH", "/api/collections/notes", map[string]any{"fields": []map[string]any{{"name": "text", "type": "text"}, {"name": "n", "type": "number"}}}, e.su, 200, nil)
		if r := e.gql("", `{ notes { text n } }`, nil); !strings.Contains(r.raw, `"n":0`) {
			t.Fatalf("after field added: %s", r.raw)
		}
		if b.Name != "postgres" {
			return
		}
		// A second instance on the same database sees the change through
		// the schema signal.
		app2, err := plinth.New(context.Background(), plinth.Config{DataDir: t.TempDir(), DatabaseURL: b.URL, BcryptCost: 4}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv2 := httptest.NewServer(app2.Handler())
		defer func() { srv2.Close(); app2.Close() }()
		e2 := &env{t: t, url: srv2.URL, app: app2}
		e2.gql("", `{ notes { text } }`, nil)
		time.Sleep(2 * time.Second) // the second instance's LISTEN goes live
		e.rest("POST", "/api/collections", map[string]any{"name": "later", "listRule": "", "fields": []map[string]any{{"name": "x", "type": "text"}}}, e.su, 200, nil)
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := e2.gql("", `{ later { x } }`, nil)
			if r.status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("second instance never saw the new collection: %s", r.raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
