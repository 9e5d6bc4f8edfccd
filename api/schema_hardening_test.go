package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// dbObjects lists the tables, views, columns and indexes in the test
// database, read directly, so that a test can tell that a refused request
// left nothing behind.
func dbObjects(t *testing.T, b testenv.Backend) []string {
	t.Helper()
	var db *sql.DB
	var err error
	var q string
	if b.Name == "sqlite" {
		db, err = sql.Open("sqlite", filepath.Join(b.Dir, "data.db"))
		q = `SELECT m.type || ':' || m.name || '.' || COALESCE(p.name, '') FROM sqlite_master m
			LEFT JOIN pragma_table_info(m.name) p ON m.type IN ('table', 'view')`
	} else {
		db, err = sql.Open("pgx", b.URL)
		q = `SELECT 'column:' || table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = current_schema()
			UNION ALL SELECT 'index:' || indexname FROM pg_indexes WHERE schemaname = current_schema()`
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestDDLIdentifierInjection sends identifiers that would break out of a
// quoted SQL identifier through every way a collection reaches DDL; each
// must answer 400 and leave the database as it was (issue 12, item 2).
func TestDDLIdentifierInjection(t *testing.T) {
	t.Parallel()
	// The payloads end the schema change's transaction themselves, so
	// what follows would survive the rollback of the failed request.
	const commitPayload = `x"; COMMIT; CREATE TABLE IF NOT EXISTS pwned (x TEXT); BEGIN; --`
	attachFile := filepath.Join(t.TempDir(), "pwn.db")
	attachPayload := `x" TEXT); ATTACH DATABASE '` + attachFile + `' AS pwn; --`
	text := func(id, name string) map[string]any { return map[string]any{"id": id, "name": name, "type": "text"} }
	selectField := func(id string, max int) map[string]any {
		return map[string]any{"id": id, "name": "s", "type": "select", "values": []string{"a", "b"}, "maxSelect": max}
	}
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		victim := ta.createCollection(map[string]any{"name": "victim", "fields": []any{text("text1234", "a")}})
		before := dbObjects(t, b)
		cases := []struct {
			name, method, path string
			body               any
		}{
			{"import renames a field with a quote in its id", "PUT", "/api/collections/import", map[string]any{"collections": []any{
				map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{text(commitPayload, "a")}},
				map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{text(commitPayload, "b")}},
			}}},
			{"import converts a field with a quote in its id", "PUT", "/api/collections/import", map[string]any{"collections": []any{
				map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{selectField(commitPayload, 1)}},
				map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{selectField(commitPayload, 2)}},
			}}},
			{"import with the issue's payload", "PUT", "/api/collections/import", map[string]any{"collections": []any{
				map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{text(attachPayload, "a")}},
				map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{text(attachPayload, "b")}},
			}}},
			{"create with a quote in a field id", "POST", "/api/collections", map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{text(attachPayload, "a")}}},
			{"create with a quote in the collection id", "POST", "/api/collections", map[string]any{"id": `p"; DROP TABLE victim; --`, "name": "pwn"}},
			{"create with a space in a field id", "POST", "/api/collections", map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{text("a b", "a")}}},
			{"update adds a field with a quote in its id", "PATCH", "/api/collections/victim", map[string]any{"fields": []any{
				victim["fields"].([]any)[0], text("text1234", "a"), text(commitPayload, "b")}}},
			{"import into an existing collection", "PUT", "/api/collections/import", map[string]any{"collections": []any{
				map[string]any{"id": victim["id"], "name": "victim", "fields": []any{text(commitPayload, "a")}},
			}}},
			{"quote in a collection name", "POST", "/api/collections", map[string]any{"name": `pwn"; --`}},
			{"quote in an index name", "POST", "/api/collections", map[string]any{"id": "pbc_pwn", "name": "pwn", "fields": []any{text("text1", "a")},
				"indexes": []string{`CREATE INDEX "x""; DROP TABLE victim; --" ON pwn (a)`}}},
			{"quote in a view column", "POST", "/api/collections", map[string]any{"name": "pwn", "type": "view",
				"viewQuery": `SELECT id, a AS "x""y" FROM victim`}},
		}
		for _, c := range cases {
			status, body := ta.do(c.method, c.path, c.body, ta.su)
			if status != 400 {
				t.Errorf("%s: status %d, want 400; body %s", c.name, status, body)
			}
			if after := dbObjects(t, b); !slices.Equal(before, after) {
				var added, removed []string
				for _, o := range after {
					if !slices.Contains(before, o) {
						added = append(added, o)
					}
				}
				for _, o := range before {
					if !slices.Contains(after, o) {
						removed = append(removed, o)
					}
				}
				t.Fatalf("%s changed the database: added %q, removed %q", c.name, added, removed)
			}
		}
		if _, err := os.Stat(attachFile); err == nil {
			t.Errorf("the ATTACH payload created %s", attachFile)
		}
		ta.run(t, []scenario{
			{name: "nothing imported", method: "GET", path: "/api/collections/pwn", as: "su", status: 404},
			{name: "victim intact", method: "GET", path: "/api/collections/victim", as: "su", status: 200, want: []string{`"id":"text1234"`}},
			// PocketBase's own ids stay accepted.
			{name: "PocketBase ids", method: "PUT", path: "/api/collections/import", as: "su", status: 204, body: map[string]any{"collections": []any{
				map[string]any{"id": "pbc_1234567890", "name": "pb_style", "fields": []any{
					text("text3208210256", "id"), text("_pb_users_auth_", "a"), map[string]any{"id": "geoPoint1542800728", "name": "g", "type": "geoPoint"}}},
			}}},
		})
	})
}

