package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/oauth2/oauth2test"
)

// doFrom sends a JSON request straight to the app's handler as if from
// ip, which is the client IP when no trusted proxy is configured.
func (ta *testApp) doFrom(ip, method, path string, body any, token string) (int, []byte) {
	ta.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			ta.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = ip + ":40000"
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	rec := httptest.NewRecorder()
	ta.app.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// TestLoginThrottlePerIdentityAndIP: failures from one IP throttle that
// IP's attempts on the identity, never the owner's from elsewhere (a
// superuser included), so nobody can lock an account out.
func TestLoginThrottlePerIdentityAndIP(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.signUp("ann@example.com")
		for _, acc := range []struct{ coll, identity, password, attacker, owner string }{
			{"users", "ann@example.com", "user-password-1", "10.0.0.1", "10.0.0.2"},
			{"_superusers", "admin@example.com", "secret-pass-1", "10.0.0.3", "10.0.0.4"},
		} {
			path := "/api/collections/" + acc.coll + "/auth-with-password"
			for i := range 5 {
				if st, body := ta.doFrom(acc.attacker, "POST", path, map[string]any{"identity": acc.identity, "password": fmt.Sprint("wrong-", i)}, ""); st != 400 {
					t.Fatalf("%s: wrong password %d: %d %s", acc.identity, i, st, body)
				}
			}
			if st, body := ta.doFrom(acc.attacker, "POST", path, map[string]any{"identity": acc.identity, "password": acc.password}, ""); st != 429 {
				t.Errorf("%s: the attacker's IP is not throttled: %d %s", acc.identity, st, body)
			}
			if st, body := ta.doFrom(acc.owner, "POST", path, map[string]any{"identity": acc.identity, "password": acc.password}, ""); st != 200 {
				t.Errorf("%s: the owner is locked out from another IP: %d %s", acc.identity, st, body)
			}
		}
	})
}

// TestBatchAuthCreateLimit: a batch may create few auth records unless the
// caller is a superuser; validation still answers per request.
func TestBatchAuthCreateLimit(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		signUps := func(prefix string, n int) map[string]any {
			reqs := make([]map[string]any, n)
			for i := range reqs {
				pw := fmt.Sprintf("password-%s-%d", prefix, i)
				reqs[i] = map[string]any{"method": "POST", "url": "/api/collections/users/records", "body": map[string]any{
					"email": fmt.Sprintf("%s%d@example.com", prefix, i), "password": pw, "passwordConfirm": pw}}
			}
			return map[string]any{"requests": reqs}
		}
		mismatch := signUps("mm", 2)
		mismatch["requests"].([]map[string]any)[1]["body"].(map[string]any)["passwordConfirm"] = "other"
		ta.run(t, []scenario{
			{name: "a guest batch of 6 sign-ups", method: "POST", path: "/api/batch", body: signUps("g", 6), status: 400,
				want: []string{`validation_too_many_auth_creates`}},
			{name: "as many upserts", method: "POST", path: "/api/batch", body: map[string]any{"requests": []map[string]any{
				{"method": "PUT", "url": "/api/collections/users/records", "body": map[string]any{"email": "u1@example.com"}},
				{"method": "PUT", "url": "/api/collections/users/records", "body": map[string]any{"email": "u2@example.com"}},
				{"method": "PUT", "url": "/api/collections/users/records", "body": map[string]any{"email": "u3@example.com"}},
				{"method": "PUT", "url": "/api/collections/users/records", "body": map[string]any{"email": "u4@example.com"}},
				{"method": "PUT", "url": "/api/collections/users/records", "body": map[string]any{"email": "u5@example.com"}},
				{"method": "PUT", "url": "/api/collections/users/records", "body": map[string]any{"email": "u6@example.com"}},
			}}, status: 400, want: []string{`validation_too_many_auth_creates`}},
			{name: "nothing was created", method: "GET", path: "/api/collections/users/records", as: "su", status: 200, want: []string{`"totalItems":0`}},
			{name: "a guest batch of 5", method: "POST", path: "/api/batch", body: signUps("h", 5), status: 200},
			{name: "a superuser batch of 6", method: "POST", path: "/api/batch", body: signUps("s", 6), as: "su", status: 200},
			{name: "validation answers as before", method: "POST", path: "/api/batch", body: mismatch, status: 400,
				want: []string{`"1":{"code":"batch_request_failed"`, `"passwordConfirm":{"code":"validation_values_mismatch"`}},
		})
		// The hashes made before the transaction are the passwords.
		ta.login("users", "h4@example.com", "password-h-4")
		ta.login("users", "s5@example.com", "password-s-5")
	})
}

