package api_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"

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
