package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plinthdev/plinth/internal/testenv"
)

// apiKey creates an API key as superuser and returns it.
func (ta *testApp) apiKey(name string, scopes ...string) string {
	ta.t.Helper()
	var out struct{ Key string }
	ta.mustJSON("POST", "/api/api-keys", map[string]any{"name": name, "scopes": scopes}, ta.su, 200, &out)
	if !strings.HasPrefix(out.Key, "plk_") {
		ta.t.Fatalf("api key %q: unexpected form", out.Key)
	}
	return out.Key
}

// TestAuthorizationMatrix runs every actor (anonymous, owner, other user,
// superuser, API keys with full, read-only and foreign scopes) against
// every action (list, view, create, update, delete, expand, batch) on an
// owner-ruled collection and a superusers-only one.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ann, annTok := ta.signUp("ann@example.com")
		_, bobTok := ta.signUp("bob@example.com")
		owner := "owner = @request.auth.id"
		ta.createCollection(map[string]any{"name": "notes",
			"listRule": owner, "viewRule": owner, "createRule": "@request.auth.id != '' && @request.body.owner = @request.auth.id",
			"updateRule": owner, "deleteRule": owner,
			"fields": []map[string]any{{"name": "text", "type": "text"}, {"name": "owner", "type": "relation", "collectionId": "users", "maxSelect": 1}}})
		ta.createCollection(map[string]any{"name": "secrets", "fields": []map[string]any{{"name": "text", "type": "text"}}})
		note := ta.create("notes", map[string]any{"text": "ann's", "owner": ann})["id"].(string)
		secret := ta.create("secrets", map[string]any{"text": "s"})["id"].(string)

		actors := []struct{ name, token string }{
			{"anonymous", ""},
			{"owner", annTok},
			{"other", bobTok},
			{"superuser", ta.su},
			{"key-notes", "Bearer " + ta.apiKey("full", "notes:*")},
			{"key-readonly", ta.apiKey("ro", "notes:list", "notes:view")},
			{"key-secrets", ta.apiKey("secrets", "secrets:*")},
		}
		// want holds, per actor: the visible count of notes when it is fixed
		// (the owner's grows as the test runs); the statuses of list, view,
		// create, update, delete on notes and then on secrets; whether an
		// expand of the note's owner shows the owner; the batch status.
		type row struct {
			notesCount     string
			notes, secrets [5]int
			expandEmail    bool
			batch          int
		}
		want := map[string]row{
			"anonymous":    {"0", [5]int{200, 404, 400, 404, 404}, [5]int{403, 403, 403, 403, 403}, false, 400},
			"owner":        {"", [5]int{200, 200, 200, 200, 204}, [5]int{403, 403, 403, 403, 403}, true, 200},
			"other":        {"0", [5]int{200, 404, 400, 404, 404}, [5]int{403, 403, 403, 403, 403}, false, 400},
			"superuser":    {"", [5]int{200, 200, 200, 200, 204}, [5]int{200, 200, 200, 200, 204}, true, 200},
			"key-notes":    {"", [5]int{200, 200, 200, 200, 204}, [5]int{403, 403, 403, 403, 403}, false, 200},
			"key-readonly": {"", [5]int{200, 200, 403, 403, 403}, [5]int{403, 403, 403, 403, 403}, false, 400},
			"key-secrets":  {"", [5]int{403, 403, 403, 403, 403}, [5]int{200, 200, 200, 200, 204}, false, 400},
		}
		for _, a := range actors {
			w := want[a.name]
			// Each actor deletes a fresh record of its own, owned by ann.
			delNote := ta.create("notes", map[string]any{"text": "to delete", "owner": ann})["id"].(string)
			delSecret := ta.create("secrets", map[string]any{"text": "to delete"})["id"].(string)
			listWant := []string{`"items":[`}
			if w.notesCount != "" {
				listWant = append(listWant, `"totalItems":`+w.notesCount+`,`)
			}
			scs := []scenario{
				{name: a.name + " lists notes", method: "GET", path: "/api/collections/notes/records", status: w.notes[0]},
				{name: a.name + " views a note", method: "GET", path: "/api/collections/notes/records/" + note, status: w.notes[1]},
				{name: a.name + " creates a note", method: "POST", path: "/api/collections/notes/records", body: map[string]any{"text": "new", "owner": ann}, status: w.notes[2]},
				{name: a.name + " updates a note", method: "PATCH", path: "/api/collections/notes/records/" + note, body: map[string]any{"text": "edited by " + a.name}, status: w.notes[3]},
				{name: a.name + " deletes a note", method: "DELETE", path: "/api/collections/notes/records/" + delNote, status: w.notes[4]},
				{name: a.name + " lists secrets", method: "GET", path: "/api/collections/secrets/records", status: w.secrets[0]},
				{name: a.name + " views a secret", method: "GET", path: "/api/collections/secrets/records/" + secret, status: w.secrets[1]},
				{name: a.name + " creates a secret", method: "POST", path: "/api/collections/secrets/records", body: map[string]any{"text": "new"}, status: w.secrets[2]},
				{name: a.name + " updates a secret", method: "PATCH", path: "/api/collections/secrets/records/" + secret, body: map[string]any{"text": "x"}, status: w.secrets[3]},
				{name: a.name + " deletes a secret", method: "DELETE", path: "/api/collections/secrets/records/" + delSecret, status: w.secrets[4]},
				{name: a.name + " batch-creates a note", method: "POST", path: "/api/batch", body: map[string]any{"requests": []map[string]any{
					{"method": "POST", "url": "/api/collections/notes/records", "body": map[string]any{"text": "batched", "owner": ann}}}}, status: w.batch},
			}
			if w.notes[0] == 200 {
				scs[0].want = listWant
			}
			if w.batch == 400 {
				// The batch rolls back and names the failing request's own status.
				scs[10].want = []string{fmt.Sprintf(`"response":{"status":%d`, w.notes[2])}
			}
			if w.notes[1] == 200 {
				exp := scenario{name: a.name + " expands the owner", method: "GET", path: "/api/collections/notes/records/" + note + "?expand=owner", status: 200}
				if w.expandEmail {
					exp.want = []string{`"expand":{"owner":{`, `ann@example.com`}
				} else {
					exp.notWant = []string{`"expand"`}
				}
				scs = append(scs, exp)
			}
			for i := range scs {
				scs[i].as = a.token
			}
			ta.run(t, scs)
		}
	})
}

