package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

// blog creates users-like authors, tags, posts and comments with every
// common field type, and returns the ids.
func blog(ta *testApp) (authors, tags, posts []string) {
	a := ta.createCollection(map[string]any{"name": "authors", "type": "base", "listRule": "", "viewRule": "",
		"fields": []map[string]any{{"name": "name", "type": "text", "required": true}}})
	tg := ta.createCollection(map[string]any{"name": "tags", "type": "base", "listRule": "", "viewRule": "",
		"fields": []map[string]any{{"name": "label", "type": "text"}}})
	ta.createCollection(map[string]any{"name": "posts", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
		"fields": []map[string]any{
			{"name": "title", "type": "text", "required": true, "max": 100},
			{"name": "slug", "type": "text"},
			{"name": "views", "type": "number"},
			{"name": "published", "type": "bool"},
			{"name": "contact", "type": "email"},
			{"name": "site", "type": "url"},
			{"name": "body", "type": "editor"},
			{"name": "due", "type": "date"},
			{"name": "status", "type": "select", "values": []string{"draft", "live"}, "maxSelect": 1},
			{"name": "labels", "type": "select", "values": []string{"a", "b", "c"}, "maxSelect": 3},
			{"name": "meta", "type": "json"},
			{"name": "where", "type": "geoPoint"},
			{"name": "author", "type": "relation", "collectionId": a["id"], "maxSelect": 1, "cascadeDelete": true},
			{"name": "tags", "type": "relation", "collectionId": tg["id"], "maxSelect": 5},
		},
		"indexes": []string{"CREATE UNIQUE INDEX idx_posts_slug ON posts (slug) WHERE slug != ''", "CREATE INDEX idx_posts_views ON posts (views)"},
	})
	ta.createCollection(map[string]any{"name": "comments", "type": "base", "listRule": "", "viewRule": "",
		"fields": []map[string]any{
			{"name": "message", "type": "text"},
			{"name": "post", "type": "relation", "collectionId": "posts", "maxSelect": 1, "required": true},
		}})
	for _, n := range []string{"Ann", "Bob"} {
		authors = append(authors, ta.create("authors", map[string]any{"name": n})["id"].(string))
	}
	for _, l := range []string{"go", "sql", "web"} {
		tags = append(tags, ta.create("tags", map[string]any{"label": l})["id"].(string))
	}
	for i := range 5 {
		p := ta.create("posts", map[string]any{
			"title": fmt.Sprintf("Post %d", i), "slug": fmt.Sprintf("post-%d", i), "views": i * 10, "published": i%2 == 0,
			"status": "live", "labels": []string{"a", "b"}[:1+i%2], "meta": map[string]any{"rank": i, "tags": []string{"x"}},
			"author": authors[i%2], "tags": tags[:1+i%3], "body": "<p>Hello <b>world</b> number " + fmt.Sprint(i) + " with a long text</p>",
			"where": map[string]any{"lon": 10.5, "lat": 20.25}, "due": "2030-01-0" + fmt.Sprint(i+1) + " 10:00:00.000Z",
		})
		posts = append(posts, p["id"].(string))
	}
	ta.create("comments", map[string]any{"message": "first", "post": posts[0]})
	ta.create("comments", map[string]any{"message": "second", "post": posts[0]})
	return
}