// TestSecretsThroughSchema checks that no collection change makes a secret
// readable: hidden system fields stay hidden and keep their type whatever a
// PATCH, a create or an import says, and a view cannot read hidden fields
// or system tables (issue 12, item 8).
func TestSecretsThroughSchema(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.create("users", map[string]any{"email": "a@example.com", "password": "password-1", "passwordConfirm": "password-1", "emailVisibility": true})
		definition := func(name string) map[string]any {
			var out map[string]any
			ta.mustJSON("GET", "/api/collections/"+name, nil, ta.su, 200, &out)
			return out
		}
		users := definition("users")
		// unhide returns the fields of coll with hidden turned off (and
		// extra set) on the field called name.
		unhide := func(coll map[string]any, name string, extra map[string]any) []any {
			fields := coll["fields"].([]any)
			out := make([]any, len(fields))
			for i, f := range fields {
				m := map[string]any{}
				for k, v := range f.(map[string]any) {
					m[k] = v
				}
				if m["name"] == name {
					m["hidden"] = false
					for k, v := range extra {
						m[k] = v
					}
				}
				out[i] = m
			}
			return out
		}
		withoutField := func(name string) []any {
			var out []any
			for _, f := range users["fields"].([]any) {
				if f.(map[string]any)["name"] != name {
					out = append(out, f)
				}
			}
			return out
		}
		secrets := []string{`"tokenKey"`, `"password"`}
		ta.run(t, []scenario{
			{name: "unhide tokenKey ignored", method: "PATCH", path: "/api/collections/users", as: "su", status: 200,
				body: map[string]any{"listRule": "", "fields": unhide(users, "tokenKey", nil)}},
			{name: "unhide password ignored", method: "PATCH", path: "/api/collections/users", as: "su", status: 200,
				body: map[string]any{"fields": unhide(users, "password", nil)}},
			{name: "records still hide the secrets", method: "GET", path: "/api/collections/users/records", status: 200,
				want: []string{`"email":"a@example.com"`}, notWant: secrets},
			{name: "superusers neither", method: "GET", path: "/api/collections/users/records", as: "su", status: 200, notWant: secrets},
			{name: "unsetting system ignored", method: "PATCH", path: "/api/collections/users", as: "su", status: 200,
				body: map[string]any{"fields": unhide(users, "tokenKey", map[string]any{"system": false})}},
			// An auth collection gets its auth fields back when they are
			// left out: tokenKey returns, hidden, with its values.
			{name: "so tokenKey cannot be removed", method: "PATCH", path: "/api/collections/users", as: "su", status: 200,
				body: map[string]any{"fields": withoutField("tokenKey")}, want: []string{`"id":"text2504183744","name":"tokenKey","type":"text","system":true,"hidden":true`}},
			{name: "type change refused", method: "PATCH", path: "/api/collections/users", as: "su", status: 400,
				body: map[string]any{"fields": unhide(users, "tokenKey", map[string]any{"type": "json"})}, want: []string{"validation_system_field_type"}},
			{name: "type change of a system collection's secret refused", method: "PATCH", path: "/api/collections/_totps", as: "su", status: 400,
				body: map[string]any{"fields": unhide(definition("_totps"), "secret", map[string]any{"type": "json"})}, want: []string{"validation_field_type_change"}},
			{name: "system collection secret stays hidden", method: "PATCH", path: "/api/collections/_otps", as: "su", status: 200,
				body: map[string]any{"fields": unhide(definition("_otps"), "password", nil)},
				want: []string{`"name":"password","type":"password","system":true,"hidden":true`}},
			{name: "superusers' tokenKey stays hidden", method: "PATCH", path: "/api/collections/_superusers", as: "su", status: 200,
				body: map[string]any{"fields": unhide(definition("_superusers"), "tokenKey", nil)},
				want: []string{`"name":"tokenKey","type":"text","system":true,"hidden":true`}},
			{name: "superusers still hidden", method: "GET", path: "/api/collections/_superusers/records", as: "su", status: 200, notWant: secrets},
			{name: "new auth collection: tokenKey sent visible", method: "POST", path: "/api/collections", as: "su", status: 200,
				body: map[string]any{"name": "members", "type": "auth", "fields": []any{map[string]any{"name": "tokenKey", "type": "text", "hidden": false}}},
				want: []string{`"name":"tokenKey","type":"text","system":true,"hidden":true`}},
			{name: "new auth collection: tokenKey of another type", method: "POST", path: "/api/collections", as: "su", status: 400,
				body: map[string]any{"name": "members2", "type": "auth", "fields": []any{map[string]any{"name": "tokenKey", "type": "json"}}},
				want: []string{"validation_system_field_type"}},
			{name: "import cannot unhide", method: "PUT", path: "/api/collections/import", as: "su", status: 204,
				body: map[string]any{"collections": []any{map[string]any{"id": users["id"], "name": "users", "type": "auth", "fields": unhide(users, "tokenKey", nil)}}}},
			{name: "after import", method: "GET", path: "/api/collections/users/records", as: "su", status: 200, notWant: secrets},
			{name: "after import, definition", method: "GET", path: "/api/collections/users", as: "su", status: 200,
				want: []string{`"name":"tokenKey","type":"text","system":true,"hidden":true`}},
		})
		// Views: whatever way the query reads a hidden field or a system
		// table, it is refused.
		for i, q := range []string{
			`SELECT id, tokenKey FROM users`,
			`SELECT id, "tokenKey" AS t FROM users`,
			`SELECT id, password FROM users`,
			`SELECT id, substr(tokenKey, 1, 5) AS t FROM users`,
			`SELECT * FROM users`,
			`SELECT u.* FROM users u`,
			`SELECT id, email FROM users WHERE tokenKey > 'm'`,
			`SELECT id, (SELECT password FROM _superusers LIMIT 1) AS p FROM users`,
			`SELECT id, secret FROM _totps`,
			`SELECT key AS id, value FROM _params`,
			`SELECT id, definition FROM _collections`,
			`SELECT name AS id, sql FROM sqlite_master`,
			`SELECT id, pg_read_file('/etc/hostname') AS f FROM users`,
			`SELECT id, row_to_json(u)::text AS j FROM users u`,
		} {
			status, body := ta.do("POST", "/api/collections", map[string]any{"name": fmt.Sprint("leak", i), "type": "view", "listRule": "", "viewQuery": q}, ta.su)
			if status != 400 || !bytes.Contains(body, []byte("validation_invalid_view_query")) {
				t.Errorf("view %q: status %d, want 400; body %s", q, status, body)
			}
		}
		ta.run(t, []scenario{
			{name: "a view of visible fields works", method: "POST", path: "/api/collections", as: "su", status: 200,
				body: map[string]any{"name": "public_users", "type": "view", "listRule": "", "viewQuery": "SELECT u.id, u.email, u.verified FROM users u WHERE u.\"emailVisibility\" = TRUE"}},
			{name: "and lists", method: "GET", path: "/api/collections/public_users/records", status: 200, want: []string{`"email":"a@example.com"`}, notWant: secrets},
			{name: "no leak view left", method: "GET", path: "/api/collections?filter=name~'leak'", as: "su", status: 200, want: []string{`"totalItems":0`}},
		})
	})
}