// TestAPIKeys covers the key lifecycle: shown once, listed without secrets,
// sent by either header, refused when wrong, expired or revoked, and unable
// to reach system collections or superuser endpoints.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "posts", "fields": []map[string]any{{"name": "title", "type": "text"}}})
		var created map[string]any
		ta.mustJSON("POST", "/api/api-keys", map[string]any{"name": "worker", "scopes": []string{"*:*"}, "duration": 3600}, ta.su, 200, &created)
		key := created["key"].(string)
		id := created["id"].(string)
		if created["expires"] == "" || created["prefix"] == "" {
			t.Errorf("created key lacks expires/prefix: %v", created)
		}
		status, body := ta.doHeader("GET", "/api/collections/posts/records", "X-API-Key", key)
		if status != 200 {
			t.Errorf("X-API-Key: %d %s", status, body)
		}
		// lastUsed is written in the background, after the response.
		for i := 0; i < 100; i++ {
			if _, body := ta.do("GET", "/api/api-keys", nil, ta.su); strings.Contains(string(body), `"lastUsed":"2`) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		ta.run(t, []scenario{
			{name: "list keys shows no secret", method: "GET", path: "/api/api-keys", as: "su", status: 200,
				want: []string{`"name":"worker"`, `"lastUsed":"2`}, notWant: []string{key, `"hash"`, strings.TrimPrefix(key, "plk_")[13:]}},
			{name: "generic records API hides the hash", method: "GET", path: "/api/collections/_apiKeys/records", as: "su", status: 200,
				want: []string{`"prefix"`}, notWant: []string{`"hash"`}},
			{name: "bearer key works", method: "POST", path: "/api/collections/posts/records", as: "Bearer " + key, body: map[string]any{"title": "by key"}, status: 200},
			{name: "* does not cover system collections", method: "GET", path: "/api/collections/_superusers/records", as: key, status: 403},
			{name: "keys are not superusers", method: "GET", path: "/api/collections", as: key, status: 401},
			{name: "keys cannot make keys", method: "POST", path: "/api/api-keys", as: key, body: map[string]any{"name": "x", "scopes": []string{"*:*"}}, status: 401},
			{name: "wrong secret", method: "GET", path: "/api/collections/posts/records", as: key[:len(key)-4] + "0000", status: 401},
			{name: "malformed key", method: "GET", path: "/api/collections/posts/records", as: "plk_nope", status: 401},
			{name: "unknown scope action", method: "POST", path: "/api/api-keys", as: "su", body: map[string]any{"name": "x", "scopes": []string{"posts:write"}}, status: 400, want: []string{`validation_invalid_scope`}},
			{name: "unknown scope collection", method: "POST", path: "/api/api-keys", as: "su", body: map[string]any{"name": "x", "scopes": []string{"nope:list"}}, status: 400},
			{name: "system collection scope", method: "POST", path: "/api/api-keys", as: "su", body: map[string]any{"name": "x", "scopes": []string{"_superusers:list"}}, status: 400},
			{name: "no scopes", method: "POST", path: "/api/api-keys", as: "su", body: map[string]any{"name": "x"}, status: 400},
			{name: "past expiry", method: "POST", path: "/api/api-keys", as: "su", body: map[string]any{"name": "x", "scopes": []string{"posts:list"}, "expires": "2001-01-01 00:00:00.000Z"}, status: 400},
		})
		// Revocation takes effect at once on this instance.
		ta.mustJSON("DELETE", "/api/api-keys/"+id, nil, ta.su, http.StatusNoContent, nil)
		ta.run(t, []scenario{{name: "revoked key", method: "GET", path: "/api/collections/posts/records", as: key, status: 401}})

		// An expired key is refused: expire one by editing its row.
		var short map[string]any
		ta.mustJSON("POST", "/api/api-keys", map[string]any{"name": "short", "scopes": []string{"posts:list"}, "duration": 3600}, ta.su, 200, &short)
		ta.mustJSON("PATCH", fmt.Sprintf("/api/collections/_apiKeys/records/%s", short["id"]), map[string]any{"expires": "2001-01-01 00:00:00.000Z"}, ta.su, 200, nil)
		ta.run(t, []scenario{{name: "expired key", method: "GET", path: "/api/collections/posts/records", as: short["key"].(string), status: 401}})
	})
}

