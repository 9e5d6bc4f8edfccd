package api_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

var codeInMail = regexp.MustCompile(`(?m)^\s+(\d{4,32})\s*$`)

// requestOTP asks for a code for email and returns the otpId and, when an
// email is expected (n-th to that address), the code it carries.
func (ta *testApp) requestOTP(coll, email string, n int) (otpID, code string) {
	ta.t.Helper()
	var out struct{ OtpID string }
	ta.mustJSON("POST", "/api/collections/"+coll+"/request-otp", map[string]any{"email": email}, "", 200, &out)
	if out.OtpID == "" {
		ta.t.Fatal("no otpId")
	}
	if n == 0 {
		return out.OtpID, ""
	}
	m := ta.waitMail(email, n)
	sub := codeInMail.FindStringSubmatch(m.Text)
	if sub == nil {
		ta.t.Fatalf("no code in OTP email: %s", m.Text)
	}
	return out.OtpID, sub[1]
}

// patchCollection updates a collection as superuser.
func (ta *testApp) patchCollection(name string, body map[string]any) map[string]any {
	ta.t.Helper()
	var out map[string]any
	ta.mustJSON("PATCH", "/api/collections/"+name, body, ta.su, 200, &out)
	return out
}

func TestOTP(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ann, _ := ta.signUp("ann@example.com")
		ta.run(t, []scenario{
			{name: "auth-methods: otp off by default", method: "GET", path: "/api/collections/users/auth-methods", status: 200, want: []string{`"otp":{"duration":180,"enabled":false}`, `"mfa":{"duration":1800,"enabled":false}`}},
			{name: "disabled", method: "POST", path: "/api/collections/users/request-otp", body: map[string]any{"email": "ann@example.com"}, status: 403},
			{name: "disabled too", method: "POST", path: "/api/collections/users/auth-with-otp", body: map[string]any{"otpId": "x", "password": "1"}, status: 403},
		})
		col := ta.patchCollection("users", map[string]any{"otp": map[string]any{"enabled": true, "length": 6}})
		otp := col["otp"].(map[string]any)
		if otp["enabled"] != true || otp["length"] != float64(6) || otp["duration"] != float64(180) {
			t.Fatalf("otp options after PATCH: %v", otp)
		}
		ta.run(t, []scenario{
			{name: "auth-methods reports it", method: "GET", path: "/api/collections/users/auth-methods", status: 200, want: []string{`"otp":{"duration":180,"enabled":true}`}},
			{name: "invalid length", method: "PATCH", path: "/api/collections/users", as: "su", body: map[string]any{"otp": map[string]any{"enabled": true, "length": 2}}, status: 400, want: []string{`"length"`}},
			{name: "email required", method: "POST", path: "/api/collections/users/request-otp", body: map[string]any{}, status: 400},
		})

		// An unknown address gets an otpId too, and no email.
		fake, _ := ta.requestOTP("users", "nobody@example.com", 0)
		ta.noMail("nobody@example.com", 0)
		ta.run(t, []scenario{{name: "a fake otpId logs nobody in", method: "POST", path: "/api/collections/users/auth-with-otp", body: map[string]any{"otpId": fake, "password": "123456"}, status: 400, want: []string{`validation_invalid_otp`}}})

		id, code := ta.requestOTP("users", "ann@example.com", 1)
		if len(code) != 6 {
			t.Fatalf("code %q: want 6 digits", code)
		}
		if v := ta.field("users", ann, "verified"); v != false {
			t.Fatal("verified before use")
		}
		ta.run(t, []scenario{
			{name: "wrong code", method: "POST", path: "/api/collections/users/auth-with-otp", body: map[string]any{"otpId": id, "password": "000000"}, status: 400},
			{name: "fields required", method: "POST", path: "/api/collections/users/auth-with-otp", body: map[string]any{"otpId": id}, status: 400, want: []string{`"password":{"code":"validation_required"`}},
			{name: "the OTP row is a superusers-only system record", method: "GET", path: "/api/collections/_otps/records", status: 403},
		})
		var auth struct {
			Token  string
			Record map[string]any
		}
		ta.mustJSON("POST", "/api/collections/users/auth-with-otp", map[string]any{"otpId": id, "password": code}, "", 200, &auth)
		if auth.Record["id"] != ann || auth.Token == "" {
			t.Fatalf("auth-with-otp: %+v", auth)
		}
		if auth.Record["verified"] != true {
			t.Error("a code sent to the address verifies it")
		}
		ta.run(t, []scenario{{name: "a code is single use", method: "POST", path: "/api/collections/users/auth-with-otp", body: map[string]any{"otpId": id, "password": code}, status: 400}})

		// Hashed at rest, and never shown, even to superusers.
		id2, code2 := ta.requestOTP("users", "ann@example.com", 2)
		var rows struct{ Items []map[string]any }
		ta.mustJSON("GET", "/api/collections/_otps/records", nil, ta.su, 200, &rows)
		raw, _ := json.Marshal(rows)
		if strings.Contains(string(raw), code2) || strings.Contains(string(raw), `"password"`) || strings.Contains(string(raw), "ann@example.com") {
			t.Errorf("OTP rows as a superuser sees them: %s", raw)
		}
		st := ta.app.Store()
		row, err := st.FindFirstBy(context.Background(), st.Schema().Lookup("_otps"), "id", id2)
		if err != nil {
			t.Fatal(err)
		}
		if h := row.GetString("password"); !strings.HasPrefix(h, "$2") || strings.Contains(h, code2) {
			t.Errorf("stored OTP %q is not a bcrypt hash", h)
		}
		// Five wrong tries kill the code.
		for i := range 5 {
			ta.run(t, []scenario{{name: "wrong try", method: "POST", path: "/api/collections/users/auth-with-otp", body: map[string]any{"otpId": id2, "password": "999999"}, status: 400}})
			_ = i
		}
		ta.run(t, []scenario{{name: "after 5 wrong tries the right code is refused", method: "POST", path: "/api/collections/users/auth-with-otp", body: map[string]any{"otpId": id2, "password": code2}, status: 400}})

		// Expiry.
		ta.patchCollection("users", map[string]any{"otp": map[string]any{"enabled": true, "length": 6, "duration": 1}})
		id3, code3 := ta.requestOTP("users", "ann@example.com", 3)
		time.Sleep(1100 * time.Millisecond)
		ta.run(t, []scenario{{name: "expired", method: "POST", path: "/api/collections/users/auth-with-otp", body: map[string]any{"otpId": id3, "password": code3}, status: 400}})
		// Expired codes are purged when the record asks for a new one.
		id3b, _ := ta.requestOTP("users", "ann@example.com", 4)
		otpsColl := st.Schema().Lookup("_otps")
		if _, err := st.FindFirstBy(context.Background(), otpsColl, "id", id3); err == nil {
			t.Error("an expired OTP was not purged")
		}
		if _, err := st.FindFirstBy(context.Background(), otpsColl, "id", id3b); err != nil {
			t.Errorf("the new OTP: %v", err)
		}
		// A code is bound to its collection.
		ta.patchCollection("users", map[string]any{"otp": map[string]any{"enabled": true, "length": 6, "duration": 60}})
		id4, code4 := ta.requestOTP("users", "ann@example.com", 5)
		ta.patchCollection("_superusers", map[string]any{"otp": map[string]any{"enabled": true}})
		ta.run(t, []scenario{{name: "another collection", method: "POST", path: "/api/collections/_superusers/auth-with-otp", body: map[string]any{"otpId": id4, "password": code4}, status: 400}})
	})
}

