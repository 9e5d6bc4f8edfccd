package plinth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

// hookApp is an App behind a test server, with a superuser token and a
// "posts" collection anyone may write.
type hookApp struct {
	t   *testing.T
	app *plinth.App
	url string
	su  string
}

func newHookApp(t *testing.T, b testenv.Backend, rateLimits bool) *hookApp {
	t.Helper()
	ctx := context.Background()
	app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, DisableRateLimits: !rateLimits}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); app.Close() })
	if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
		t.Fatal(err)
	}
	h := &hookApp{t: t, app: app, url: srv.URL}
	var auth struct{ Token string }
	h.call("POST", "/api/collections/_superusers/auth-with-password", `{"identity":"admin@example.com","password":"secret-pass-1"}`, "", 200, &auth)
	h.su = auth.Token
	h.call("POST", "/api/collections", `{"name":"posts","listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":"",
		"fields":[{"name":"title","type":"text"},{"name":"slug","type":"text"},{"name":"views","type":"number"}]}`, h.su, 200, nil)
	return h
}

func (h *hookApp) call(method, path, body, token string, want int, out any) []byte {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		h.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatal(err)
		}
	}
	return data
}

func (h *hookApp) count(filter string) int {
	var page struct{ TotalItems int }
	h.call("GET", "/api/collections/posts/records?filter="+strings.ReplaceAll(filter, " ", "%20"), "", h.su, 200, &page)
	return page.TotalItems
}

