package client_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/client"
	"github.com/plinthdev/plinth/internal/testenv"
)

// note is the notes collection as a caller's own struct, for ListAs and
// ViewAs.
type note struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Score   float64  `json:"score"`
	Done    bool     `json:"done"`
	Tags    []string `json:"tags"`
	Due     string   `json:"due"`
	Owner   string   `json:"owner"`
	Created string   `json:"created"`
}

const userPassword = "user-pass-123"

// TestClientIntegration drives a realistic flow through the client on both
// databases, every exchange checked against the OpenAPI document: a
// superuser makes a collection whose rules keep notes private to their
// owner, two users sign up and sign in, write notes, and list, filter,
// sort, expand, page, update, batch and delete them, meeting typed errors
// on the way.
func TestClientIntegration(t *testing.T) {
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := start(t, b)
		su := s.superuser(ctx)

		h, err := su.Health(ctx)
		if err != nil || h.Code != 200 {
			t.Fatalf("health: %+v, %v", h, err)
		}

		// The superuser makes "notes" through the raw Send.
		users, err := su.Collection(ctx, "users")
		if err != nil {
			t.Fatal(err)
		}
		const owner = "owner = @request.auth.id"
		var created client.Collection
		err = su.Send(ctx, "POST", "/api/collections", map[string]any{
			"name": "notes", "type": "base",
			"listRule": owner, "viewRule": owner, "updateRule": owner, "deleteRule": owner,
			"createRule": "@request.auth.id != '' && " + owner,
			"fields": []map[string]any{
				{"name": "title", "type": "text", "required": true, "max": 100},
				{"name": "score", "type": "number"},
				{"name": "done", "type": "bool"},
				{"name": "tags", "type": "select", "values": []string{"work", "home"}, "maxSelect": 2},
				{"name": "due", "type": "date"},
				{"name": "owner", "type": "relation", "collectionId": users.ID, "maxSelect": 1, "required": true},
				{"name": "created", "type": "autodate", "onCreate": true},
			},
		}, &created)
		if err != nil {
			t.Fatal(err)
		}
		if created.ID == "" || created.Name != "notes" || created.ListRule == nil || *created.ListRule != owner {
			t.Fatalf("created collection: %+v", created)
		}
		all, err := su.Collections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := make([]string, len(all))
		for i, c := range all {
			names[i] = c.Name
		}
		for _, want := range []string{"_superusers", "users", "notes"} {
			if !slices.Contains(names, want) {
				t.Errorf("Collections: no %s in %v", want, names)
			}
		}
		notes, err := su.Collection(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f := notes.Field("owner"); f == nil || f.Type != "relation" || !f.Required || f.Options["collectionId"] != users.ID {
			t.Errorf("owner field: %+v", f)
		}
		if f := notes.Field("tags"); f == nil || f.Options["maxSelect"] != float64(2) {
			t.Errorf("tags field: %+v", f)
		}

		// Two users sign up as guests, then sign in.
		guest := s.client()
		signIn := map[string]*client.Client{}
		ids := map[string]string{}
		for _, name := range []string{"alice", "bob"} {
			rec, err := guest.Create(ctx, "users", map[string]any{
				"email": name + "@example.com", "password": userPassword, "passwordConfirm": userPassword, "name": name,
			})
			if err != nil {
				t.Fatalf("sign up %s: %v", name, err)
			}
			if rec.ID() == "" || rec.CollectionName() != "users" || rec["password"] != nil {
				t.Fatalf("sign up %s: %v", name, rec)
			}
			c := s.client()
			auth, err := c.AuthWithPassword(ctx, "users", name+"@example.com", userPassword)
			if err != nil {
				t.Fatalf("sign in %s: %v", name, err)
			}
			if auth.Token == "" || c.Token() != auth.Token || auth.Record.ID() != rec.ID() || auth.Record.String("email") != name+"@example.com" {
				t.Fatalf("sign in %s: %+v, client token %q", name, auth, c.Token())
			}
			signIn[name], ids[name] = c, rec.ID()
		}
		alice, bob := signIn["alice"], signIn["bob"]
		if _, err := guest.AuthWithPassword(ctx, "users", "alice@example.com", "wrong-password"); !client.IsStatus(err, http.StatusBadRequest) {
			t.Errorf("wrong password: %v, want a 400", err)
		}
		if guest.Token() != "" {
			t.Errorf("a failed sign-in set the token %q", guest.Token())
		}

		// Each writes notes; the create rule makes them the owner.
		tricky := `She said "hi" \ it's {:q} ` + "\n\ttabbed ünïcödé"
		due := time.Date(2030, 5, 17, 9, 30, 0, 0, time.UTC)
		writes := []struct {
			who   *client.Client
			owner string
			body  map[string]any
		}{
			{alice, ids["alice"], map[string]any{"title": "Buy milk", "score": 3, "tags": []string{"home"}}},
			{alice, ids["alice"], map[string]any{"title": "Write report", "score": 8, "tags": []string{"work"}, "due": due.Format(client.DateLayout)}},
			{alice, ids["alice"], map[string]any{"title": "Plan trip", "score": 5, "tags": []string{"home", "work"}}},
			{alice, ids["alice"], map[string]any{"title": tricky, "score": 1}},
			{bob, ids["bob"], map[string]any{"title": "Bob's secret", "score": 9, "tags": []string{"home"}}},
		}
		byTitle := map[string]client.Record{}
		for _, w := range writes {
			w.body["owner"] = w.owner
			rec, err := w.who.Create(ctx, "notes", w.body)
			if err != nil {
				t.Fatalf("create %v: %v", w.body["title"], err)
			}
			if rec.String("title") != w.body["title"] || rec.String("owner") != w.owner || rec.CollectionID() != created.ID || rec.Time("created").IsZero() {
				t.Fatalf("created %v", rec)
			}
			byTitle[rec.String("title")] = rec
		}
		if got := byTitle["Write report"].Time("due"); !got.Equal(due) {
			t.Errorf("due: %v, want %v", got, due)
		}

		// Each sees only their own notes.
		for name, c := range signIn {
			res, err := c.List(ctx, "notes", client.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"alice": 4, "bob": 1}[name]
			if res.TotalItems != want || len(res.Items) != want || res.Page != 1 || res.PerPage != 30 {
				t.Errorf("%s lists %d of %d items, want %d", name, len(res.Items), res.TotalItems, want)
			}
			for _, r := range res.Items {
				if r.String("owner") != ids[name] {
					t.Errorf("%s sees %v", name, r)
				}
			}
		}
		if res, err := guest.List(ctx, "notes", client.ListOptions{}); err != nil || res.TotalItems != 0 {
			t.Errorf("a guest lists %+v, %v; want nothing", res, err)
		}
		if res, err := su.List(ctx, "notes", client.ListOptions{SkipTotal: true}); err != nil || len(res.Items) != 5 || res.TotalItems != -1 || res.TotalPages != -1 {
			t.Errorf("the superuser lists %+v, %v; want all 5 and no totals", res, err)
		}

		// Filter (with bound values), sort, expand, fields, paging.
		mustFilter := func(expr string, params map[string]any) string {
			t.Helper()
			f, err := client.Filter(expr, params)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		for _, tt := range []struct {
			name string
			opts client.ListOptions
			want []string // titles, in order
		}{
			{"tag and score, by score", client.ListOptions{Filter: mustFilter("tags ?= {:tag} && score >= {:min}", map[string]any{"tag": "home", "min": 3}), Sort: "-score"},
				[]string{"Plan trip", "Buy milk"}},
			{"a tricky string, exactly", client.ListOptions{Filter: mustFilter("title = {:t}", map[string]any{"t": tricky})}, []string{tricky}},
			{"contains a quote", client.ListOptions{Filter: mustFilter("title ~ {:t}", map[string]any{"t": `"hi"`})}, []string{tricky}},
			{"a date", client.ListOptions{Filter: mustFilter("due > {:d}", map[string]any{"d": due.Add(-time.Hour)})}, []string{"Write report"}},
			{"null and bool", client.ListOptions{Filter: mustFilter("due = {:none} && done = {:done} && score < {:max}", map[string]any{"none": nil, "done": false, "max": 4.5}), Sort: "score"},
				[]string{tricky, "Buy milk"}},
			{"another owner's note by title", client.ListOptions{Filter: mustFilter("title = {:t}", map[string]any{"t": "Bob's secret"})}, nil},
			{"page 2 of 2 per page", client.ListOptions{Sort: "score", Page: 2, PerPage: 2}, []string{"Plan trip", "Write report"}},
		} {
			res, err := alice.List(ctx, "notes", tt.opts)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			var got []string
			for _, r := range res.Items {
				got = append(got, r.String("title"))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s (filter %s): %q, want %q", tt.name, tt.opts.Filter, got, tt.want)
			}
		}
		res, err := alice.List(ctx, "notes", client.ListOptions{Filter: `title = "Buy milk"`, Expand: "owner", Fields: "id,title,expand.owner.email"})
		if err != nil || len(res.Items) != 1 {
			t.Fatalf("expand: %+v, %v", res, err)
		}
		if got := res.Items[0]; got["score"] != nil || len(got.Expanded("owner")) != 1 || got.Expanded("owner")[0].String("email") != "alice@example.com" {
			t.Errorf("expand with fields: %v", got)
		}

		// The caller's own struct.
		typed, err := client.ListAs[note](ctx, alice, "notes", client.ListOptions{Sort: "-score", PerPage: 1})
		if err != nil || len(typed.Items) != 1 || typed.TotalPages != 4 || typed.Items[0].Title != "Write report" || !slices.Equal(typed.Items[0].Tags, []string{"work"}) {
			t.Fatalf("ListAs: %+v, %v", typed, err)
		}
		one, err := client.ViewAs[note](ctx, alice, "notes", typed.Items[0].ID, client.ViewOptions{})
		if err != nil || one.Score != 8 || one.Owner != ids["alice"] || one.Due == "" || one.Created == "" {
			t.Fatalf("ViewAs: %+v, %v", one, err)
		}
		view, err := alice.View(ctx, "notes", one.ID, client.ViewOptions{Expand: "owner"})
		if err != nil || view.Expanded("owner")[0].ID() != ids["alice"] {
			t.Fatalf("View with expand: %v, %v", view, err)
		}

		// Typed errors.
		milk, secret := byTitle["Buy milk"].ID(), byTitle["Bob's secret"].ID()
		for _, tt := range []struct {
			name   string
			call   func() error
			status int
			field  string // a field the 400 must name
			code   string // and its code
		}{
			{"create without a title", func() error {
				_, err := alice.Create(ctx, "notes", map[string]any{"owner": ids["alice"], "score": 2})
				return err
			}, 400, "title", "validation_required"},
			{"create with an unknown tag", func() error {
				_, err := alice.Create(ctx, "notes", map[string]any{"owner": ids["alice"], "title": "x", "tags": []string{"play"}})
				return err
			}, 400, "tags", ""},
			{"create a title too long", func() error {
				_, err := alice.Create(ctx, "notes", map[string]any{"owner": ids["alice"], "title": strings.Repeat("x", 101)})
				return err
			}, 400, "title", ""},
			{"create a note for someone else", func() error {
				_, err := alice.Create(ctx, "notes", map[string]any{"owner": ids["bob"], "title": "forged"})
				return err
			}, 400, "", ""},
			{"sign up with mismatched passwords", func() error {
				_, err := guest.Create(ctx, "users", map[string]any{"email": "carol@example.com", "password": userPassword, "passwordConfirm": "other-pass-123"})
				return err
			}, 400, "passwordConfirm", ""},
			{"view another user's note", func() error {
				_, err := alice.View(ctx, "notes", secret, client.ViewOptions{})
				return err
			}, 404, "", ""},
			{"update another user's note", func() error {
				_, err := alice.Update(ctx, "notes", secret, map[string]any{"title": "mine now"})
				return err
			}, 404, "", ""},
			{"delete another user's note", func() error { return alice.Delete(ctx, "notes", secret) }, 404, "", ""},
			{"a note that does not exist", func() error {
				_, err := bob.View(ctx, "notes", "doesnotexist123", client.ViewOptions{})
				return err
			}, 404, "", ""},
			{"a filter that does not parse", func() error {
				_, err := alice.List(ctx, "notes", client.ListOptions{Filter: "title ="})
				return err
			}, 400, "", ""},
			{"collections as a user", func() error {
				_, err := alice.Collections(ctx)
				return err
			}, 403, "", ""},
			{"a collection that does not exist", func() error {
				_, err := alice.List(ctx, "nowhere", client.ListOptions{})
				return err
			}, 404, "", ""},
		} {
			err := tt.call()
			var apiErr *client.Error
			if !errors.As(err, &apiErr) {
				t.Errorf("%s: %v, want an *client.Error", tt.name, err)
				continue
			}
			if apiErr.Status != tt.status || apiErr.Message == "" || apiErr.Data == nil {
				t.Errorf("%s: %+v, want status %d", tt.name, apiErr, tt.status)
			}
			if tt.field != "" && apiErr.FieldCode(tt.field) == "" || tt.code != "" && apiErr.FieldCode(tt.field) != tt.code {
				t.Errorf("%s: field errors %v, want %s %s", tt.name, apiErr.Data, tt.field, tt.code)
			}
		}
		if rec, err := bob.View(ctx, "notes", secret, client.ViewOptions{}); err != nil || rec.String("title") != "Bob's secret" {
			t.Errorf("bob's note after alice's attempts: %v, %v", rec, err)
		}

		// Update with a field modifier; refresh the token.
		upd, err := alice.Update(ctx, "notes", milk, map[string]any{"score+": 2, "done": true})
		if err != nil || upd.Float("score") != 5 || !upd.Bool("done") {
			t.Fatalf("update: %v, %v", upd, err)
		}
		ref, err := alice.AuthRefresh(ctx, "users")
		if err != nil || ref.Token == "" || alice.Token() != ref.Token || ref.Record.ID() != ids["alice"] {
			t.Fatalf("refresh: %+v, %v", ref, err)
		}
		again := s.client(client.WithToken(ref.Token))
		if res, err := again.List(ctx, "notes", client.ListOptions{}); err != nil || res.TotalItems != 4 {
			t.Errorf("WithToken: %+v, %v", res, err)
		}

		// A batch: all in one transaction.
		results, err := alice.Batch(ctx,
			client.BatchCreate("notes", map[string]any{"title": "Batch one", "owner": ids["alice"]}),
			client.BatchCreate("notes", map[string]any{"title": "Batch two", "owner": ids["alice"]}),
			client.BatchUpdate("notes", milk, map[string]any{"title": "Buy oat milk"}),
			client.BatchDelete("notes", byTitle["Plan trip"].ID()),
		)
		if err != nil || len(results) != 4 {
			t.Fatalf("batch: %+v, %v", results, err)
		}
		first, err := results[0].Record()
		if err != nil || results[0].Status != 200 || first.String("title") != "Batch one" || results[3].Status != 204 {
			t.Errorf("batch results: %+v (%v, %v)", results, first, err)
		}
		_, err = alice.Batch(ctx,
			client.BatchCreate("notes", map[string]any{"title": "Kept?", "owner": ids["alice"]}),
			client.BatchCreate("notes", map[string]any{"owner": ids["alice"]}),
		)
		var batchErr *client.Error
		if !errors.As(err, &batchErr) || batchErr.Status != 400 {
			t.Fatalf("a failing batch: %v", err)
		}
		if i, cause, ok := batchErr.BatchFailure(); !ok || i != 1 || cause.Status != 400 || cause.FieldCode("title") != "validation_required" {
			t.Errorf("batch failure: %d %+v %v (from %+v)", i, cause, ok, batchErr)
		}
		if res, err := alice.List(ctx, "notes", client.ListOptions{Filter: `title = "Kept?"`}); err != nil || res.TotalItems != 0 {
			t.Errorf("a failed batch kept its first write: %+v, %v", res, err)
		}

		// Delete.
		if err := alice.Delete(ctx, "notes", milk); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.View(ctx, "notes", milk, client.ViewOptions{}); !client.IsStatus(err, http.StatusNotFound) {
			t.Errorf("view after delete: %v", err)
		}
		if res, err := alice.List(ctx, "notes", client.ListOptions{}); err != nil || res.TotalItems != 4 {
			t.Errorf("alice's notes at the end: %+v, %v; want 4", res, err)
		}

		// Every operation of the table went through the check.
		used, raw := s.usedOperations()
		for _, o := range client.Operations() {
			if used[o] == 0 {
				t.Errorf("%s %s was not exercised", o.Method, o.Path)
			}
		}
		if len(raw) != 1 || raw["POST /api/collections"] != 1 {
			t.Errorf("raw calls: %v, want only the collection create", raw)
		}
	})
}
