package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/internal/testenv"
)

// TestCollectionMeta checks PocketBase's collection meta endpoints: the
// scaffolds a new collection starts from and the OAuth2 providers.
func TestCollectionMeta(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		var sc map[string]map[string]any
		ta.mustJSON("GET", "/api/collections/meta/scaffolds", nil, ta.su, 200, &sc)
		for _, typ := range []string{"base", "auth", "view"} {
			if sc[typ]["type"] != typ || sc[typ]["id"] != "" || sc[typ]["name"] != "" {
				t.Errorf("%s scaffold: %v", typ, sc[typ])
			}
		}
		names := map[string]bool{}
		for _, f := range sc["auth"]["fields"].([]any) {
			names[f.(map[string]any)["name"].(string)] = true
		}
		for _, want := range []string{"id", "password", "tokenKey", "email", "emailVisibility", "verified"} {
			if !names[want] {
				t.Errorf("auth scaffold lacks %s: %v", want, names)
			}
		}
		if _, ok := sc["auth"]["passwordAuth"]; !ok {
			t.Errorf("auth scaffold lacks its options: %v", sc["auth"])
		}
		ta.run(t, []scenario{
			{name: "providers", method: "GET", path: "/api/collections/meta/oauth2-providers", as: "su", status: 200, want: []string{`{"name":"github","displayName":"GitHub"}`, `"name":"oidc"`}},
			{name: "superusers only", method: "GET", path: "/api/collections/meta/scaffolds", status: 401},
			{name: "a collection named meta still works", method: "GET", path: "/api/collections/meta", as: "su", status: 404},
		})
		// A view tried before saving: its fields come back, nothing is stored.
		ta.createCollection(map[string]any{"name": "notes", "type": "base", "fields": []map[string]any{
			{"name": "title", "type": "text"}, {"name": "n", "type": "number"}}})
		var dry map[string]any
		ta.mustJSON("POST", "/api/collections/meta/dry-run-view", map[string]any{
			"viewQuery": "SELECT id, title, n * 2 AS twice FROM notes"}, ta.su, 200, &dry)
		var got []string
		for _, f := range dry["fields"].([]any) {
			got = append(got, f.(map[string]any)["name"].(string))
		}
		if strings.Join(got, ",") != "id,title,twice" || dry["type"] != "view" || dry["name"] != "" {
			t.Errorf("dry run: fields %v, collection %v", got, dry)
		}
		ta.run(t, []scenario{
			{name: "dry run stored nothing", method: "GET", path: "/api/collections?filter=" + url.QueryEscape("type='view'"), as: "su", status: 200, want: []string{`"totalItems":0`}},
			{name: "dry run of a bad query", method: "POST", path: "/api/collections/meta/dry-run-view", body: `{"viewQuery":"SELECT nope FROM notes"}`, as: "su", status: 400, want: []string{`"viewQuery"`}},
			{name: "dry run of a write", method: "POST", path: "/api/collections/meta/dry-run-view", body: `{"viewQuery":"DELETE FROM notes"}`, as: "su", status: 400},
			{name: "dry run for superusers only", method: "POST", path: "/api/collections/meta/dry-run-view", body: `{"viewQuery":"SELECT id FROM notes"}`, status: 401},
		})

		// A PocketBase client sends the whole settings object back.
		var all map[string]any
		ta.mustJSON("GET", "/api/settings", nil, ta.su, 200, &all)
		ta.mustJSON("PATCH", "/api/settings", all, ta.su, 200, nil)
		for _, key := range []string{"backups", "superuserIPs", "logs", "trustedProxy", "rateLimits", "batch", "meta", "smtp"} {
			if _, ok := all[key]; !ok {
				t.Errorf("settings lack PocketBase's key %q", key)
			}
		}

		// superuserIPs: a superuser token from elsewhere counts for nothing.
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"superuserIPs": []string{"10.9.8.7"}}, ta.su, 200, nil)
		ta.run(t, []scenario{
			{name: "superuser from another IP is a guest", method: "GET", path: "/api/settings", as: "su", status: 401},
			{name: "bad IP list", method: "PATCH", path: "/api/settings", as: "su", status: 401},
		})
	})
}