// TestPageOverflow checks page and perPage parsing: an offset that would
// overflow answers 400, never 500 or page 1; garbage is a 400; zero and
// negative values mean the defaults, as in PocketBase (issue 12, item 9).
func TestPageOverflow(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "notes", "listRule": "", "fields": []any{map[string]any{"name": "t", "type": "text"}}})
		for i := 0; i < 3; i++ {
			ta.create("notes", map[string]any{"t": fmt.Sprint(i)})
		}
		var sc []scenario
		for _, base := range []string{"/api/collections/notes/records", "/api/collections"} {
			as := ""
			if base == "/api/collections" {
				as = "su"
			}
			sc = append(sc,
				scenario{name: "max int64 page", method: "GET", path: base + "?page=9223372036854775807", as: as, status: 400},
				scenario{name: "max int64 page, perPage 1000", method: "GET", path: base + "?page=9223372036854775807&perPage=1000", as: as, status: 400},
				scenario{name: "overflowing page", method: "GET", path: base + "?page=9223372036854775808", as: as, status: 400},
				scenario{name: "huge page, one per page", method: "GET", path: base + "?page=9223372036854775807&perPage=1", as: as, status: 200, want: []string{`"items":[]`}},
				scenario{name: "large page past the end", method: "GET", path: base + "?page=9223372036854775&perPage=1000", as: as, status: 200, want: []string{`"page":9223372036854775`, `"items":[]`}},
				scenario{name: "garbage page", method: "GET", path: base + "?page=abc", as: as, status: 400},
				scenario{name: "garbage perPage", method: "GET", path: base + "?perPage=1e3", as: as, status: 400},
				scenario{name: "negative page is page 1", method: "GET", path: base + "?page=-5&perPage=1", as: as, status: 200, want: []string{`"page":1,"perPage":1`}},
				scenario{name: "negative perPage is the default", method: "GET", path: base + "?perPage=-1", as: as, status: 200, want: []string{`"perPage":30`}},
				scenario{name: "perPage capped", method: "GET", path: base + "?perPage=5000", as: as, status: 200, want: []string{`"perPage":1000`}},
			)
		}
		ta.run(t, sc)
	})
}