// TestRecordHooks checks before and after hooks of record writes on both
// databases: a before hook changes or refuses the write inside its
// transaction, an after hook runs only after commit, and they fire for
// REST, batch and Go code alike, in priority order, until unbound.
func TestRecordHooks(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		var mu sync.Mutex
		var afters []string
		after := func(e *plinth.RecordEvent) error {
			mu.Lock()
			defer mu.Unlock()
			afters = append(afters, e.Action+":"+e.Record.GetString("title"))
			if e.Tx != nil {
				t.Error("after hook got a transaction")
			}
			return nil
		}
		h.app.OnRecordCreate("posts").After(after)
		h.app.OnRecordUpdate("posts").After(after)
		h.app.OnRecordDelete().After(after)
		h.app.OnRecordCreate("posts").Before(func(e *plinth.RecordEvent) error {
			e.Record.Set("slug", strings.ToLower(strings.ReplaceAll(e.Record.GetString("title"), " ", "-")))
			if e.Record.GetString("title") == "forbidden" {
				return plinth.Refuse(http.StatusUnprocessableEntity, "Titles like that are refused.")
			}
			return nil
		})
		// A before hook can write in the same transaction: the write
		// rolls back with a refused or failed request.
		h.app.OnRecordCreate("posts").Before(func(e *plinth.RecordEvent) error {
			if e.Record.GetString("title") != "with audit" && e.Record.GetString("title") != "forbidden" {
				return nil
			}
			_, err := h.app.Records().Create(e.Context, e.Tx, record.SystemCaller(), e.Collection, map[string]any{"title": "audit of " + e.Record.GetString("title")})
			return err
		}, plinth.Priority(-1))

		var rec map[string]any
		h.call("POST", "/api/collections/posts/records", `{"title":"Hello World"}`, "", 200, &rec)
		if rec["slug"] != "hello-world" {
			t.Errorf("before hook's change not stored: %v", rec)
		}
		body := h.call("POST", "/api/collections/posts/records", `{"title":"forbidden"}`, "", 422, nil)
		if !bytes.Contains(body, []byte(`"message":"Titles like that are refused."`)) || !bytes.Contains(body, []byte(`"status":422`)) {
			t.Errorf("refusal body %s", body)
		}
		if n := h.count(`title ~ "forbidden"`); n != 0 {
			t.Errorf("a refused write left %d records (its hook's write included)", n)
		}
		h.call("POST", "/api/collections/posts/records", `{"title":"with audit"}`, "", 200, nil)
		if n := h.count(`title = "audit of with audit"`); n != 1 {
			t.Errorf("hook's write in the transaction: %d records", n)
		}
		// A batch that fails runs no after hook, not even for its first,
		// valid request.
		mu.Lock()
		afters = nil
		mu.Unlock()
		h.call("POST", "/api/batch", `{"requests":[
			{"method":"POST","url":"/api/collections/posts/records","body":{"title":"in a failed batch"}},
			{"method":"POST","url":"/api/collections/posts/records","body":{"title":"forbidden"}}]}`, h.su, 422, nil)
		h.call("PATCH", "/api/collections/posts/records/"+rec["id"].(string), `{"title":"Edited"}`, "", 200, nil)
		// Go code goes through the same service and hooks.
		c := h.app.Store().Schema().Lookup("posts")
		err := h.app.Store().Tx(context.Background(), func(tx *store.Tx) error {
			_, err := h.app.Records().Create(context.Background(), tx, record.SystemCaller(), c, map[string]any{"title": "From Go"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = h.app.Store().Tx(context.Background(), func(tx *store.Tx) error {
			_, err := h.app.Records().Create(context.Background(), tx, record.SystemCaller(), c, map[string]any{"title": "forbidden"})
			return err
		})
		var he *plinth.HookError
		if !errors.As(err, &he) || he.Status != 422 {
			t.Errorf("Go create refused with %v", err)
		}
		h.call("DELETE", "/api/collections/posts/records/"+rec["id"].(string), "", "", 204, nil)
		mu.Lock()
		got := slices.Clone(afters)
		mu.Unlock()
		if want := []string{"update:Edited", "create:From Go", "delete:Edited"}; !slices.Equal(got, want) {
			t.Errorf("after hooks %v, want %v", got, want)
		}
	})
}

// TestHookOrderAndUnbind checks priorities and unbinding through the
// public API, and read hooks.
func TestHookOrderAndUnbind(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		var order []string
		mark := func(name string) func(*plinth.RecordEvent) error {
			return func(*plinth.RecordEvent) error { order = append(order, name); return nil }
		}
		hk := h.app.OnRecordCreate()
		def := hk.Before(mark("default"))
		// An After handler bound with a generated id: unbinding a Before
		// handler must never remove it (ids were once counted per hook).
		hk.After(mark("after"))
		late := hk.Before(mark("late"), plinth.Priority(10))
		hk.Before(mark("early"), plinth.Priority(-10))
		hk.Before(mark("other collection"), plinth.ID("other"))
		h.app.OnRecordCreate("users").Before(mark("users only"))
		h.call("POST", "/api/collections/posts/records", `{"title":"a"}`, "", 200, nil)
		if want := []string{"early", "default", "other collection", "late", "after"}; !slices.Equal(order, want) {
			t.Fatalf("order %v, want %v", order, want)
		}
		hk.Unbind(late, "other", def)
		order = nil
		h.call("POST", "/api/collections/posts/records", `{"title":"b"}`, "", 200, nil)
		if want := []string{"early", "after"}; !slices.Equal(order, want) {
			t.Fatalf("after unbind %v, want %v", order, want)
		}
		// Read hooks enrich views and lists.
		h.app.OnRecordsRead("posts").Bind(func(e *plinth.RecordsReadEvent) error {
			for _, r := range e.Records {
				r.Set("views", 42)
			}
			return nil
		})
		body := h.call("GET", "/api/collections/posts/records", "", "", 200, nil)
		if bytes.Count(body, []byte(`"views":42`)) != 2 {
			t.Errorf("read hook did not enrich the list: %s", body)
		}
	})
}

