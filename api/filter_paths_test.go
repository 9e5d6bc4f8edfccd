package api_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestFilterPathsPoliced checks that a client's filter or sort obeys, on
// every segment of a relation or back-relation path, what the client may
// read: hidden fields are refused, emails read as null unless visible, and
// joined rows are only those the client's list rule allows. Otherwise the
// filter is an oracle: `author.tokenKey >= "m"` answered by which posts
// come back recovers the key by binary search. A filter that equals a
// secret and one that does not must give the same answer.
func TestFilterPathsPoliced(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "members", "type": "auth", "listRule": "", "viewRule": "",
			"fields": []map[string]any{{"name": "name", "type": "text"}, {"name": "ssn", "type": "text", "hidden": true}}})
		ann := ta.create("members", map[string]any{"email": "ann@example.com", "emailVisibility": false, "name": "Ann", "ssn": "111",
			"password": "member-password-1", "passwordConfirm": "member-password-1"})
		bob := ta.create("members", map[string]any{"email": "bob@example.com", "emailVisibility": true, "name": "Bob", "ssn": "222",
			"password": "member-password-1", "passwordConfirm": "member-password-1"})
		var annAuth struct{ Token string }
		ta.mustJSON("POST", "/api/collections/members/auth-with-password", map[string]any{"identity": "ann@example.com", "password": "member-password-1"}, "", 200, &annAuth)

		ta.createCollection(map[string]any{"name": "secrets", "fields": []map[string]any{{"name": "body", "type": "text"}}}) // superusers only
		ta.createCollection(map[string]any{"name": "diaries", "listRule": "owner = @request.auth.id",
			"fields": []map[string]any{{"name": "body", "type": "text"}, {"name": "owner", "type": "relation", "collectionId": "members", "maxSelect": 1}}})
		sec := ta.create("secrets", map[string]any{"body": "s3cret"})
		annDiary := ta.create("diaries", map[string]any{"body": "dear diary", "owner": ann["id"]})
		ta.createCollection(map[string]any{"name": "posts", "listRule": "", "viewRule": "",
			"fields": []map[string]any{{"name": "title", "type": "text"},
				{"name": "author", "type": "relation", "collectionId": "members", "maxSelect": 1},
				{"name": "secret", "type": "relation", "collectionId": "secrets", "maxSelect": 1},
				{"name": "diary", "type": "relation", "collectionId": "diaries", "maxSelect": 1}}})
		ta.create("posts", map[string]any{"title": "by ann", "author": ann["id"], "secret": sec["id"], "diary": annDiary["id"]})
		ta.create("posts", map[string]any{"title": "by bob", "author": bob["id"]})
		ta.createCollection(map[string]any{"name": "tags", "listRule": "", "fields": []map[string]any{{"name": "name", "type": "text"}}})
		tag := ta.create("tags", map[string]any{"name": "go"})
		ta.createCollection(map[string]any{"name": "notes", // superusers only
			"fields": []map[string]any{{"name": "body", "type": "text"}, {"name": "tag", "type": "relation", "collectionId": "tags", "maxSelect": 1}}})
		ta.create("notes", map[string]any{"body": "hidden-note", "tag": tag["id"]})

		list := func(coll, filter string) string {
			return "/api/collections/" + coll + "/records?filter=" + url.QueryEscape(filter)
		}
		sorted := func(coll, sort string) string {
			return "/api/collections/" + coll + "/records?sort=" + url.QueryEscape(sort)
		}
		none, one, two := `"totalItems":0`, `"totalItems":1`, `"totalItems":2`
		ta.run(t, []scenario{
			// Hidden fields, on the root and through a relation.
			{name: "tokenKey through a relation", method: "GET", path: list("posts", `author.tokenKey >= ""`), status: 403},
			{name: "hidden field through a relation", method: "GET", path: list("posts", `author.ssn = "111"`), status: 403},
			{name: "password through a relation", method: "GET", path: list("posts", `author.password != ""`), status: 403},
			{name: "hidden field on the root", method: "GET", path: list("members", `ssn = "111"`), status: 403},
			{name: "sort by a hidden field through a relation", method: "GET", path: sorted("posts", "author.tokenKey"), status: 403},
			{name: "superuser may filter by hidden fields", method: "GET", path: list("posts", `author.ssn = "111"`), as: "su", status: 200, want: []string{one}},
			// Emails: null unless visible, one's own, or managed.
			{name: "hidden email equal", method: "GET", path: list("posts", `author.email = "ann@example.com"`), status: 200, want: []string{none}},
			{name: "hidden email, another guess", method: "GET", path: list("posts", `author.email = "zed@example.com"`), status: 200, want: []string{none}},
			{name: "hidden email not equal", method: "GET", path: list("posts", `author.email != "ann@example.com"`), status: 200, want: []string{two}},
			{name: "hidden email not equal, another guess", method: "GET", path: list("posts", `author.email != "zed@example.com"`), status: 200, want: []string{two}},
			{name: "hidden email range", method: "GET", path: list("posts", `author.email >= "a"`), status: 200, want: []string{one, "by bob"}, notWant: []string{"by ann"}},
			{name: "visible email", method: "GET", path: list("posts", `author.email = "bob@example.com"`), status: 200, want: []string{one}},
			{name: "hidden email on the root", method: "GET", path: list("members", `email = "ann@example.com"`), status: 200, want: []string{none}},
			{name: "own email", method: "GET", path: list("posts", `author.email = "ann@example.com"`), as: annAuth.Token, status: 200, want: []string{one}},
			{name: "superuser sees every email", method: "GET", path: list("posts", `author.email = "ann@example.com"`), as: "su", status: 200, want: []string{one}},
			// Rows of joined collections: only what the caller may list.
			{name: "superusers-only relation equal", method: "GET", path: list("posts", `secret.body = "s3cret"`), status: 200, want: []string{none}},
			{name: "superusers-only relation, another guess", method: "GET", path: list("posts", `secret.body = "guess"`), status: 200, want: []string{none}},
			{name: "superusers-only relation not equal", method: "GET", path: list("posts", `secret.body != "s3cret"`), status: 200, want: []string{two}},
			{name: "superusers-only relation not equal, another guess", method: "GET", path: list("posts", `secret.body != "guess"`), status: 200, want: []string{two}},
			{name: "superusers-only relation range", method: "GET", path: list("posts", `secret.body >= ""`), status: 200, want: []string{none}},
			{name: "superuser reads the relation", method: "GET", path: list("posts", `secret.body = "s3cret"`), as: "su", status: 200, want: []string{one}},
			{name: "owner rule through a relation: guest", method: "GET", path: list("posts", `diary.body = "dear diary"`), status: 200, want: []string{none}},
			{name: "owner rule through a relation: owner", method: "GET", path: list("posts", `diary.body = "dear diary"`), as: annAuth.Token, status: 200, want: []string{one}},
			{name: "back-relation equal", method: "GET", path: list("tags", `notes_via_tag.body ?= "hidden-note"`), status: 200, want: []string{none}},
			{name: "back-relation, another guess", method: "GET", path: list("tags", `notes_via_tag.body ?= "guess"`), status: 200, want: []string{none}},
			{name: "back-relation range", method: "GET", path: list("tags", `notes_via_tag.body ?>= ""`), status: 200, want: []string{none}},
			{name: "back-relation count", method: "GET", path: list("tags", `notes_via_tag:length > 0`), status: 200, want: []string{none}},
			{name: "superuser back-relation", method: "GET", path: list("tags", `notes_via_tag.body ?= "hidden-note"`), as: "su", status: 200, want: []string{one}},
			{name: "public relation still works", method: "GET", path: list("posts", `author.name = "Bob"`), status: 200, want: []string{one, "by bob"}},
			{name: "sort through a relation", method: "GET", path: sorted("posts", "-author.name"), status: 200, want: []string{two}},
		})

		// Realtime subscription filters are policed the same way.
		guest, su := ta.connectSSE(), ta.connectSSE()
		opts := func(filter string) string {
			return "posts/*?options=" + url.QueryEscape(`{"query":{"filter":`+strconv.Quote(filter)+`}}`)
		}
		ta.subscribe(guest, "", opts(`secret.body = "s3cret"`))
		ta.subscribe(su, ta.su, opts(`secret.body = "s3cret"`))
		ta.create("posts", map[string]any{"title": "another", "secret": sec["id"]})
		if f := su.next(5 * time.Second); !strings.Contains(f[1], `"title":"another"`) {
			t.Fatalf("superuser's subscription got %q", f)
		}
		if f := guest.next(300 * time.Millisecond); f[0] != "" {
			t.Errorf("guest's subscription filter read a superusers-only relation: %q", f)
		}
	})
}