// TestTokenTampering sends forged and stale tokens: each one must leave
// the request a guest's (401 where auth is required), never someone else's.
func TestTokenTampering(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		annID, annTok := ta.signUp("ann@example.com")
		parts := strings.Split(annTok, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		// The same signature over a payload claiming the superusers collection.
		asSuperuser := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
			[]byte(strings.Replace(string(payload), `"_pb_users_auth_"`, `"pbc_3142635823"`, 1))) + "." + parts[2]
		// A well-formed token signed with a key that is not the server's.
		wrongKey, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"id": annID, "type": "auth", "collectionId": "_pb_users_auth_", "refreshable": true, "exp": time.Now().Add(time.Hour).Unix(),
		}).SignedString([]byte("not-the-server-secret-not-the-server-secret"))
		if err != nil {
			t.Fatal(err)
		}
		// A genuine token that has expired: impersonation can mint a short one.
		var short struct{ Token string }
		ta.mustJSON("POST", "/api/collections/users/impersonate/"+annID, map[string]any{"duration": 1}, ta.su, 200, &short)
		var file struct{ Token string }
		ta.mustJSON("POST", "/api/files/token", nil, annTok, 200, &file)
		time.Sleep(1100 * time.Millisecond)
		ta.run(t, []scenario{
			{name: "payload edited to another collection", method: "GET", path: "/api/collections", as: asSuperuser, status: 401},
			{name: "payload edited: refresh", method: "POST", path: "/api/collections/users/auth-refresh", as: asSuperuser, status: 401},
			{name: "signed with a wrong key", method: "POST", path: "/api/collections/users/auth-refresh", as: wrongKey, status: 401},
			{name: "expired", method: "POST", path: "/api/collections/users/auth-refresh", as: short.Token, status: 401},
			{name: "a file token is not an auth token", method: "POST", path: "/api/collections/users/auth-refresh", as: file.Token, status: 401},
			{name: "a user token at the superusers collection", method: "POST", path: "/api/collections/_superusers/auth-refresh", as: annTok, status: 403},
			{name: "the genuine token still works", method: "POST", path: "/api/collections/users/auth-refresh", as: annTok, status: 200},
		})
	})
}