// TestOAuth2PreAccountTakeover: someone signs up with the victim's address
// and a password of theirs; when the victim signs in through a provider
// that verified the address, the account becomes the victim's and the
// squatter's password and tokens stop working.
func TestOAuth2PreAccountTakeover(t *testing.T) {
	t.Parallel()
	victim := oauth2test.Start(t, "-sub", "sub-vic", "-email", "vic@example.com")
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		squatID, squatTok := ta.signUp("vic@example.com")
		ta.enableOIDC(victim)
		status, body := ta.oauth2Login("users", "oidc", nil)
		if status != 200 || !strings.Contains(string(body), `"id":"`+squatID+`"`) || !strings.Contains(string(body), `"verified":true`) {
			t.Fatalf("victim's OAuth2 login: %d %s", status, body)
		}
		var vic struct{ Token string }
		if err := json.Unmarshal(body, &vic); err != nil {
			t.Fatal(err)
		}
		ta.run(t, []scenario{
			{name: "the squatter's password is gone", method: "POST", path: "/api/collections/users/auth-with-password",
				body: map[string]any{"identity": "vic@example.com", "password": "user-password-1"}, status: 400},
			{name: "the squatter's token is dead", method: "POST", path: "/api/collections/users/auth-refresh", as: squatTok, status: 401},
			{name: "the victim's token works", method: "POST", path: "/api/collections/users/auth-refresh", as: vic.Token, status: 200},
		})
		// A second login of the now verified, linked account changes nothing.
		if status, body := ta.oauth2Login("users", "oidc", nil); status != 200 {
			t.Fatalf("second login: %d %s", status, body)
		}
		ta.run(t, []scenario{{name: "tokens survive a later login", method: "POST", path: "/api/collections/users/auth-refresh", as: vic.Token, status: 200}})
	})
}

// TestAuthRefreshRechecksAuthRule: a record that no longer passes the
// collection's authRule cannot refresh its token.
func TestAuthRefreshRechecksAuthRule(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ann, tok := ta.signUp("ann@example.com")
		ta.patchCollection("users", map[string]any{"authRule": "name != 'banned'"})
		ta.run(t, []scenario{{name: "passes the rule", method: "POST", path: "/api/collections/users/auth-refresh", as: tok, status: 200}})
		ta.mustJSON("PATCH", "/api/collections/users/records/"+ann, map[string]any{"name": "banned"}, ta.su, 200, nil)
		ta.run(t, []scenario{
			{name: "banned: no refresh", method: "POST", path: "/api/collections/users/auth-refresh", as: tok, status: 403},
			{name: "banned: no login", method: "POST", path: "/api/collections/users/auth-with-password",
				body: map[string]any{"identity": "ann@example.com", "password": "user-password-1"}, status: 403},
		})
		ta.patchCollection("users", map[string]any{"authRule": nil})
		ta.run(t, []scenario{{name: "null authRule: no refresh", method: "POST", path: "/api/collections/users/auth-refresh", as: tok, status: 403}})
	})
}

// TestOTPConcurrentGuesses: however many wrong codes race, an OTP takes
// at most maxOTPAttempts (5) guesses; after them the right code is
// refused. Sequentially, 4 wrong guesses still leave the right one.
func TestOTPConcurrentGuesses(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ta.signUp("ann@example.com")
		ta.patchCollection("users", map[string]any{"otp": map[string]any{"enabled": true, "length": 6}})
		const path = "/api/collections/users/auth-with-otp"

		id, code := ta.requestOTP("users", "ann@example.com", 1)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		var wg sync.WaitGroup
		statuses := make([]int, 40)
		for i := range statuses {
			wg.Go(func() {
				statuses[i], _ = ta.doFrom(fmt.Sprint("10.1.0.", i), "POST", path, map[string]any{"otpId": id, "password": wrong}, "")
			})
		}
		wg.Wait()
		for i, st := range statuses {
			if st != http.StatusBadRequest {
				t.Errorf("guess %d: %d", i, st)
			}
		}
		ta.run(t, []scenario{{name: "after 40 racing wrong guesses the right code is dead", method: "POST", path: path,
			body: map[string]any{"otpId": id, "password": code}, status: 400}})

		id, code = ta.requestOTP("users", "ann@example.com", 2)
		for range 4 {
			ta.run(t, []scenario{{name: "wrong", method: "POST", path: path, body: map[string]any{"otpId": id, "password": wrong}, status: 400}})
		}
		ta.run(t, []scenario{
			{name: "the fifth guess may be right", method: "POST", path: path, body: map[string]any{"otpId": id, "password": code}, status: 200},
			{name: "unknown id", method: "POST", path: path, body: map[string]any{"otpId": "abcdefghijklmno", "password": code}, status: 400, want: []string{`validation_invalid_otp`}},
			{name: "malformed id", method: "POST", path: path, body: map[string]any{"otpId": "not an id!", "password": code}, status: 400, want: []string{`validation_invalid_otp`}},
		})
	})
}
