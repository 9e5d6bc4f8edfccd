package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/examples/internal/e2e"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

type rec struct {
	ID       string                     `json:"id"`
	Name     string                     `json:"name"`
	Title    string                     `json:"title"`
	Org      string                     `json:"org"`
	User     string                     `json:"user"`
	Role     string                     `json:"role"`
	Project  string                     `json:"project"`
	Assignee string                     `json:"assignee"`
	Expand   map[string]json.RawMessage `json:"expand"`
}

// TestTenantIsolation runs a day of two organisations, Acme (alice owns
// it, carol is a member) and Globex (bob owns it, carol is a member too),
// and checks that bob never sees anything of Acme through list, filter,
// view, expand, realtime or batch, and that roles hold.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := newApp(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, DisableRateLimits: true}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		c := e2e.New(t, srv)
		alice, aliceTok := c.SignUp("alice@acme.test")
		bob, bobTok := c.SignUp("bob@globex.test")
		carol, carolTok := c.SignUp("carol@example.test")
		dave, _ := c.SignUp("dave@example.test")

		create := func(coll, token string, body map[string]any, want int) rec {
			t.Helper()
			var r rec
			c.Call("POST", "/api/collections/"+coll+"/records", token, body, want, &r)
			return r
		}
		count := func(coll, token, query string) int {
			t.Helper()
			var p e2e.Page[rec]
			c.Call("GET", "/api/collections/"+coll+"/records"+query, token, nil, 200, &p)
			return p.TotalItems
		}

		// Founding an organisation makes its founder the owner.
		acme := create("orgs", aliceTok, map[string]any{"name": "Acme"}, 200)
		globex := create("orgs", bobTok, map[string]any{"name": "Globex"}, 200)
		var mine e2e.Page[rec]
		c.Call("GET", "/api/collections/memberships/records", aliceTok, nil, 200, &mine)
		if mine.TotalItems != 1 || mine.Items[0].Role != "owner" || mine.Items[0].User != alice || mine.Items[0].Org != acme.ID {
			t.Fatalf("alice's memberships %+v", mine)
		}
		create("memberships", aliceTok, map[string]any{"org": acme.ID, "user": carol, "role": "member"}, 200)
		carolAtGlobex := create("memberships", bobTok, map[string]any{"org": globex.ID, "user": carol, "role": "member"}, 200)

		// Roles: only admins add members, nobody adds an owner, a member
		// cannot promote themselves.
		create("memberships", bobTok, map[string]any{"org": acme.ID, "user": dave, "role": "member"}, 400)
		create("memberships", bobTok, map[string]any{"org": acme.ID, "user": bob, "role": "admin"}, 400)
		create("memberships", carolTok, map[string]any{"org": acme.ID, "user": dave, "role": "member"}, 400)
		create("memberships", aliceTok, map[string]any{"org": acme.ID, "user": dave, "role": "owner"}, 400)
		c.Call("PATCH", "/api/collections/memberships/records/"+carolAtGlobex.ID, carolTok, map[string]any{"role": "admin"}, 404, nil)

		rocket := create("projects", aliceTok, map[string]any{"org": acme.ID, "name": "Rocket"}, 200)
		create("projects", carolTok, map[string]any{"org": acme.ID, "name": "Carol's"}, 400)
		create("projects", bobTok, map[string]any{"org": acme.ID, "name": "Trojan"}, 400)
		widget := create("projects", bobTok, map[string]any{"org": globex.ID, "name": "Widget"}, 200)

		// Tasks go to members of the project's organisation only.
		acmeTask := create("tasks", carolTok, map[string]any{"project": rocket.ID, "title": "launch", "assignee": alice}, 200)
		create("tasks", carolTok, map[string]any{"project": rocket.ID, "title": "x", "assignee": bob}, 400)
		create("tasks", bobTok, map[string]any{"project": rocket.ID, "title": "sabotage"}, 400)
		globexTask := create("tasks", bobTok, map[string]any{"project": widget.ID, "title": "ship", "assignee": carol}, 200)
		c.Call("PATCH", "/api/collections/tasks/records/"+globexTask.ID, bobTok, map[string]any{"project": rocket.ID}, 404, nil)

		// List and filter: bob sees Globex only, however he asks.
		for coll, want := range map[string]int{"orgs": 1, "memberships": 2, "projects": 1, "tasks": 1} {
			if n := count(coll, bobTok, ""); n != want {
				t.Errorf("bob lists %d %s, want %d", n, coll, want)
			}
		}
		probes := []string{`name = "Acme"`, `org.name = "Acme"`, `project.org.name = "Acme"`, `id = "` + acmeTask.ID + `"`}
		for _, f := range probes {
			for _, coll := range []string{"orgs", "projects", "tasks"} {
				if status, data := c.Do("GET", "/api/collections/"+coll+"/records?filter="+url.QueryEscape(f), bobTok, nil); status == 200 && !strings.Contains(string(data), `"totalItems":0`) {
					t.Errorf("bob's filter %s on %s: %s", f, coll, data)
				}
			}
		}
		// View: Acme's records do not exist for bob; nor does alice.
		for _, p := range []string{"orgs/records/" + acme.ID, "projects/records/" + rocket.ID, "tasks/records/" + acmeTask.ID, "users/records/" + alice} {
			c.Call("GET", "/api/collections/"+p, bobTok, nil, 404, nil)
		}
		c.Call("GET", "/api/collections/users/records/"+carol, bobTok, nil, 200, nil) // a colleague
		c.Call("GET", "/api/collections/users/records/"+bob, aliceTok, nil, 404, nil)
		if n := count("users", carolTok, ""); n != 3 {
			t.Errorf("carol sees %d users, want herself and her two owners", n)
		}

		// Expand: through carol, who is in both, bob reaches only Globex.
		var carolRec rec
		c.Call("GET", "/api/collections/users/records/"+carol+"?expand=memberships_via_user.org,memberships_via_user.user", bobTok, nil, 200, &carolRec)
		var via []rec
		json.Unmarshal(carolRec.Expand["memberships_via_user"], &via)
		if len(via) != 1 || via[0].Org != globex.ID || !strings.Contains(string(via[0].Expand["org"]), "Globex") {
			t.Errorf("bob expands carol's memberships: %s", carolRec.Expand["memberships_via_user"])
		}
		var ms e2e.Page[rec]
		c.Call("GET", "/api/collections/memberships/records?expand=org,user", bobTok, nil, 200, &ms)
		for _, m := range ms.Items {
			if m.Org != globex.ID || strings.Contains(string(m.Expand["org"]), "Acme") {
				t.Errorf("bob's memberships expand: %+v", m)
			}
		}
		// A Globex task that Go code (no rules) assigned to alice: bob sees
		// the task but the expand hides alice, who is no colleague of his.
		var stray string
		err = app.Store().Tx(ctx, func(tx *store.Tx) error {
			r, err := app.Records().Create(ctx, tx, record.SystemCaller(), app.Store().Schema().Lookup("tasks"),
				map[string]any{"project": widget.ID, "title": "stray", "assignee": alice})
			if err == nil {
				stray = r.ID()
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var strayRec rec
		c.Call("GET", "/api/collections/tasks/records/"+stray+"?expand=assignee,project.org", bobTok, nil, 200, &strayRec)
		if _, leaked := strayRec.Expand["assignee"]; leaked || !strings.Contains(string(strayRec.Expand["project"]), "Globex") {
			t.Errorf("bob's expand of the stray task: %s", strayRec.Expand)
		}

		// Realtime: bob's subscriptions (a wildcard and Acme's task by id)
		// never carry Acme's events; alice gets hers.
		aliceRT, bobRT := c.Connect(), c.Connect()
		topics := []string{"orgs/*", "memberships/*", "projects/*", "tasks/*"}
		aliceRT.Subscribe(aliceTok, topics...)
		bobRT.Subscribe(bobTok, append(topics, "tasks/"+acmeTask.ID, "orgs/"+acme.ID)...)
		create("tasks", aliceTok, map[string]any{"project": rocket.ID, "title": "countdown"}, 200)
		c.Call("PATCH", "/api/collections/tasks/records/"+acmeTask.ID, aliceTok, map[string]any{"done": true}, 200, nil)
		c.Call("PATCH", "/api/collections/orgs/records/"+acme.ID, aliceTok, map[string]any{"name": "Acme Inc"}, 200, nil)
		create("tasks", bobTok, map[string]any{"project": widget.ID, "title": "globex only"}, 200)
		var got []string
		for range 3 {
			ev, _ := aliceRT.Next(5 * time.Second)
			got = append(got, ev.Data)
		}
		for _, want := range []string{"countdown", `"done":true`, "Acme Inc"} {
			if !strings.Contains(strings.Join(got, "\n"), want) {
				t.Errorf("alice's events %q, want %s", got, want)
			}
		}
		if ev, ok := bobRT.Next(5 * time.Second); !ok || !strings.Contains(ev.Data, "globex only") {
			t.Errorf("bob's first event %+v, want his own task (never Acme's)", ev)
		}
		if ev, ok := bobRT.Next(300 * time.Millisecond); ok {
			t.Errorf("bob received %+v", ev)
		}

		// Batch: every request bob makes on Acme's records fails and
		// rolls the whole batch back.
		batches := [][]map[string]any{
			{{"method": "POST", "url": "/api/collections/tasks/records", "body": map[string]any{"project": rocket.ID, "title": "in batch"}}},
			{{"method": "PATCH", "url": "/api/collections/tasks/records/" + acmeTask.ID, "body": map[string]any{"title": "pwned"}}},
			{{"method": "DELETE", "url": "/api/collections/tasks/records/" + acmeTask.ID}},
			{{"method": "PUT", "url": "/api/collections/tasks/records", "body": map[string]any{"id": acmeTask.ID, "project": widget.ID, "title": "moved"}}},
			{{"method": "POST", "url": "/api/collections/memberships/records", "body": map[string]any{"org": acme.ID, "user": bob, "role": "admin"}}},
			{
				{"method": "POST", "url": "/api/collections/tasks/records", "body": map[string]any{"project": widget.ID, "title": "ok"}},
				{"method": "DELETE", "url": "/api/collections/projects/records/" + rocket.ID},
			},
		}
		for i, reqs := range batches {
			if status, data := c.Do("POST", "/api/batch", bobTok, map[string]any{"requests": reqs}); status < 400 || status >= 500 {
				t.Errorf("bob's batch %d: %d %s", i, status, data)
			}
		}
		var task rec
		c.Call("GET", "/api/collections/tasks/records/"+acmeTask.ID, aliceTok, nil, 200, &task)
		if task.Title != "launch" || task.Project != rocket.ID {
			t.Errorf("Acme's task after bob's batches: %+v", task)
		}
		if n := count("tasks", bobTok, ""); n != 3 { // ship, stray, globex only
			t.Errorf("bob has %d tasks after failed batches, want 3", n)
		}
		if n := count("memberships", aliceTok, ""); n != 2 {
			t.Errorf("Acme has %d members, want 2", n)
		}

		// A member neither deletes tasks nor removes the owner; carol
		// leaves Globex, and bob no longer sees her.
		c.Call("DELETE", "/api/collections/tasks/records/"+acmeTask.ID, carolTok, nil, 404, nil)
		var aliceM e2e.Page[rec]
		c.Call("GET", "/api/collections/memberships/records?filter="+url.QueryEscape(`role = "owner"`), carolTok, nil, 200, &aliceM)
		for _, m := range aliceM.Items {
			c.Call("DELETE", "/api/collections/memberships/records/"+m.ID, carolTok, nil, 404, nil)
		}
		c.Call("DELETE", "/api/collections/memberships/records/"+carolAtGlobex.ID, carolTok, nil, 204, nil)
		c.Call("GET", "/api/collections/users/records/"+carol, bobTok, nil, 404, nil)

		// Only the owner deletes the organisation, and everything goes.
		c.Call("DELETE", "/api/collections/orgs/records/"+acme.ID, carolTok, nil, 404, nil)
		c.Call("DELETE", "/api/collections/orgs/records/"+acme.ID, aliceTok, nil, 204, nil)
		if n := count("tasks", carolTok, ""); n != 0 {
			t.Errorf("carol sees %d tasks after Acme's deletion", n)
		}
	})
}