// TestRolesPattern is the documented roles pattern (docs/auth.md): a
// multi-select "roles" field on users, tested in rules with ?=.
func TestRolesPattern(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		var users map[string]any
		ta.mustJSON("GET", "/api/collections/users", nil, ta.su, 200, &users)
		fields := append(users["fields"].([]any), map[string]any{"name": "roles", "type": "select", "maxSelect": 3, "values": []string{"admin", "editor", "viewer"}})
		// Users may edit themselves, but never their roles: without the
		// :isset guard anyone could make themselves admin.
		ta.mustJSON("PATCH", "/api/collections/users", map[string]any{"fields": fields,
			"updateRule": "id = @request.auth.id && @request.body.roles:isset = false"}, ta.su, 200, nil)
		ta.createCollection(map[string]any{"name": "articles",
			"listRule": "", "viewRule": "",
			"createRule": "@request.auth.roles ?= 'editor' || @request.auth.roles ?= 'admin'",
			"updateRule": "@request.auth.roles ?= 'editor' || @request.auth.roles ?= 'admin'",
			"deleteRule": "@request.auth.roles ?= 'admin'",
			"fields":     []map[string]any{{"name": "title", "type": "text"}}})
		token := func(email string, roles ...string) (string, string) {
			id, tok := ta.signUp(email)
			ta.mustJSON("PATCH", "/api/collections/users/records/"+id, map[string]any{"roles": roles}, ta.su, 200, nil)
			return id, tok
		}
		_, admin := token("admin@example.com", "admin")
		_, editor := token("editor@example.com", "editor", "viewer")
		viewerID, viewer := token("viewer@example.com", "viewer")
		a := ta.create("articles", map[string]any{"title": "one"})["id"].(string)
		ta.run(t, []scenario{
			{name: "viewer cannot create", method: "POST", path: "/api/collections/articles/records", as: viewer, body: map[string]any{"title": "x"}, status: 400},
			{name: "editor creates", method: "POST", path: "/api/collections/articles/records", as: editor, body: map[string]any{"title": "x"}, status: 200},
			{name: "viewer cannot update", method: "PATCH", path: "/api/collections/articles/records/" + a, as: viewer, body: map[string]any{"title": "y"}, status: 404},
			{name: "editor updates", method: "PATCH", path: "/api/collections/articles/records/" + a, as: editor, body: map[string]any{"title": "y"}, status: 200},
			{name: "editor cannot delete", method: "DELETE", path: "/api/collections/articles/records/" + a, as: editor, status: 404},
			{name: "guest cannot update", method: "PATCH", path: "/api/collections/articles/records/" + a, body: map[string]any{"title": "z"}, status: 404},
			{name: "users cannot grant themselves roles", method: "PATCH", path: "/api/collections/users/records/" + viewerID, as: viewer, body: map[string]any{"roles": []string{"admin"}}, status: 404},
			// Modifiers name the same field: @request.body.roles is set.
			{name: "nor append them", method: "PATCH", path: "/api/collections/users/records/" + viewerID, as: viewer, body: map[string]any{"roles+": "admin"}, status: 404},
			{name: "nor prepend them", method: "PATCH", path: "/api/collections/users/records/" + viewerID, as: viewer, body: map[string]any{"+roles": []string{"admin"}}, status: 404},
			{name: "nor remove them", method: "PATCH", path: "/api/collections/users/records/" + viewerID, as: viewer, body: map[string]any{"roles-": "viewer"}, status: 404},
			{name: "users still edit the rest of their record", method: "PATCH", path: "/api/collections/users/records/" + viewerID, as: viewer, body: map[string]any{"name": "Vi"}, status: 200, want: []string{`"roles":["viewer"]`}},
			{name: "admin deletes", method: "DELETE", path: "/api/collections/articles/records/" + a, as: admin, status: 204},
		})
	})
}