func TestRecordsAPI(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		authors, tags, posts := blog(ta)
		q := url.QueryEscape
		ta.run(t, []scenario{
			{name: "list all", method: "GET", path: "/api/collections/posts/records", status: 200,
				want: []string{`"page":1`, `"perPage":30`, `"totalItems":5`, `"totalPages":1`, `"collectionName":"posts"`}},
			{name: "paging", method: "GET", path: "/api/collections/posts/records?perPage=2&page=2&sort=title", status: 200,
				want: []string{`"page":2`, `"perPage":2`, `"totalItems":5`, `"totalPages":3`, `"Post 2"`, `"Post 3"`}, notWant: []string{`"Post 1"`, `"Post 4"`}},
			{name: "skipTotal", method: "GET", path: "/api/collections/posts/records?skipTotal=1&perPage=1", status: 200,
				want: []string{`"totalItems":-1`, `"totalPages":-1`}},
			{name: "filter number and bool", method: "GET", path: "/api/collections/posts/records?filter=" + q("views >= 20 && published = true"), status: 200,
				want: []string{`"totalItems":2`, `"Post 2"`, `"Post 4"`}},
			{name: "filter like", method: "GET", path: "/api/collections/posts/records?filter=" + q("title ~ 'post 3'"), status: 200,
				want: []string{`"totalItems":1`, `"Post 3"`}},
			{name: "filter relation path", method: "GET", path: "/api/collections/posts/records?filter=" + q("author.name = 'Bob'"), status: 200,
				want: []string{`"totalItems":2`}},
			{name: "filter any-of multi relation", method: "GET", path: "/api/collections/posts/records?filter=" + q("tags.label ?= 'sql'"), status: 200,
				want: []string{`"totalItems":3`}},
			{name: "filter json path", method: "GET", path: "/api/collections/posts/records?filter=" + q("meta.rank > 2"), status: 200,
				want: []string{`"totalItems":2`}},
			{name: "filter back relation", method: "GET", path: "/api/collections/posts/records?filter=" + q("comments_via_post.message ?= 'second'"), status: 200,
				want: []string{`"totalItems":1`, posts[0]}},
			{name: "sort desc multi", method: "GET", path: "/api/collections/posts/records?sort=-published,-views&fields=title", status: 200,
				want: []string{`[{"title":"Post 4"},{"title":"Post 2"},{"title":"Post 0"},{"title":"Post 3"},{"title":"Post 1"}]`}},
			{name: "sort random", method: "GET", path: "/api/collections/posts/records?sort=@random", status: 200, want: []string{`"totalItems":5`}},
			{name: "sort by row id, newest first", method: "GET", path: "/api/collections/posts/records?sort=-@rowid&fields=title&filter=" + q("views < 30"), status: 200,
				want: []string{`[{"title":"Post 2"},{"title":"Post 1"},{"title":"Post 0"}]`}},
			{name: "sort by row id", method: "GET", path: "/api/collections/posts/records?sort=@rowid&fields=title&perPage=2", status: 200,
				want: []string{`[{"title":"Post 0"},{"title":"Post 1"}]`}},
			{name: "fields and excerpt", method: "GET", path: "/api/collections/posts/records/" + posts[1] + "?fields=" + q("id,body:excerpt(11,true)"), status: 200,
				want: []string{`"body":"Hello world..."`}, notWant: []string{`"title"`}},
			{name: "expand single and nested fields", method: "GET", path: "/api/collections/posts/records/" + posts[0] + "?expand=author,tags&fields=" + q("id,expand.author.name"), status: 200,
				want: []string{`"expand":{"author":{"name":"Ann"}}`}},
			{name: "expand multi", method: "GET", path: "/api/collections/posts/records/" + posts[2] + "?expand=tags", status: 200,
				want: []string{`"tags":[{`, `"label":"go"`, `"label":"web"`}},
			{name: "expand back relation nested", method: "GET", path: "/api/collections/posts/records/" + posts[0] + "?expand=" + q("comments_via_post.post.author"), status: 200,
				want: []string{`"comments_via_post":[`, `"message":"first"`, `"name":"Ann"`}},
			{name: "view", method: "GET", path: "/api/collections/posts/records/" + posts[0], status: 200,
				want: []string{`"id":"` + posts[0] + `"`, `"meta":{"rank":0,"tags":["x"]}`, `"where":{"lon":10.5,"lat":20.25}`, `"labels":["a"]`, `"due":"2030-01-01 10:00:00.000Z"`}},
			{name: "update with modifiers", method: "PATCH", path: "/api/collections/posts/records/" + posts[1], body: map[string]any{"views+": 5, "labels+": "c", "labels-": "b", "title": "Renamed"}, status: 200,
				want: []string{`"views":15`, `"labels":["a","c"]`, `"title":"Renamed"`}},
			{name: "unique violation", method: "POST", path: "/api/collections/posts/records", body: map[string]any{"title": "dup", "slug": "post-1"}, status: 400,
				want: []string{`"slug":{"code":"validation_not_unique"`}},
			{name: "missing relation", method: "POST", path: "/api/collections/posts/records", body: map[string]any{"title": "x", "author": "nosuchid1234567"}, status: 400,
				want: []string{`"author":{"code":"validation_missing_rel_records"`}},
			{name: "missing one of a multi relation", method: "POST", path: "/api/collections/posts/records", body: map[string]any{"title": "x", "slug": "multi-missing", "tags": []string{tags[0], "nosuchid1234567", tags[1]}}, status: 400,
				want: []string{`"tags":{"code":"validation_missing_rel_records"`}, notWant: []string{`"author"`}},
			{name: "refused insert left no row", method: "GET", path: "/api/collections/posts/records?filter=" + q("slug = 'multi-missing'"), status: 200,
				want: []string{`"totalItems":0`}},
			{name: "valid relations keep their order", method: "POST", path: "/api/collections/posts/records", body: map[string]any{"title": "x", "author": authors[0], "tags": []string{tags[2], tags[0]}}, status: 200,
				want: []string{`"tags":["` + tags[2] + `","` + tags[0] + `"]`}},
			{name: "repeated relation id", method: "POST", path: "/api/collections/posts/records", body: map[string]any{"title": "x", "tags": []string{tags[1], tags[1]}}, status: 200,
				want: []string{`"tags":["` + tags[1] + `"]`}},
			{name: "update to a missing relation", method: "PATCH", path: "/api/collections/posts/records/" + posts[3], body: map[string]any{"author": "nosuchid1234567"}, status: 400,
				want: []string{`"author":{"code":"validation_missing_rel_records"`}},
			{name: "refused update changed nothing", method: "GET", path: "/api/collections/posts/records/" + posts[3], status: 200,
				want: []string{`"author":"` + authors[1] + `"`}},
			{name: "required", method: "POST", path: "/api/collections/posts/records", body: map[string]any{"views": 1}, status: 400,
				want: []string{`"status":400`, `"title":{"code":"validation_required"`}},
			{name: "wrong type", method: "POST", path: "/api/collections/posts/records", body: map[string]any{"title": "x", "views": map[string]any{}}, status: 400,
				want: []string{`"views":{"code":`}},
			{name: "unknown field", method: "POST", path: "/api/collections/posts/records", body: map[string]any{"title": "x", "nope": 1}, status: 400,
				want: []string{`"nope":{"code":"validation_unknown_field"`}},
			{name: "malformed json", method: "POST", path: "/api/collections/posts/records", body: `{"title":`, status: 400, want: []string{`"status":400`}},
			{name: "bad filter", method: "GET", path: "/api/collections/posts/records?filter=" + q("title = "), status: 400, want: []string{`"status":400`}},
			{name: "unknown filter field", method: "GET", path: "/api/collections/posts/records?filter=" + q("nope = 1"), status: 400},
			{name: "bad sort", method: "GET", path: "/api/collections/posts/records?sort=nope", status: 400},
			{name: "bad expand", method: "GET", path: "/api/collections/posts/records?expand=title", status: 400},
			{name: "bad fields", method: "GET", path: "/api/collections/posts/records?fields=" + q("title:nope(1)"), status: 400},
			{name: "bad page", method: "GET", path: "/api/collections/posts/records?page=x", status: 400},
			{name: "unknown collection", method: "GET", path: "/api/collections/nope/records", status: 404, want: []string{`"status":404`}},
			{name: "unknown record", method: "GET", path: "/api/collections/posts/records/nosuchrecord12", status: 404},
			{name: "invalid id chars", method: "GET", path: "/api/collections/posts/records/" + q("../etc"), status: 404},
			{name: "null rule anonymous list", method: "GET", path: "/api/collections/_superusers/records", status: 403},
			{name: "null rule anonymous create", method: "POST", path: "/api/collections/_superusers/records", body: map[string]any{}, status: 403},
			{name: "superuser sees null rule", method: "GET", path: "/api/collections/_superusers/records", as: "su", status: 200, want: []string{`admin@example.com`}, notWant: []string{`"password"`, `tokenKey`}},
			{name: "cascade delete author", method: "DELETE", path: "/api/collections/authors/records/" + authors[1], as: "su", status: 204},
			{name: "cascaded posts gone", method: "GET", path: "/api/collections/posts/records?filter=" + q("author = '"+authors[1]+"'"), status: 200, want: []string{`"totalItems":0`}},
			{name: "refused delete (required relation)", method: "DELETE", path: "/api/collections/posts/records/" + posts[0], status: 400, want: []string{`validation_relation_required`}},
		})
	})
}

