package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// client drives the example's HTTP API in tests.
type client struct {
	t   *testing.T
	url string
}

// call sends a JSON request and checks its status; out, when set, receives
// the decoded answer.
func (c client) call(method, path, token, body string, want int, out any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// signUp creates a user and returns its id and token.
func (c client) signUp(email string) (id, token string) {
	c.t.Helper()
	body := `{"email":"` + email + `","password":"secret-pass-1","passwordConfirm":"secret-pass-1"}`
	c.call("POST", "/api/collections/users/records", "", body, 200, nil)
	var auth struct {
		Token  string
		Record struct{ ID string }
	}
	c.call("POST", "/api/collections/users/auth-with-password", "", `{"identity":"`+email+`","password":"secret-pass-1"}`, 200, &auth)
	return auth.Record.ID, auth.Token
}

type todo struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Done   bool   `json:"done"`
	DoneAt string `json:"doneAt"`
	Owner  string `json:"owner"`
}

type page struct {
	TotalItems int    `json:"totalItems"`
	Items      []todo `json:"items"`
}

func TestTodo(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := newApp(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, DisableRateLimits: true}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		c := client{t, srv.URL}

		alice, aliceToken := c.signUp("alice@example.com")
		bob, bobToken := c.signUp("bob@example.com")

		var a1 todo
		c.call("POST", "/api/collections/todos/records", aliceToken, `{"title":"  buy milk ","owner":"`+alice+`"}`, 200, &a1)
		if a1.Title != "buy milk" || a1.Done || a1.DoneAt != "" {
			t.Errorf("created %+v", a1)
		}
		c.call("POST", "/api/collections/todos/records", aliceToken, `{"title":"write report","owner":"`+alice+`"}`, 200, nil)
		var b1 todo
		c.call("POST", "/api/collections/todos/records", bobToken, `{"title":"fix bike","owner":"`+bob+`"}`, 200, &b1)

		// Nobody creates todos for someone else, guests none at all.
		c.call("POST", "/api/collections/todos/records", bobToken, `{"title":"spam","owner":"`+alice+`"}`, 400, nil)
		c.call("POST", "/api/collections/todos/records", "", `{"title":"spam","owner":"`+alice+`"}`, 400, nil)
		// The hook refuses a blank title.
		c.call("POST", "/api/collections/todos/records", aliceToken, `{"title":"   ","owner":"`+alice+`"}`, 400, nil)

		// Each user lists only their own todos; guests see none.
		var p page
		c.call("GET", "/api/collections/todos/records?sort=created", aliceToken, "", 200, &p)
		if p.TotalItems != 2 || p.Items[0].Owner != alice || p.Items[1].Owner != alice {
			t.Errorf("alice's list: %+v", p)
		}
		c.call("GET", "/api/collections/todos/records", bobToken, "", 200, &p)
		if p.TotalItems != 1 || p.Items[0].ID != b1.ID {
			t.Errorf("bob's list: %+v", p)
		}
		c.call("GET", "/api/collections/todos/records?filter="+url.QueryEscape(`owner = "`+alice+`"`), bobToken, "", 200, &p)
		if p.TotalItems != 0 {
			t.Errorf("bob's filter on alice's todos found %d", p.TotalItems)
		}
		c.call("GET", "/api/collections/todos/records", "", "", 200, &p)
		if p.TotalItems != 0 {
			t.Errorf("a guest lists %d todos", p.TotalItems)
		}

		// Someone else's todo does not exist for bob: view, update, delete.
		c.call("GET", "/api/collections/todos/records/"+a1.ID, bobToken, "", 404, nil)
		c.call("PATCH", "/api/collections/todos/records/"+a1.ID, bobToken, `{"done":true}`, 404, nil)
		c.call("DELETE", "/api/collections/todos/records/"+a1.ID, bobToken, "", 404, nil)
		// Nor can bob give his todo away (an update the rule refuses is a
		// 404, as in PocketBase).
		c.call("PATCH", "/api/collections/todos/records/"+b1.ID, bobToken, `{"owner":"`+alice+`"}`, 404, nil)

		// Completing a todo stamps doneAt; reopening clears it.
		var done todo
		c.call("PATCH", "/api/collections/todos/records/"+a1.ID, aliceToken, `{"done":true}`, 200, &done)
		if !done.Done || done.DoneAt == "" {
			t.Errorf("completed: %+v", done)
		}
		var stats map[string]int
		c.call("GET", "/api/todos/stats", aliceToken, "", 200, &stats)
		if stats["open"] != 1 || stats["done"] != 1 {
			t.Errorf("alice's stats %v", stats)
		}
		c.call("GET", "/api/todos/stats", bobToken, "", 200, &stats)
		if stats["open"] != 1 || stats["done"] != 0 {
			t.Errorf("bob's stats %v", stats)
		}
		c.call("GET", "/api/todos/stats", "", "", 401, nil)
		c.call("PATCH", "/api/collections/todos/records/"+a1.ID, aliceToken, `{"done":false}`, 200, &done)
		if done.Done || done.DoneAt != "" {
			t.Errorf("reopened: %+v", done)
		}
		c.call("DELETE", "/api/collections/todos/records/"+a1.ID, aliceToken, "", 204, nil)

		// A second start finds the collection and applies nothing.
		if st, err := app.Migrations().Status(ctx); err != nil || len(st) != 1 || !st[0].Applied {
			t.Errorf("migration status %+v, %v", st, err)
		}
	})
}
