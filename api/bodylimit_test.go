package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// sendBody posts raw bytes with a content type; chunked hides the length
// (no Content-Length), so that only reading the body can find it too big.
func (ta *testApp) sendBody(method, path, ctype string, body []byte, token string, chunked bool) (int, []byte) {
	ta.t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // not a type whose length net/http knows
	}
	req, err := http.NewRequest(method, ta.srv.URL+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// check413 asserts a 413 in PocketBase's error shape.
func check413(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	var e struct {
		Status  int
		Message string
		Data    map[string]any
	}
	if status != http.StatusRequestEntityTooLarge || json.Unmarshal(body, &e) != nil || e.Status != 413 || e.Message == "" || e.Data == nil {
		t.Errorf("%s: status %d, want a 413 error body; body %.200s", what, status, body)
	}
}

// numbers is a JSON object of about n bytes whose key holds an array of
// numbers: the shape that costs the most memory to decode.
func numbers(key string, n int) []byte {
	return []byte(`{"` + key + `":[` + strings.Repeat("1,", n/2) + `1]}`)
}

// TestBodyLimits checks each endpoint class's body limit: auth flows are
// small, record JSON follows the collection's fields, multipart uploads
// stay large, superuser bodies sit between; over the limit is a 413
// whether the length is announced or only found while reading.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, noLimits)
		ta.createCollection(map[string]any{"name": "notes", "createRule": "", "updateRule": "", "fields": []map[string]any{
			{"name": "title", "type": "text", "max": 5 << 20}, {"name": "doc", "type": "file", "maxSize": 3 << 20}}})
		ta.createCollection(map[string]any{"name": "pages", "createRule": "", "fields": []map[string]any{
			{"name": "body", "type": "editor", "maxSize": 3 << 20}}})
		const login = "/api/collections/_superusers/auth-with-password"
		big := numbers("identity", 17<<10)
		for _, chunked := range []bool{false, true} {
			st, body := ta.sendBody("POST", login, "application/json", big, "", chunked)
			check413(t, "17 KiB auth body", st, body)
		}
		// The same limit holds for a multipart or url-encoded auth body.
		ct, mp := multipartBody(t, []part{valuePart("identity", strings.Repeat("x", 17<<10))})
		st, body := ta.sendBody("POST", login, ct, mp, "", true)
		check413(t, "multipart auth body", st, body)
		st, body = ta.sendBody("POST", login, "application/x-www-form-urlencoded", []byte("identity="+strings.Repeat("x", 17<<10)), "", true)
		check413(t, "url-encoded auth body", st, body)
		// A normal login still works.
		ta.login("_superusers", "admin@example.com", "secret-pass-1")
		// The OAuth2 redirect parses its form itself: held to the same limit.
		form := []byte("state=abc&code=" + strings.Repeat("x", 17<<10))
		st, body = ta.sendBody("POST", "/api/oauth2-redirect", "application/x-www-form-urlencoded", form, "", false)
		check413(t, "17 KiB OAuth2 redirect", st, body)
		if st, body := ta.sendBody("POST", "/api/oauth2-redirect", "application/x-www-form-urlencoded", form, "", true); st < 400 || st > 499 {
			t.Errorf("17 KiB chunked OAuth2 redirect: %d, want a 4xx; %.200s", st, body)
		}

		// Records: 1 MiB of JSON by default...
		text := func(n int) []byte { return []byte(`{"title":"` + strings.Repeat("x", n) + `"}`) }
		for _, chunked := range []bool{false, true} {
			st, body = ta.sendBody("POST", "/api/collections/notes/records", "application/json", text(1<<20+100), "", chunked)
			check413(t, "1 MiB record JSON", st, body)
		}
		if st, body := ta.sendBody("POST", "/api/collections/notes/records", "application/json", text(900<<10), "", false); st != 200 {
			t.Errorf("900 KiB record: %d %.200s", st, body)
		}
		// ...raised by an editor field's cap, so what the schema admits can
		// be sent as JSON.
		if st, body := ta.sendBody("POST", "/api/collections/pages/records", "application/json",
			[]byte(`{"body":"`+strings.Repeat("x", 2<<20)+`"}`), "", false); st != 200 {
			t.Errorf("2 MiB editor value: %d %.200s", st, body)
		}
		// A multipart body may carry files up to MaxBodyBytes, but its plain
		// values are held to the JSON limit.
		if st, body := ta.multipart("POST", "/api/collections/notes/records", "",
			valuePart("title", "with a file"), filePart("doc", "big.bin", bytes.Repeat([]byte{7}, 2<<20))); st != 200 {
			t.Errorf("2 MiB upload: %d %.200s", st, body)
		}
		ct, mp = multipartBody(t, []part{{field: "@jsonPayload", data: numbers("title", 1<<20+100)}})
		st, body = ta.sendBody("POST", "/api/collections/notes/records", ct, mp, "", true)
		check413(t, "1 MiB @jsonPayload", st, body)

		// A JSON batch may carry four default record bodies.
		batch := []byte(`{"requests":[{"method":"POST","url":"/api/collections/notes/records","body":` + string(numbers("title", 4<<20)) + `}]}`)
		st, body = ta.sendBody("POST", "/api/batch", "application/json", batch, "", true)
		check413(t, "4 MiB JSON batch", st, body)

		// Superuser bodies: 8 MiB.
		st, body = ta.sendBody("PUT", "/api/collections/import", "application/json", numbers("collections", 9<<20), ta.su, true)
		check413(t, "9 MiB import", st, body)
		st, body = ta.sendBody("PATCH", "/api/settings", "application/json", numbers("meta", 9<<20), ta.su, false)
		check413(t, "9 MiB settings", st, body)
		if st, body := ta.sendBody("PATCH", "/api/settings", "application/json", []byte(`{"meta":{"appName":"`+strings.Repeat("x", 100)+`"}}`), ta.su, false); st != 400 && st != 200 {
			t.Errorf("small settings body: %d %.200s", st, body)
		}
	})
}

// TestBodyLimitsConfigurable checks that the limits follow the config.
func TestBodyLimitsConfigurable(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, func(c *plinth.Config) {
			noLimits(c)
			c.MaxRecordBodyBytes, c.MaxAuthBodyBytes = 4<<20, 64<<10
		})
		ta.createCollection(map[string]any{"name": "notes", "createRule": "", "fields": []map[string]any{{"name": "title", "type": "text", "max": 5 << 20}}})
		if st, body := ta.sendBody("POST", "/api/collections/notes/records", "application/json",
			[]byte(`{"title":"`+strings.Repeat("x", 3<<20)+`"}`), "", false); st != 200 {
			t.Errorf("3 MiB record with a 4 MiB limit: %d %.200s", st, body)
		}
		st, body := ta.sendBody("POST", "/api/collections/_superusers/auth-with-password", "application/json", numbers("identity", 32<<10), "", true)
		if st != 400 {
			t.Errorf("32 KiB auth body with a 64 KiB limit: %d, want 400 (decoded, then refused); %.200s", st, body)
		}
		st, body = ta.sendBody("POST", "/api/collections/_superusers/auth-with-password", "application/json", numbers("identity", 65<<10), "", true)
		check413(t, "65 KiB auth body with a 64 KiB limit", st, body)
	})
}