// TestCustomRoutes checks routes mounted by Go code: auth helpers,
// PocketBase-shaped errors and the built-in rate limits.
func TestCustomRoutes(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, true)
		h.app.Handle("GET /api/hello", plinth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"hello": plinth.AuthRecord(r).GetString("email")})
		})))
		h.app.HandleFunc("GET /api/teapot", func(w http.ResponseWriter, r *http.Request) error {
			return &plinth.APIError{Status: http.StatusTeapot, Message: "I'm a teapot.", Data: map[string]any{"tea": "earl grey"}}
		})
		h.app.Handle("GET /api/admin-only", plinth.RequireSuperuser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})))
		h.app.Handle("GET /api/verified-only", h.app.RequireRule("verified = true", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})))
		h.call("POST", "/api/collections/users/records", `{"email":"ann@example.com","password":"user-password-1","passwordConfirm":"user-password-1"}`, "", 200, nil)
		var auth struct{ Token string }
		h.call("POST", "/api/collections/users/auth-with-password", `{"identity":"ann@example.com","password":"user-password-1"}`, "", 200, &auth)

		h.call("GET", "/api/hello", "", "", 401, nil)
		if body := h.call("GET", "/api/hello", "", auth.Token, 200, nil); !bytes.Contains(body, []byte("ann@example.com")) {
			t.Errorf("hello: %s", body)
		}
		body := h.call("GET", "/api/teapot", "", "", 418, nil)
		if !bytes.Equal(bytes.TrimSpace(body), []byte(`{"data":{"tea":"earl grey"},"message":"I'm a teapot.","status":418}`)) &&
			!bytes.Contains(body, []byte(`"status":418`)) {
			t.Errorf("teapot: %s", body)
		}
		h.call("GET", "/api/admin-only", "", auth.Token, 403, nil)
		h.call("GET", "/api/admin-only", "", h.su, 204, nil)
		h.call("GET", "/api/verified-only", "", auth.Token, 403, nil)
		h.call("GET", "/api/verified-only", "", h.su, 204, nil)
		c := h.app.Store().Schema().Lookup("users")
		err := h.app.Store().Tx(context.Background(), func(tx *store.Tx) error {
			users, err := h.app.Records().List(context.Background(), record.SystemCaller(), c, record.ListParams{Filter: `email = "ann@example.com"`})
			if err != nil || len(users.Items) != 1 {
				return errors.Join(err, errors.New("ann not found"))
			}
			_, err = h.app.Records().Update(context.Background(), tx, record.SystemCaller(), c, users.Items[0].ID(), map[string]any{"verified": true})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		h.call("GET", "/api/verified-only", "", auth.Token, 204, nil)
		// Custom routes are rate limited like built-ins.
		h.call("PATCH", "/api/settings", `{"rateLimits":{"enabled":true,"rules":[{"label":"/api/hello","maxRequests":2,"duration":60}]}}`, h.su, 200, nil)
		h.call("GET", "/api/hello", "", auth.Token, 200, nil)
		h.call("GET", "/api/hello", "", auth.Token, 200, nil)
		h.call("GET", "/api/hello", "", auth.Token, 429, nil)
	})
}

// TestCollectionHooks checks hooks on collection changes from the API:
// a Before hook adjusts or refuses the definition, an After hook sees the
// committed change.
func TestCollectionHooks(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		var mu sync.Mutex
		var seen []string
		h.app.OnCollectionChange().Before(func(e *plinth.CollectionEvent) error {
			if e.Collection != nil && strings.HasPrefix(e.Collection.Name, "tmp_") {
				return plinth.Refuse(http.StatusForbidden, "Temporary collections are not allowed here.")
			}
			if e.Action == "create" && e.Collection.ListRule == nil {
				open := ""
				e.Collection.ListRule = &open // public unless said otherwise
			}
			return nil
		})
		h.app.OnCollectionChange().After(func(e *plinth.CollectionEvent) error {
			mu.Lock()
			defer mu.Unlock()
			name := ""
			if e.Collection != nil {
				name = e.Collection.Name
			} else {
				name = e.Old.Name
			}
			seen = append(seen, e.Action+":"+name)
			return nil
		})
		body := h.call("POST", "/api/collections", `{"name":"tmp_x","fields":[]}`, h.su, 403, nil)
		if !bytes.Contains(body, []byte("Temporary collections")) {
			t.Errorf("refusal: %s", body)
		}
		var c map[string]any
		h.call("POST", "/api/collections", `{"name":"notes","fields":[{"name":"t","type":"text"}]}`, h.su, 200, &c)
		if c["listRule"] != "" {
			t.Errorf("before hook's listRule not stored: %v", c["listRule"])
		}
		h.call("DELETE", "/api/collections/notes", "", h.su, 204, nil)
		mu.Lock()
		defer mu.Unlock()
		if want := []string{"create:notes", "delete:notes"}; !slices.Equal(seen, want) {
			t.Errorf("after hooks saw %v, want %v", seen, want)
		}
	})
}