// TestMetricsAccess checks who may read /metrics: superusers, and a
// scraper with the configured bearer secret; guests and other auth records
// are refused (issue 12, item 9).
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, func(c *plinth.Config) { c.MetricsToken = "scrape-secret-1" })
		ta.create("users", map[string]any{"email": "u@example.com", "password": "password-1", "passwordConfirm": "password-1"})
		var user struct{ Token string }
		ta.mustJSON("POST", "/api/collections/users/auth-with-password", map[string]any{"identity": "u@example.com", "password": "password-1"}, "", 200, &user)
		metric := []string{`plinth_http_requests_total`}
		ta.run(t, []scenario{
			{name: "guest", method: "GET", path: "/metrics", status: 401, notWant: metric},
			{name: "user", method: "GET", path: "/metrics", as: user.Token, status: 403, notWant: metric},
			{name: "wrong secret", method: "GET", path: "/metrics", as: "Bearer scrape-secret-2", status: 401, notWant: metric},
			{name: "prefix of the secret", method: "GET", path: "/metrics", as: "Bearer scrape-secret", status: 401, notWant: metric},
			{name: "bearer secret", method: "GET", path: "/metrics", as: "Bearer scrape-secret-1", status: 200, want: metric},
			{name: "superuser", method: "GET", path: "/metrics", as: "su", status: 200, want: metric},
			// Authenticated requests are counted under their route too
			// (the token's middleware hands the mux another request).
			{name: "authenticated routes are labelled", method: "GET", path: "/metrics", as: "su", status: 200,
				want:    []string{`plinth_http_requests_total{route="GET /metrics",status="200"}`, `plinth_http_requests_total{route="GET /metrics",status="403"}`},
				notWant: []string{`route="unmatched",status="200"`}},
		})
	})
}

