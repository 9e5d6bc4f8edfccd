package plinth_test

import (
	"net/http"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/store"
)

// TestCallerBodyInRules checks that a custom route writing records as its
// caller (App.Caller) through the record service is held to rules that
// read @request.body, which is the body the Go code passes: allowed when
// it satisfies them, refused when not.
func TestCallerBodyInRules(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		h.call("POST", "/api/collections", `{"name":"notes","listRule":"owner = @request.auth.id","viewRule":"owner = @request.auth.id",
			"createRule":"@request.body.owner = @request.auth.id","updateRule":"owner = @request.auth.id && @request.body.owner:isset = false",
			"fields":[{"name":"text","type":"text"},{"name":"owner","type":"relation","collectionId":"users","maxSelect":1}]}`, h.su, 200, nil)
		// POST /api/notes/{owner}/{text}: creates a note for owner; PATCH
		// changes the text, and the owner when a third segment is given.
		write := func(w http.ResponseWriter, r *http.Request) error {
			notes := h.app.Store().Schema().Lookup("notes")
			return h.app.Store().Tx(r.Context(), func(tx *store.Tx) error {
				var err error
				if r.Method == "POST" {
					_, err = h.app.Records().Create(r.Context(), tx, h.app.Caller(r), notes, map[string]any{"owner": r.PathValue("owner"), "text": r.PathValue("text")})
				} else {
					body := map[string]any{"text": r.PathValue("text")}
					if o := r.URL.Query().Get("owner"); o != "" {
						body["owner"] = o
					}
					_, err = h.app.Records().Update(r.Context(), tx, h.app.Caller(r), notes, r.PathValue("id"), body)
				}
				if err == nil {
					w.WriteHeader(http.StatusNoContent)
				}
				return err
			})
		}
		h.app.HandleFunc("POST /api/notes/{owner}/{text}", write)
		h.app.HandleFunc("PATCH /api/notes/{id}/{text}", write)
		var ann, bob struct {
			Token  string
			Record struct{ ID string }
		}
		for _, u := range []struct {
			email string
			out   any
		}{{"ann@example.com", &ann}, {"bob@example.com", &bob}} {
			h.call("POST", "/api/collections/users/records", `{"email":"`+u.email+`","password":"user-password-1","passwordConfirm":"user-password-1"}`, "", 200, nil)
			h.call("POST", "/api/collections/users/auth-with-password", `{"identity":"`+u.email+`","password":"user-password-1"}`, "", 200, u.out)
		}
		h.call("POST", "/api/notes/"+ann.Record.ID+"/hello", "", ann.Token, 204, nil)
		h.call("POST", "/api/notes/"+ann.Record.ID+"/forged", "", bob.Token, 400, nil)
		h.call("POST", "/api/notes/"+ann.Record.ID+"/guest", "", "", 400, nil)
		var page struct {
			Items []struct{ ID, Text string }
		}
		h.call("GET", "/api/collections/notes/records", "", ann.Token, 200, &page)
		if len(page.Items) != 1 || page.Items[0].Text != "hello" {
			t.Fatalf("ann's notes %+v", page.Items)
		}
		id := page.Items[0].ID
		h.call("PATCH", "/api/notes/"+id+"/edited", "", ann.Token, 204, nil)
		h.call("PATCH", "/api/notes/"+id+"/given?owner="+bob.Record.ID, "", ann.Token, 404, nil)
		h.call("GET", "/api/collections/notes/records", "", ann.Token, 200, &page)
		if len(page.Items) != 1 || page.Items[0].Text != "edited" {
			t.Errorf("ann's notes after the updates %+v", page.Items)
		}
	})
}
