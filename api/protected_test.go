package api_test

import (
	"net/url"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestProtectedFields checks who may write verified, email and password
// directly: the owner (not a manager), a manager by manageRule, and a
// superuser.
func TestProtectedFields(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		// Staff manage other users: a role field, manageRule on it, and an
		// updateRule that lets staff reach other records.
		ta.patchCollection("users", map[string]any{
			"fields":     []map[string]any{{"name": "role", "type": "select", "values": []string{"staff"}, "maxSelect": 1}},
			"updateRule": "id = @request.auth.id || @request.auth.role = 'staff'",
			"viewRule":   "id = @request.auth.id || @request.auth.role = 'staff'",
			"manageRule": "@request.auth.role = 'staff'",
		})
		ann, annTok := ta.signUp("ann@example.com")
		staff, _ := ta.signUp("staff@example.com")
		ta.mustJSON("PATCH", "/api/collections/users/records/"+staff, map[string]any{"role": "staff"}, ta.su, 200, nil)
		staffTok := ta.login("users", "staff@example.com", "user-password-1")
		rec := "/api/collections/users/records/" + ann
		ta.run(t, []scenario{
			{name: "a guest cannot sign up verified", method: "POST", path: "/api/collections/users/records", body: map[string]any{"email": "eve@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1", "verified": true},
				status: 400, want: []string{`"verified":{"code":"validation_manager_only"`}},
			{name: "unverified sign-up is fine", method: "POST", path: "/api/collections/users/records", body: map[string]any{"email": "eve@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1", "verified": false}, status: 200},
			{name: "owner cannot verify self", method: "PATCH", path: rec, as: annTok, body: map[string]any{"verified": true}, status: 400, want: []string{`"verified":{"code":"validation_manager_only"`}},
			{name: "owner cannot change email directly", method: "PATCH", path: rec, as: annTok, body: map[string]any{"email": "ann2@example.com"}, status: 400, want: []string{`"email":{"code":"validation_manager_only"`}},
			{name: "owner needs oldPassword", method: "PATCH", path: rec, as: annTok, body: map[string]any{"password": "user-password-2", "passwordConfirm": "user-password-2"}, status: 400, want: []string{`"oldPassword":{"code":"validation_required"`}},
			{name: "wrong oldPassword", method: "PATCH", path: rec, as: annTok, body: map[string]any{"oldPassword": "nope-nope-1", "password": "user-password-2", "passwordConfirm": "user-password-2"}, status: 400, want: []string{`"oldPassword":{"code":"validation_invalid_old_password"`}},
			{name: "owner sets emailVisibility", method: "PATCH", path: rec, as: annTok, body: map[string]any{"emailVisibility": true}, status: 200, want: []string{`"emailVisibility":true`}},
			{name: "owner changes password with oldPassword", method: "PATCH", path: rec, as: annTok, body: map[string]any{"oldPassword": "user-password-1", "password": "user-password-2", "passwordConfirm": "user-password-2"}, status: 200, notWant: []string{`password`, `tokenKey`}},
			{name: "the owner's token died with the password", method: "POST", path: "/api/collections/users/auth-refresh", as: annTok, status: 401},
			{name: "a manager verifies", method: "PATCH", path: rec, as: staffTok, body: map[string]any{"verified": true}, status: 200, want: []string{`"verified":true`}},
			{name: "a manager changes the email", method: "PATCH", path: rec, as: staffTok, body: map[string]any{"email": "ann2@example.com"}, status: 200, want: []string{`"email":"ann2@example.com"`}},
			{name: "a manager sets a password without oldPassword", method: "PATCH", path: rec, as: staffTok, body: map[string]any{"password": "user-password-3", "passwordConfirm": "user-password-3"}, status: 200},
			{name: "a manager may create verified users", method: "POST", path: "/api/collections/users/records", as: staffTok, body: map[string]any{"email": "fay@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1", "verified": true}, status: 200, want: []string{`"verified":true`}},
			{name: "a superuser does all three", method: "PATCH", path: rec, as: "su", body: map[string]any{"verified": false, "email": "ann3@example.com", "password": "user-password-4", "passwordConfirm": "user-password-4"}, status: 200, want: []string{`"verified":false`, `"email":"ann3@example.com"`}},
			{name: "same values are not changes", method: "PATCH", path: "/api/collections/users/records/" + staff, as: staffTok, body: map[string]any{"verified": false, "email": "staff@example.com"}, status: 200},
		})
		ta.login("users", "ann3@example.com", "user-password-4")
		// The manager rule is evaluated on the caller: a non-staff user is no
		// manager of another user (and cannot reach them through updateRule).
		eveTok := ta.login("users", "eve@example.com", "user-password-1")
		ta.run(t, []scenario{
			{name: "no manager, no update", method: "PATCH", path: rec, as: eveTok, body: map[string]any{"verified": true}, status: 404},
		})
		// In a batch the same rules hold.
		ta.run(t, []scenario{{name: "batch: owner cannot verify self", method: "POST", path: "/api/batch", as: eveTok,
			body:   map[string]any{"requests": []map[string]any{{"method": "PATCH", "url": "/api/collections/users/records/" + ta.idOf("eve@example.com"), "body": map[string]any{"verified": true}}}},
			status: 400, want: []string{`validation_manager_only`}}})
	})
}

// idOf returns the id of the user with email.
func (ta *testApp) idOf(email string) string {
	ta.t.Helper()
	var page struct{ Items []map[string]any }
	ta.mustJSON("GET", "/api/collections/users/records?filter="+urlQuery("email = '"+email+"'"), nil, ta.su, 200, &page)
	if len(page.Items) != 1 {
		ta.t.Fatalf("user %s: %d found", email, len(page.Items))
	}
	return page.Items[0]["id"].(string)
}

func urlQuery(s string) string { return url.QueryEscape(s) }