// TestBatchUpsertOracle checks that a batch upsert tells a caller nothing
// about a record it may not see: for an id that exists but is hidden, the
// answer is the one a plain create of that id gets, and the record is left
// as it was (issue 12, item 9).
func TestBatchUpsertOracle(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "notes", "createRule": "",
			"listRule": "owner = 'nobody'", "viewRule": "owner = 'nobody'", "updateRule": "owner = 'nobody'",
			"fields": []any{map[string]any{"name": "owner", "type": "text"}, map[string]any{"name": "body", "type": "text"}}})
		const hidden = "hiddenrecord123"
		ta.create("notes", map[string]any{"id": hidden, "owner": "admin", "body": "secret"})
		ta.createCollection(map[string]any{"name": "locked", "createRule": "", "updateRule": nil,
			"fields": []any{map[string]any{"name": "body", "type": "text"}}})
		ta.create("locked", map[string]any{"id": hidden, "body": "secret"})
		batch := func(method, coll, id string) (int, string) {
			status, body := ta.do("POST", "/api/batch", map[string]any{"requests": []any{map[string]any{
				"method": method, "url": "/api/collections/" + coll + "/records", "body": map[string]any{"id": id, "body": "x"}}}}, "")
			return status, string(body)
		}
		for _, coll := range []string{"notes", "locked"} {
			upStatus, upBody := batch("PUT", coll, hidden)
			crStatus, crBody := batch("POST", coll, hidden)
			if upStatus != crStatus || upBody != crBody {
				t.Errorf("%s: upsert of a hidden id answers %d %s; a create of it %d %s", coll, upStatus, upBody, crStatus, crBody)
			}
			if status, body := batch("PUT", coll, "missingrecord12"); status != 200 || !strings.Contains(body, `"id":"missingrecord12"`) {
				t.Errorf("%s: upsert of a missing id: %d %s", coll, status, body)
			}
			ta.run(t, []scenario{{name: coll + " untouched", method: "GET", path: "/api/collections/" + coll + "/records/" + hidden, as: "su", status: 200, want: []string{`"body":"secret"`}}})
		}
		// A caller who may update still updates.
		ta.run(t, []scenario{{name: "superuser upsert updates", method: "POST", path: "/api/batch", as: "su", status: 200,
			body: map[string]any{"requests": []any{map[string]any{"method": "PUT", "url": "/api/collections/notes/records", "body": map[string]any{"id": hidden, "body": "new"}}}},
			want: []string{`"body":"new"`, `"owner":"admin"`}}})
	})
}

// TestBackRelationExpandManyParents expands back-relations over a page of
// 1,000 parents, single and multiple relations, with children pointing at
// parents of different chunks (issue 12, item 9).
func TestBackRelationExpandManyParents(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		posts := ta.createCollection(map[string]any{"name": "posts", "listRule": "", "viewRule": "",
			"fields": []any{map[string]any{"name": "title", "type": "text"}}})
		ta.createCollection(map[string]any{"name": "comments", "listRule": "", "viewRule": "",
			"fields": []any{map[string]any{"name": "post", "type": "relation", "collectionId": posts["id"], "maxSelect": 1},
				map[string]any{"name": "body", "type": "text"}}})
		ta.createCollection(map[string]any{"name": "labels", "listRule": "", "viewRule": "",
			"fields": []any{map[string]any{"name": "posts", "type": "relation", "collectionId": posts["id"], "maxSelect": 5},
				map[string]any{"name": "label", "type": "text"}}})
		const n = 1000
		id := func(i int) string { return fmt.Sprintf("post%011d", i) }
		var reqs []any
		flush := func() {
			if len(reqs) > 0 {
				ta.mustJSON("POST", "/api/batch", map[string]any{"requests": reqs}, ta.su, 200, nil)
				reqs = nil
			}
		}
		add := func(coll string, body map[string]any) {
			reqs = append(reqs, map[string]any{"method": "POST", "url": "/api/collections/" + coll + "/records", "body": body})
			if len(reqs) == 50 {
				flush()
			}
		}
		for i := range n {
			add("posts", map[string]any{"id": id(i), "title": fmt.Sprint(i)})
		}
		for i := 0; i < n; i += 7 {
			add("comments", map[string]any{"post": id(i), "body": fmt.Sprint("c", i)})
		}
		add("comments", map[string]any{"post": id(n - 1), "body": "last"})
		add("labels", map[string]any{"posts": []string{id(0), id(n - 1)}, "label": "both ends"})
		flush()
		var page struct {
			Items []struct {
				ID     string
				Expand struct {
					Comments []struct{ Body string }  `json:"comments_via_post"`
					Labels   []struct{ Label string } `json:"labels_via_posts"`
				}
			}
		}
		ta.mustJSON("GET", "/api/collections/posts/records?perPage=1000&expand=comments_via_post,labels_via_posts", nil, "", 200, &page)
		if len(page.Items) != n {
			t.Fatalf("got %d posts", len(page.Items))
		}
		comments, labels := 0, 0
		for i, p := range page.Items {
			comments += len(p.Expand.Comments)
			labels += len(p.Expand.Labels)
			if i%7 == 0 && (len(p.Expand.Comments) == 0 || p.Expand.Comments[0].Body != fmt.Sprint("c", i)) {
				t.Errorf("post %d: comments %+v", i, p.Expand.Comments)
			}
		}
		last := page.Items[n-1].Expand
		if comments != (n+6)/7+1 || labels != 2 || len(last.Labels) != 1 || len(page.Items[0].Expand.Labels) != 1 || len(last.Comments) != 1 {
			t.Errorf("expanded %d comments, %d labels; last post %+v", comments, labels, last)
		}
	})
}