// TestAuthHooks: login, refresh and password-reset hooks fire for REST
// and Go callers; a Before login hook refuses one user with its 403.
func TestAuthHooks(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		ctx := context.Background()
		for _, email := range []string{"ann@example.com", "bob@example.com"} {
			h.call("POST", "/api/collections/users/records", `{"email":"`+email+`","password":"user-password-1","passwordConfirm":"user-password-1"}`, "", 200, nil)
		}
		var mu sync.Mutex
		logins, refreshes, resets := map[string]int{}, 0, 0
		h.app.OnAuthLogin("users").Before(func(e *plinth.AuthEvent) error {
			if e.Record.GetString("email") == "bob@example.com" {
				return plinth.Refuse(403, "Bob is suspended.")
			}
			return nil
		})
		h.app.OnAuthLogin("users").After(func(e *plinth.AuthEvent) error {
			mu.Lock()
			defer mu.Unlock()
			logins[e.Record.GetString("email")+"/"+e.Method]++
			return nil
		})
		h.app.OnAuthRefresh().After(func(e *plinth.AuthEvent) error {
			mu.Lock()
			defer mu.Unlock()
			refreshes++
			return nil
		})
		refuseRefresh := h.app.OnAuthRefresh("users").Before(func(e *plinth.AuthEvent) error {
			return plinth.Refuse(401, "Sign in again.")
		})
		h.app.OnPasswordReset("users").After(func(e *plinth.AuthEvent) error {
			mu.Lock()
			defer mu.Unlock()
			resets++
			return nil
		})

		var ann struct{ Token string }
		h.call("POST", "/api/collections/users/auth-with-password", `{"identity":"ann@example.com","password":"user-password-1"}`, "", 200, &ann)
		body := h.call("POST", "/api/collections/users/auth-with-password", `{"identity":"bob@example.com","password":"user-password-1"}`, "", 403, nil)
		if !strings.Contains(string(body), "Bob is suspended.") {
			t.Fatalf("refused login: %s", body)
		}
		// A wrong password is no login: the hooks do not run.
		h.call("POST", "/api/collections/users/auth-with-password", `{"identity":"ann@example.com","password":"wrong-password"}`, "", 400, nil)
		// A superuser login is not in "users".
		h.call("POST", "/api/collections/_superusers/auth-with-password", `{"identity":"admin@example.com","password":"secret-pass-1"}`, "", 200, nil)

		// Go callers go through the same service and hooks.
		users := h.app.Store().Schema().Lookup("users")
		res, err := h.app.Auth().PasswordLogin(ctx, record.SystemCaller(), users, "ann@example.com", "user-password-1", authflow.Client{IP: "192.0.2.1"})
		if err != nil || res.Token == "" {
			t.Fatalf("Go login: %v", err)
		}
		if _, err := h.app.Auth().PasswordLogin(ctx, record.SystemCaller(), users, "bob@example.com", "user-password-1", authflow.Client{}); err == nil {
			t.Fatal("Go login of a refused user succeeded")
		}
		mu.Lock()
		if want := map[string]int{"ann@example.com/password": 2}; !maps.Equal(logins, want) {
			t.Errorf("logins = %v, want %v", logins, want)
		}
		mu.Unlock()

		h.call("POST", "/api/collections/users/auth-refresh", "", ann.Token, 401, nil)
		h.app.OnAuthRefresh().Unbind(refuseRefresh)
		h.call("POST", "/api/collections/users/auth-refresh", "", ann.Token, 200, nil)

		h.call("POST", "/api/collections/users/request-password-reset", `{"email":"ann@example.com"}`, "", 204, nil)
		h.app.Auth().Wait()
		var token string
		for _, m := range h.app.DevMailbox().List() {
			if i := strings.Index(m.Text, "confirm-password-reset/"); i >= 0 {
				token = strings.Fields(m.Text[i+len("confirm-password-reset/"):])[0]
			}
		}
		if token == "" {
			t.Fatal("no password reset email")
		}
		h.call("POST", "/api/collections/users/confirm-password-reset", `{"token":"`+token+`","password":"new-password-1","passwordConfirm":"new-password-1"}`, "", 204, nil)
		mu.Lock()
		defer mu.Unlock()
		if refreshes != 1 || resets != 1 {
			t.Errorf("refreshes = %d, resets = %d, want 1 and 1", refreshes, resets)
		}
	})
}