// TestFilterCostBudget checks that client filters that join too many
// multi-valued relations are refused before they reach the database.
func TestFilterCostBudget(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "nodes", "listRule": "", "fields": []map[string]any{{"name": "name", "type": "text"}}})
		ta.mustJSON("PATCH", "/api/collections/nodes", map[string]any{"fields": []map[string]any{
			{"name": "name", "type": "text"},
			{"name": "parent", "type": "relation", "collectionId": "nodes", "maxSelect": 1}}}, ta.su, 200, nil)
		deep := "nodes_via_parent.nodes_via_parent.nodes_via_parent.nodes_via_parent.name ?= 'x'"
		ta.run(t, []scenario{
			{name: "two nested back-relations", method: "GET", path: "/api/collections/nodes/records?filter=" + url.QueryEscape("nodes_via_parent.nodes_via_parent.name ?= 'x'"), status: 200},
			{name: "four nested back-relations", method: "GET", path: "/api/collections/nodes/records?filter=" + url.QueryEscape(deep), status: 400, want: []string{"too many multi-valued relations"}},
			{name: "superuser: four nested back-relations", method: "GET", path: "/api/collections/nodes/records?filter=" + url.QueryEscape(deep), as: "su", status: 200},
			{name: "many paths", method: "GET", path: "/api/collections/nodes/records?filter=" + url.QueryEscape(strings.Repeat("parent.parent.parent.name = 'x' || ", 10)+"name = 'x'"), status: 400, want: []string{"joins too many relations"}},
		})
	})
}