// TestPocketBaseParity checks that a collection created through the API
// gets no created/updated fields unless they are sent, and that a
// PocketBase export (testdata/pb_export.json, PocketBase's v0.23+ shape)
// imports with its fields exactly as exported: ids, names, order, options
// (issue 12, item 10).
func TestPocketBaseParity(t *testing.T) {
	t.Parallel()
	export, err := os.ReadFile("testdata/pb_export.json")
	if err != nil {
		t.Fatal(err)
	}
	var collections []map[string]any
	if err := json.Unmarshal(export, &collections); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		fieldNames := func(c map[string]any) []string {
			var out []string
			for _, f := range c["fields"].([]any) {
				out = append(out, f.(map[string]any)["name"].(string))
			}
			return out
		}
		base := ta.createCollection(map[string]any{"name": "plain", "fields": []any{map[string]any{"name": "title", "type": "text"}}})
		if got := fieldNames(base); !slices.Equal(got, []string{"id", "title"}) {
			t.Errorf("base collection fields %v, want [id title]", got)
		}
		members := ta.createCollection(map[string]any{"name": "plain_members", "type": "auth"})
		if got := fieldNames(members); slices.Contains(got, "created") || slices.Contains(got, "updated") {
			t.Errorf("auth collection fields %v: created/updated were not sent", got)
		}
		sent := ta.createCollection(map[string]any{"name": "dated", "fields": []any{
			map[string]any{"name": "created", "type": "autodate", "onCreate": true},
			map[string]any{"name": "title", "type": "text"}}})
		if got := fieldNames(sent); !slices.Equal(got, []string{"id", "created", "title"}) {
			t.Errorf("sent created: fields %v", got)
		}
		rec := ta.create("plain", map[string]any{"title": "x"})
		if _, ok := rec["created"]; ok {
			t.Errorf("record of a collection without created: %v", rec)
		}
		// Update keeps created/updated absent.
		ta.mustJSON("PATCH", "/api/collections/plain", map[string]any{"listRule": ""}, ta.su, 200, &base)
		if got := fieldNames(base); !slices.Equal(got, []string{"id", "title"}) {
			t.Errorf("after update: fields %v", got)
		}

		ta.mustJSON("PUT", "/api/collections/import", map[string]any{"collections": collections}, ta.su, 204, nil)
		for _, want := range collections {
			var got map[string]any
			ta.mustJSON("GET", "/api/collections/"+want["name"].(string), nil, ta.su, 200, &got)
			wf, gf := want["fields"].([]any), got["fields"].([]any)
			if len(wf) != len(gf) {
				t.Errorf("%s: %d fields, want %d: %v", want["name"], len(gf), len(wf), fieldNames(got))
				continue
			}
			for i := range wf {
				w, g := wf[i].(map[string]any), gf[i].(map[string]any)
				for k, v := range w {
					if !reflect.DeepEqual(g[k], v) {
						t.Errorf("%s field %d (%s): %s = %#v, want %#v", want["name"], i, w["name"], k, g[k], v)
					}
				}
			}
			// The collection's own keys and options: what PocketBase sent
			// comes back (Plinth may add keys of its own, such as
			// oauth2.providers).
			for k, v := range want {
				if k == "fields" || k == "created" || k == "updated" {
					continue
				}
				if !contains(got[k], v) {
					t.Errorf("%s: %s = %#v, want %#v", want["name"], k, got[k], v)
				}
			}
		}
	})
}

