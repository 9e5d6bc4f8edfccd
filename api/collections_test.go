package api_test

import (
	"net/url"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

func TestCollectionsAPI(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		notes := ta.createCollection(map[string]any{"name": "notes", "listRule": "", "viewRule": "",
			"fields": []map[string]any{
				{"name": "title", "type": "text"},
				{"name": "kind", "type": "select", "values": []string{"a", "b"}, "maxSelect": 1},
				{"name": "old", "type": "number"},
			},
			"indexes": []string{"CREATE INDEX idx_notes_title ON notes (title)"}})
		id := notes["id"].(string)
		rec := ta.create("notes", map[string]any{"title": "keep me", "kind": "b", "old": 3})
		fields := notes["fields"].([]any)
		byName := map[string]map[string]any{}
		for _, f := range fields {
			m := f.(map[string]any)
			byName[m["name"].(string)] = m
		}
		// Rename title, drop old, widen kind to multi, add a field, rename
		// the collection and replace the index: one PATCH, data kept.
		byName["title"]["name"] = "heading"
		byName["kind"]["maxSelect"] = 2
		newFields := []any{byName["id"], byName["title"], byName["kind"],
			map[string]any{"name": "extra", "type": "bool"}}
		ta.run(t, []scenario{
			{name: "anonymous cannot list", method: "GET", path: "/api/collections", status: 401},
			{name: "list", method: "GET", path: "/api/collections", as: "su", status: 200, want: []string{`"name":"notes"`, `"name":"users"`, `"name":"_superusers"`}},
			{name: "list filtered", method: "GET", path: "/api/collections?filter=" + url.QueryEscape(`name = "notes"`), as: "su", status: 200, want: []string{`"totalItems":1`}},
			{name: "list filter not supported", method: "GET", path: "/api/collections?filter=" + url.QueryEscape(`fields.name = "x"`), as: "su", status: 400},
			{name: "view by name", method: "GET", path: "/api/collections/notes", as: "su", status: 200, want: []string{`"id":"` + id + `"`, `"indexes":["CREATE INDEX`}},
			{name: "schema change keeps data", method: "PATCH", path: "/api/collections/" + id, as: "su", status: 200,
				body: map[string]any{"name": "memos", "fields": newFields, "indexes": []string{"CREATE UNIQUE INDEX idx_memos_heading ON memos (heading)"}},
				want: []string{`"name":"memos"`, `"name":"heading"`, `"name":"extra"`}, notWant: []string{`"name":"old"`}},
			{name: "data kept", method: "GET", path: "/api/collections/memos/records/" + rec["id"].(string), status: 200,
				want: []string{`"heading":"keep me"`, `"kind":["b"]`, `"extra":false`}, notWant: []string{`"old"`}},
			{name: "old name gone", method: "GET", path: "/api/collections/notes/records", status: 404},
			{name: "unique index enforced", method: "POST", path: "/api/collections/memos/records", body: map[string]any{"heading": "keep me"}, status: 403},
			{name: "unique index enforced su", method: "POST", path: "/api/collections/memos/records", as: "su", body: map[string]any{"heading": "keep me"}, status: 400, want: []string{`"heading":{"code":"validation_not_unique"`}},
			{name: "narrow back to single", method: "PATCH", path: "/api/collections/memos", as: "su", status: 200,
				body: map[string]any{"fields": []any{byName["id"], byName["title"], map[string]any{"id": byName["kind"]["id"], "name": "kind", "type": "select", "values": []string{"a", "b"}, "maxSelect": 1}}}},
			{name: "single again", method: "GET", path: "/api/collections/memos/records/" + rec["id"].(string), status: 200, want: []string{`"kind":"b"`}},
			{name: "type change refused", method: "PATCH", path: "/api/collections/memos", as: "su", status: 400,
				body: map[string]any{"fields": []any{byName["id"], map[string]any{"id": byName["kind"]["id"], "name": "kind", "type": "number"}}},
				want: []string{`validation_field_type_change`}},
			{name: "duplicate name", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "MEMOS"}, want: []string{`"name":{"code":"validation_collection_name_exists"`}},
			{name: "bad name", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "a b"}, want: []string{`"name":{"code":"validation_invalid_name"`}},
			{name: "unknown field type", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "x", "fields": []map[string]any{{"name": "f", "type": "nope"}}}},
			{name: "bad rule", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "x", "listRule": "nope = 1"}, want: []string{`"listRule":{"code":"validation_invalid_rule"`}},
			{name: "bad index", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "x", "indexes": []string{"DROP TABLE users"}}, want: []string{`validation_invalid_index_expression`}},
			{name: "relation to missing collection", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "x", "fields": []map[string]any{{"name": "r", "type": "relation", "collectionId": "nope"}}}},
			{name: "null field", method: "POST", path: "/api/collections", as: "su", status: 400, body: `{"name":"x","fields":[null]}`},
			{name: "malformed body", method: "POST", path: "/api/collections", as: "su", status: 400, body: `{"name":`},
			{name: "view collection", method: "POST", path: "/api/collections", as: "su", status: 200,
				body: map[string]any{"name": "memo_titles", "type": "view", "listRule": "", "viewQuery": "SELECT id, heading AS title FROM memos"},
				want: []string{`"type":"view"`, `"viewQuery":"SELECT id, heading AS title FROM memos"`, `"name":"title"`}},
			{name: "view lists", method: "GET", path: "/api/collections/memo_titles/records?filter=" + url.QueryEscape("title ~ 'keep'"), status: 200, want: []string{`"totalItems":1`, `"title":"keep me"`}},
			{name: "view is read only", method: "POST", path: "/api/collections/memo_titles/records", as: "su", body: map[string]any{"title": "x"}, status: 400},
			{name: "view needs select", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "v2", "type": "view", "viewQuery": "DELETE FROM memos"}},
			{name: "view naming a missing column", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "v4", "type": "view", "viewQuery": "SELECT id, nope FROM memos"},
				want: []string{`"viewQuery"`}},
			{name: "view needs id", method: "POST", path: "/api/collections", as: "su", status: 400, body: map[string]any{"name": "v3", "type": "view", "viewQuery": "SELECT heading FROM memos"}},
			{name: "system collection delete refused", method: "DELETE", path: "/api/collections/_superusers", as: "su", status: 400},
			{name: "drop view", method: "DELETE", path: "/api/collections/memo_titles", as: "su", status: 204},
			{name: "truncate", method: "DELETE", path: "/api/collections/memos/truncate", as: "su", status: 204},
			{name: "truncated", method: "GET", path: "/api/collections/memos/records", as: "su", status: 200, want: []string{`"totalItems":0`}},
			{name: "import", method: "PUT", path: "/api/collections/import", as: "su", status: 204, body: map[string]any{"collections": []map[string]any{
				{"name": "imp_b", "fields": []map[string]any{{"name": "a", "type": "relation", "collectionId": "imp_a"}}},
				{"name": "imp_a", "fields": []map[string]any{{"name": "t", "type": "text"}}},
			}}},
			{name: "imported", method: "GET", path: "/api/collections/imp_b", as: "su", status: 200, want: []string{`"name":"a"`}},
			{name: "import failure rolls back", method: "PUT", path: "/api/collections/import", as: "su", status: 400, body: map[string]any{"collections": []map[string]any{
				{"name": "imp_c"}, {"name": "bad name"},
			}}},
			{name: "nothing imported", method: "GET", path: "/api/collections/imp_c", as: "su", status: 404},
			{name: "delete referenced refused", method: "DELETE", path: "/api/collections/imp_a", as: "su", status: 400, want: []string{`validation_collection_in_use`}},
			{name: "delete", method: "DELETE", path: "/api/collections/memos", as: "su", status: 204},
			{name: "gone", method: "GET", path: "/api/collections/memos", as: "su", status: 404},
		})
	})
}