func TestBatch(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		_, _, posts := blog(ta)
		var results []struct {
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body"`
		}
		ta.mustJSON("POST", "/api/batch", map[string]any{"requests": []map[string]any{
			{"method": "POST", "url": "/api/collections/posts/records", "body": map[string]any{"title": "B1", "slug": "b1"}},
			{"method": "PATCH", "url": "/api/collections/posts/records/" + posts[3], "body": map[string]any{"views+": 1}},
			{"method": "PUT", "url": "/api/collections/posts/records", "body": map[string]any{"id": "upsertedrecord1", "title": "U"}},
			{"method": "PUT", "url": "/api/collections/posts/records", "body": map[string]any{"id": posts[4], "title": "U4"}},
			{"method": "DELETE", "url": "/api/collections/posts/records/" + posts[2]},
		}}, "", 200, &results)
		if len(results) != 5 || results[0].Status != 200 || results[4].Status != 204 {
			t.Fatalf("results %+v", results)
		}
		ta.run(t, []scenario{
			{name: "upserted", method: "GET", path: "/api/collections/posts/records/upsertedrecord1", status: 200, want: []string{`"title":"U"`}},
			{name: "upsert updated", method: "GET", path: "/api/collections/posts/records/" + posts[4], status: 200, want: []string{`"title":"U4"`}},
			{name: "rollback on failure", method: "POST", path: "/api/batch", body: map[string]any{"requests": []map[string]any{
				{"method": "POST", "url": "/api/collections/posts/records", "body": map[string]any{"title": "rolled back", "slug": "rb"}},
				{"method": "POST", "url": "/api/collections/posts/records", "body": map[string]any{"slug": "no title"}},
			}}, status: 400, want: []string{`"message":"Batch transaction failed."`, `"1":{"code":"batch_request_failed"`, `validation_required`}},
			{name: "nothing kept", method: "GET", path: "/api/collections/posts/records?filter=" + url.QueryEscape("slug = 'rb'"), status: 200, want: []string{`"totalItems":0`}},
			{name: "empty batch", method: "POST", path: "/api/batch", body: map[string]any{"requests": []any{}}, status: 400},
			{name: "bad url", method: "POST", path: "/api/batch", body: map[string]any{"requests": []map[string]any{{"method": "GET", "url": "/api/health"}}}, status: 400},
		})
	})
}