// contains reports whether got holds want: equal values, where for objects
// every key of want must be in got with a value that holds want's.
func contains(got, want any) bool {
	wm, ok := want.(map[string]any)
	if !ok {
		return reflect.DeepEqual(got, want)
	}
	gm, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range wm {
		if !contains(gm[k], v) {
			return false
		}
	}
	return true
}

// TestLongIdentifiers checks names that PostgreSQL would cut to the same
// 63 bytes: they are refused as duplicates on both databases (they were a
// 500 on PostgreSQL), and a long name alone still works.
func TestLongIdentifiers(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 70)
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.run(t, []scenario{
			{name: "fields sharing 63 characters", method: "POST", path: "/api/collections", as: "su", status: 400,
				body: map[string]any{"name": "longf", "fields": []any{map[string]any{"name": long + "1", "type": "text"}, map[string]any{"name": long + "2", "type": "text"}}},
				want: []string{"validation_duplicated_field_name"}},
			{name: "one long collection name", method: "POST", path: "/api/collections", as: "su", status: 200,
				body: map[string]any{"name": long + "x", "fields": []any{map[string]any{"name": long, "type": "text"}}}},
			{name: "another sharing its 63 characters", method: "POST", path: "/api/collections", as: "su", status: 400,
				body: map[string]any{"name": long + "y"}, want: []string{"validation_collection_name_exists"}},
			{name: "indexes sharing 63 characters", method: "POST", path: "/api/collections", as: "su", status: 400,
				body: map[string]any{"name": "longi", "fields": []any{map[string]any{"name": "a", "type": "text"}},
					"indexes": []string{"CREATE INDEX " + long + "1 ON longi (a)", "CREATE INDEX " + long + "2 ON longi (a)"}},
				want: []string{"validation_duplicated_index_name"}},
			{name: "the long one works", method: "POST", path: "/api/collections/" + long + "x/records", as: "su", status: 200,
				body: map[string]any{long: "v"}, want: []string{`"` + long + `":"v"`}},
		})
	})
}

// TestNamesOfTheDatabaseItself: a collection cannot take the name of a
// table, index or type that is not a collection (the job queue's, the
// row counts', an index of another collection): a clear 400, not a 500
// from the database.
func TestNamesOfTheDatabaseItself(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "posts", "fields": []map[string]any{{"name": "title", "type": "text"}},
			"indexes": []string{"CREATE INDEX idx_posts_title ON posts (title)"}})
		taken := `The name is taken by a table, index or type of the database itself.`
		var scenarios []scenario
		for _, name := range []string{"river_job", "river_queue", "river_leader", "idx_posts_title"} {
			scenarios = append(scenarios,
				scenario{name: "create " + name, method: "POST", path: "/api/collections", as: "su",
					body: map[string]any{"name": name}, status: 400, want: []string{taken}},
				scenario{name: "view " + name, method: "POST", path: "/api/collections", as: "su",
					body: map[string]any{"name": name, "type": "view", "viewQuery": "SELECT id FROM posts"}, status: 400, want: []string{taken}},
				scenario{name: "rename to " + name, method: "PATCH", path: "/api/collections/posts", as: "su",
					body: map[string]any{"name": name}, status: 400, want: []string{taken}})
		}
		scenarios = append(scenarios,
			scenario{name: "a collection's own name, in another case", method: "PATCH", path: "/api/collections/posts", as: "su",
				body: map[string]any{"name": "Posts"}, status: 200, want: []string{`"name":"Posts"`}},
			scenario{name: "a free name", method: "POST", path: "/api/collections", as: "su",
				body: map[string]any{"name": "river"}, status: 200})
		ta.run(t, scenarios)
	})
}