// TestRuleBodyModifiers: rules read @request.body with modifiers resolved
// (as PocketBase does): "n+" is @request.body.n, holding the value the
// field gets, on create and on update, through REST and batch.
func TestRuleBodyModifiers(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		_, user := ta.signUp("ann@example.com")
		ta.createCollection(map[string]any{"name": "counters",
			"listRule": "", "viewRule": "",
			"createRule": "@request.body.n < 10 && @request.body.tags:length <= 2",
			"updateRule": "@request.body.n < 10 && @request.body.tags:length <= 2",
			"fields": []map[string]any{{"name": "n", "type": "number"},
				{"name": "tags", "type": "select", "maxSelect": 4, "values": []string{"a", "b", "c", "d"}}}})
		id := ta.create("counters", map[string]any{"n": 8, "tags": []string{"a", "b"}})["id"].(string)
		rec := "/api/collections/counters/records"
		batch := func(body map[string]any) map[string]any {
			return map[string]any{"requests": []map[string]any{{"method": "PATCH", "url": rec + "/" + id, "body": body}}}
		}
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"batch": map[string]any{"enabled": true}}, ta.su, 200, nil)
		ta.run(t, []scenario{
			{name: "create: the sum is checked, not the step", method: "POST", path: rec, as: user, body: map[string]any{"n": 5, "n+": 7}, status: 400},
			{name: "create: a small step passes", method: "POST", path: rec, as: user, body: map[string]any{"n": 5, "n+": 4}, status: 200, want: []string{`"n":9`}},
			{name: "create: appended tags count", method: "POST", path: rec, as: user, body: map[string]any{"tags": []string{"a", "b"}, "tags+": "c"}, status: 400},
			{name: "update: the new value is checked", method: "PATCH", path: rec + "/" + id, as: user, body: map[string]any{"n+": 3}, status: 404},
			{name: "update: appending past the limit", method: "PATCH", path: rec + "/" + id, as: user, body: map[string]any{"tags+": "c"}, status: 404},
			{name: "update through batch", method: "POST", path: "/api/batch", as: user, body: batch(map[string]any{"n+": 3}), status: 400},
			{name: "update: a step within the limit", method: "PATCH", path: rec + "/" + id, as: user, body: map[string]any{"n+": 1, "tags-": "b"}, status: 200, want: []string{`"n":9`, `"tags":["a"]`}},
		})
	})
}

// TestUniqueClashAfterRule: a unique index must not tell a caller whom the
// create rule refuses whether a row exists: creating in someone else's name
// is refused the same way whether or not that person holds the value.
func TestUniqueClashAfterRule(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		piaID, pia := ta.signUp("pia@example.com")
		peteID, pete := ta.signUp("pete@example.com")
		self := "applicant = @request.auth.id"
		ta.createCollection(map[string]any{"name": "applications",
			"listRule": self, "viewRule": self, "createRule": self,
			"fields": []map[string]any{{"name": "job", "type": "text"},
				{"name": "applicant", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1}},
			"indexes": []string{"CREATE UNIQUE INDEX idx_one_application ON applications (job, applicant)"}})
		rec := "/api/collections/applications/records"
		ta.mustJSON("POST", rec, map[string]any{"job": "x", "applicant": piaID}, pia, 200, nil)
		ta.mustJSON("POST", rec, map[string]any{"job": "x", "applicant": peteID}, pete, 200, nil)
		refused := `create rule does not allow it`
		ta.run(t, []scenario{
			{name: "in someone's name, where she applied", method: "POST", path: rec, as: pete, body: map[string]any{"job": "x", "applicant": piaID}, status: 400, want: []string{refused}, notWant: []string{"not_unique"}},
			{name: "in someone's name, where she did not", method: "POST", path: rec, as: pete, body: map[string]any{"job": "y", "applicant": piaID}, status: 400, want: []string{refused}, notWant: []string{"not_unique"}},
			{name: "as a guest", method: "POST", path: rec, body: map[string]any{"job": "x", "applicant": piaID}, status: 400, notWant: []string{"not_unique"}},
			{name: "one's own duplicate is named", method: "POST", path: rec, as: pete, body: map[string]any{"job": "x", "applicant": peteID}, status: 400, want: []string{"validation_not_unique"}},
			{name: "the superuser's duplicate is named", method: "POST", path: rec, as: "su", body: map[string]any{"job": "x", "applicant": piaID}, status: 400, want: []string{"validation_not_unique"}},
		})
	})
}
