package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

// signUp creates a user through the public users collection and logs in.
func (ta *testApp) signUp(email string) (id, token string) {
	ta.t.Helper()
	var rec map[string]any
	ta.mustJSON("POST", "/api/collections/users/records", map[string]any{
		"email": email, "password": "user-password-1", "passwordConfirm": "user-password-1",
	}, "", 200, &rec)
	var auth struct {
		Token  string
		Record map[string]any
	}
	ta.mustJSON("POST", "/api/collections/users/auth-with-password", map[string]any{"identity": email, "password": "user-password-1"}, "", 200, &auth)
	return rec["id"].(string), auth.Token
}

// TestOwnerRules checks rules with @request.auth on every action, for
// the owner, another user and a guest.
func TestOwnerRules(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ann, annTok := ta.signUp("ann@example.com")
		bob, bobTok := ta.signUp("bob@example.com")
		owner := "owner = @request.auth.id"
		ta.createCollection(map[string]any{"name": "notes",
			"listRule": owner, "viewRule": owner, "createRule": "@request.auth.id != '' && @request.body.owner = @request.auth.id",
			"updateRule": owner + " && @request.body.owner:isset = false", "deleteRule": owner,
			"fields": []map[string]any{{"name": "text", "type": "text"}, {"name": "owner", "type": "relation", "collectionId": "users", "maxSelect": 1}}})
		var note map[string]any
		ta.mustJSON("POST", "/api/collections/notes/records", map[string]any{"text": "ann's", "owner": ann}, annTok, 200, &note)
		id := note["id"].(string)
		// (A note with an empty owner would match a guest: @request.auth.id
		// is "" for guests, as in PocketBase.)
		ta.create("notes", map[string]any{"text": "bob's", "owner": bob})
		ta.run(t, []scenario{
			{name: "owner lists own only", method: "GET", path: "/api/collections/notes/records", as: annTok, status: 200, want: []string{`"totalItems":1`, `"ann's"`}},
			{name: "other user lists own only", method: "GET", path: "/api/collections/notes/records", as: bobTok, status: 200, want: []string{`"totalItems":1`, `"bob's"`}, notWant: []string{`ann's`}},
			{name: "guest lists none", method: "GET", path: "/api/collections/notes/records", status: 200, want: []string{`"totalItems":0`}},
			{name: "superuser lists all", method: "GET", path: "/api/collections/notes/records", as: "su", status: 200, want: []string{`"totalItems":2`}},
			{name: "owner views", method: "GET", path: "/api/collections/notes/records/" + id, as: annTok, status: 200},
			{name: "other user 404", method: "GET", path: "/api/collections/notes/records/" + id, as: bobTok, status: 404},
			{name: "create for someone else fails the rule", method: "POST", path: "/api/collections/notes/records", as: bobTok, body: map[string]any{"text": "x", "owner": ann}, status: 400},
			{name: "guest create fails the rule", method: "POST", path: "/api/collections/notes/records", body: map[string]any{"text": "x"}, status: 400},
			{name: "other user cannot update", method: "PATCH", path: "/api/collections/notes/records/" + id, as: bobTok, body: map[string]any{"text": "hacked"}, status: 404},
			{name: "owner cannot move ownership", method: "PATCH", path: "/api/collections/notes/records/" + id, as: annTok, body: map[string]any{"owner": ""}, status: 404},
			{name: "owner updates", method: "PATCH", path: "/api/collections/notes/records/" + id, as: annTok, body: map[string]any{"text": "edited"}, status: 200, want: []string{`"edited"`}},
			{name: "other user cannot delete", method: "DELETE", path: "/api/collections/notes/records/" + id, as: bobTok, status: 404},
			{name: "expand obeys the users view rule", method: "GET", path: "/api/collections/notes/records/" + id + "?expand=owner", as: annTok, status: 200, want: []string{`"email":"ann@example.com"`}},
			{name: "client filter cannot read @request", method: "GET", path: "/api/collections/notes/records?filter=" + url.QueryEscape("@request.auth.id != ''"), as: annTok, status: 403},
			{name: "users: own record only", method: "GET", path: "/api/collections/users/records", as: bobTok, status: 200, want: []string{`"totalItems":1`, `bob@example.com`}, notWant: []string{`ann@example.com`, `password`, `tokenKey`}},
			{name: "auth refresh", method: "POST", path: "/api/collections/users/auth-refresh", as: annTok, status: 200, want: []string{`"token":"`, `"email":"ann@example.com"`}},
			{name: "refresh needs a token", method: "POST", path: "/api/collections/users/auth-refresh", status: 401},
			{name: "wrong password", method: "POST", path: "/api/collections/users/auth-with-password", body: map[string]any{"identity": "ann@example.com", "password": "nope-nope-1"}, status: 400},
			{name: "unknown identity", method: "POST", path: "/api/collections/users/auth-with-password", body: map[string]any{"identity": "zed@example.com", "password": "nope-nope-1"}, status: 400},
			{name: "password mismatch on sign-up", method: "POST", path: "/api/collections/users/records", body: map[string]any{"email": "c@example.com", "password": "user-password-1", "passwordConfirm": "x"}, status: 400, want: []string{`"passwordConfirm":{"code":"validation_values_mismatch"`}},
			{name: "duplicate email", method: "POST", path: "/api/collections/users/records", body: map[string]any{"email": "ann@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1"}, status: 400, want: []string{`"email":{"code":"validation_not_unique"`}},
			{name: "tokenKey is not input", method: "POST", path: "/api/collections/users/records", body: map[string]any{"email": "d@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1", "tokenKey": "x"}, status: 400},
		})
		// A rule that reads request headers sees them.
		ta.createCollection(map[string]any{"name": "team_docs", "listRule": `@request.headers.x_team = "red"`,
			"fields": []map[string]any{{"name": "t", "type": "text"}}})
		ta.create("team_docs", map[string]any{"t": "x"})
		status, body := ta.doHeader("GET", "/api/collections/team_docs/records", "X-Team", "red")
		if status != 200 || !strings.Contains(string(body), `"totalItems":1`) {
			t.Errorf("header rule with X-Team: red: %d %s", status, body)
		}
		ta.run(t, []scenario{{name: "header rule without the header", method: "GET", path: "/api/collections/team_docs/records", status: 200, want: []string{`"totalItems":0`}}})
		// A password change invalidates older tokens.
		ta.mustJSON("PATCH", "/api/collections/users/records/"+ann, map[string]any{"password": "user-password-2", "passwordConfirm": "user-password-2"}, ta.su, 200, nil)
		ta.run(t, []scenario{
			{name: "old token no longer works", method: "POST", path: "/api/collections/users/auth-refresh", as: annTok, status: 401},
		})
	})
}