func TestMFA(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ann, _ := ta.signUp("ann@example.com")
		ta.signUp("bob@example.com")
		ta.patchCollection("users", map[string]any{"otp": map[string]any{"enabled": true}, "mfa": map[string]any{"enabled": true}})
		ta.run(t, []scenario{{name: "auth-methods", method: "GET", path: "/api/collections/users/auth-methods", status: 200, want: []string{`"mfa":{"duration":1800,"enabled":true}`}}})

		pw := map[string]any{"identity": "ann@example.com", "password": "user-password-1"}
		mfaID := ta.firstFactor(pw)
		ta.run(t, []scenario{
			{name: "the same method again is refused", method: "POST", path: "/api/collections/users/auth-with-password",
				body: map[string]any{"identity": "ann@example.com", "password": "user-password-1", "mfaId": mfaID}, status: 400, want: []string{`validation_mfa_same_method`}},
			{name: "an unknown mfaId", method: "POST", path: "/api/collections/users/auth-with-password",
				body: map[string]any{"identity": "ann@example.com", "password": "user-password-1", "mfaId": "nosuchmfa000000"}, status: 400, want: []string{`validation_invalid_mfa`}},
		})
		// Another user's OTP cannot complete ann's session.
		bobOTP, bobCode := ta.requestOTP("users", "bob@example.com", 1)
		ta.run(t, []scenario{{name: "another record's second factor", method: "POST", path: "/api/collections/users/auth-with-otp",
			body: map[string]any{"otpId": bobOTP, "password": bobCode, "mfaId": mfaID}, status: 400, want: []string{`validation_invalid_mfa`}}})

		otpID, code := ta.requestOTP("users", "ann@example.com", 1)
		var auth struct {
			Token  string
			Record map[string]any
		}
		ta.mustJSON("POST", "/api/collections/users/auth-with-otp", map[string]any{"otpId": otpID, "password": code, "mfaId": mfaID}, "", 200, &auth)
		if auth.Record["id"] != ann || auth.Token == "" {
			t.Fatalf("second factor: %+v", auth)
		}
		ta.run(t, []scenario{
			{name: "the session is gone once used", method: "POST", path: "/api/collections/users/auth-with-password",
				body: map[string]any{"identity": "ann@example.com", "password": "user-password-1", "mfaId": mfaID}, status: 400, want: []string{`validation_invalid_mfa`}},
			{name: "the token works", method: "POST", path: "/api/collections/users/auth-refresh", as: auth.Token, status: 200},
			{name: "_mfas is superusers only", method: "GET", path: "/api/collections/_mfas/records", as: auth.Token, status: 403},
		})
		// The SDK sends mfaId as a query parameter when given as an option.
		mfaID = ta.firstFactor(pw)
		otpID, code = ta.requestOTP("users", "ann@example.com", 2)
		ta.mustJSON("POST", "/api/collections/users/auth-with-otp?mfaId="+mfaID, map[string]any{"otpId": otpID, "password": code}, "", 200, nil)
		// OTP first, password second works as well.
		otpID, code = ta.requestOTP("users", "ann@example.com", 3)
		mfaID = ta.firstFactorOTP(otpID, code)
		ta.mustJSON("POST", "/api/collections/users/auth-with-password", map[string]any{"identity": "ann@example.com", "password": "user-password-1", "mfaId": mfaID}, "", 200, nil)

		// Expiry.
		ta.patchCollection("users", map[string]any{"mfa": map[string]any{"enabled": true, "duration": 1}})
		mfaID = ta.firstFactor(pw)
		time.Sleep(1100 * time.Millisecond)
		otpID, code = ta.requestOTP("users", "ann@example.com", 4)
		ta.run(t, []scenario{{name: "expired session", method: "POST", path: "/api/collections/users/auth-with-otp",
			body: map[string]any{"otpId": otpID, "password": code, "mfaId": mfaID}, status: 400, want: []string{`validation_invalid_mfa`}}})

		// mfa.rule limits MFA to the records it matches.
		ta.patchCollection("users", map[string]any{"mfa": map[string]any{"enabled": true, "duration": 600, "rule": "email ~ 'bob'"}})
		ta.login("users", "ann@example.com", "user-password-1")
		ta.firstFactor(map[string]any{"identity": "bob@example.com", "password": "user-password-1"})
		ta.run(t, []scenario{{name: "an invalid mfa rule", method: "PATCH", path: "/api/collections/users", as: "su",
			body: map[string]any{"mfa": map[string]any{"enabled": true, "rule": "nosuchfield = 1"}}, status: 400, want: []string{`mfa.rule`}}})
		// Superusers can have MFA too.
		ta.patchCollection("_superusers", map[string]any{"otp": map[string]any{"enabled": true}, "mfa": map[string]any{"enabled": true}})
		status, body := ta.do("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": "admin@example.com", "password": "secret-pass-1"}, "")
		if status != 401 || !strings.Contains(string(body), `"mfaId":"`) || !strings.Contains(string(body), `"status":401`) {
			t.Fatalf("superuser MFA: %d %s", status, body)
		}
	})
}

// firstFactor logs in with a password and expects the MFA 401.
func (ta *testApp) firstFactor(body map[string]any) string {
	ta.t.Helper()
	var out struct {
		Status  int
		Message string
		MfaID   string
	}
	ta.mustJSON("POST", "/api/collections/users/auth-with-password", body, "", 401, &out)
	if out.MfaID == "" || out.Status != 401 || out.Message == "" {
		ta.t.Fatalf("MFA step: %+v", out)
	}
	return out.MfaID
}

// firstFactorOTP logs in with an OTP and expects the MFA 401.
func (ta *testApp) firstFactorOTP(otpID, code string) string {
	ta.t.Helper()
	var out struct{ MfaID string }
	ta.mustJSON("POST", "/api/collections/users/auth-with-otp", map[string]any{"otpId": otpID, "password": code}, "", 401, &out)
	if out.MfaID == "" {
		ta.t.Fatal("no mfaId")
	}
	return out.MfaID
}