// TestSuperuserIPs checks that the list takes the client's address: the
// superuser who sets it to its own keeps access, others lose it.
func TestSuperuserIPs(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.run(t, []scenario{
			{name: "invalid entry", method: "PATCH", path: "/api/settings", as: "su", body: map[string]any{"superuserIPs": []string{"not-an-ip"}}, status: 400},
		})
		ta.mustJSON("PATCH", "/api/settings", map[string]any{"superuserIPs": []string{"127.0.0.1", "::1"}}, ta.su, 200, nil)
		ta.run(t, []scenario{{name: "from the allowed address", method: "GET", path: "/api/settings", as: "su", status: 200}})
	})
}

// TestSettingsTestEmail checks POST /api/settings/test/email: the email
// goes through the current sender (here the dev mailbox) before it answers.
func TestSettingsTestEmail(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.mustJSON("PATCH", "/api/collections/users", map[string]any{
			"verificationTemplate": map[string]any{"subject": "Welcome to {APP_NAME}", "body": "<p>Users own verify text {ACTION_URL}</p>"},
		}, ta.su, 200, nil)
		ta.run(t, []scenario{
			{name: "sent", method: "POST", path: "/api/settings/test/email", as: "su", body: map[string]any{"email": "ops@example.com", "template": "verification"}, status: 204},
			// With a collection, that collection's own template is sent.
			{name: "collection template", method: "POST", path: "/api/settings/test/email", as: "su", body: map[string]any{"email": "tpl@example.com", "template": "verification", "collection": "users"}, status: 204},
			{name: "collection template in the mailbox", method: "GET", path: "/api/dev/mails", as: "su", status: 200, want: []string{"Users own verify text"}},
			{name: "not an auth collection", method: "POST", path: "/api/settings/test/email", as: "su", body: map[string]any{"email": "ops@example.com", "template": "otp", "collection": "nope"}, status: 400, want: []string{`"collection"`}},
			{name: "bad template", method: "POST", path: "/api/settings/test/email", as: "su", body: map[string]any{"email": "ops@example.com", "template": "nope"}, status: 400, want: []string{`"template"`}},
			{name: "bad address", method: "POST", path: "/api/settings/test/email", as: "su", body: map[string]any{"email": "nope", "template": "otp"}, status: 400, want: []string{`"email"`}},
			{name: "superusers only", method: "POST", path: "/api/settings/test/email", body: map[string]any{"email": "ops@example.com", "template": "otp"}, status: 401},
			{name: "in the dev mailbox", method: "GET", path: "/api/dev/mails", as: "su", status: 200, want: []string{"ops@example.com"}},
		})
	})
}

// TestSettingsTestStorage checks POST /api/settings/test/s3: a write, read
// and delete through the file storage, leaving nothing behind.
func TestSettingsTestStorage(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		_, user := ta.signUp("ann@example.com")
		ta.run(t, []scenario{
			{name: "storage works", method: "POST", path: "/api/settings/test/s3", as: "su", body: map[string]any{"filesystem": "storage"}, status: 204},
			{name: "backups too", method: "POST", path: "/api/settings/test/s3", as: "su", body: map[string]any{"filesystem": "backups"}, status: 204},
			{name: "unknown filesystem", method: "POST", path: "/api/settings/test/s3", as: "su", body: map[string]any{"filesystem": "x"}, status: 400, want: []string{`"filesystem"`}},
			{name: "users may not", method: "POST", path: "/api/settings/test/s3", as: user, body: map[string]any{"filesystem": "storage"}, status: 403},
			{name: "guests may not", method: "POST", path: "/api/settings/test/s3", body: map[string]any{"filesystem": "storage"}, status: 401},
		})
		left := 0
		ta.app.Files().List(context.Background(), "_probe", func(files.Attributes) error { left++; return nil })
		if left != 0 {
			t.Errorf("the probe left %d objects", left)
		}
	})
}

// TestRefusedBeforeBody checks that a write no rule can allow is refused
// before its body is read: a guest's oversized body to a superusers-only
// collection is a 403, not a 413 after reading it.
func TestRefusedBeforeBody(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "admin_notes", "fields": []map[string]any{{"name": "t", "type": "text"}}})
		big := `{"t":"` + strings.Repeat("x", 3<<20) + `"}`
		ta.run(t, []scenario{
			{name: "guest create, superusers only", method: "POST", path: "/api/collections/admin_notes/records", body: big, status: 403},
			{name: "guest update, superusers only", method: "PATCH", path: "/api/collections/admin_notes/records/abc", body: big, status: 403},
			{name: "superuser, oversized", method: "POST", path: "/api/collections/admin_notes/records", body: big, as: "su", status: 413},
		})
	})
}
