package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/oauth2"
)

// oauth2Providers holds the registry of OAuth2 provider kinds; the auth
// flow service builds and caches the collections' providers from it.
type oauth2Providers struct {
	registry *oauth2.Registry
}

// authWithOAuth2 exchanges an authorization code, then signs in the linked
// record, links a record with the same verified email, or signs up a new
// one, and answers like every other auth method.
func (s *Server) authWithOAuth2(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	in := authflow.OAuth2Input{Provider: bodyString(body, "provider"), Code: bodyString(body, "code"),
		CodeVerifier: bodyString(body, "codeVerifier"), RedirectURL: bodyString(body, "redirectURL")}
	in.CreateData, _ = body["createData"].(map[string]any)
	res, err := s.sys.auth.OAuth2Login(r.Context(), s.caller(r, body), c, in, s.authClient(r, body))
	return s.writeAuthResult(w, r, res, err)
}

// oauth2Redirect is GET/POST /api/oauth2-redirect: the provider sends the
// browser here; the code goes to the SDK's realtime subscription "@oauth2"
// of the client whose id is the state.
func (s *Server) oauth2Redirect(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("Invalid OAuth2 redirect.", err)
	}
	state := r.Form.Get("state")
	msg := map[string]string{"state": state, "code": r.Form.Get("code"), "error": r.Form.Get("error")}
	if state == "" || s.redirects == nil {
		return badRequest("Invalid OAuth2 redirect: missing state.", nil)
	}
	data, _ := json.Marshal(msg)
	if err := s.redirects.SendToClient(r.Context(), state, "@oauth2", data); err != nil {
		s.log.InfoContext(r.Context(), "oauth2 redirect for an unknown client", "err", err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, oauth2Page("Sign-in failed: the window that started it is gone. Close this one and try again."))
		return nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, oauth2Page("Signed in. You can close this window."))
	return nil
}

// redirectSender delivers an OAuth2 redirect to a realtime client.
type redirectSender interface {
	SendToClient(ctx context.Context, clientID, topic string, data json.RawMessage) error
}

func oauth2Page(msg string) string {
	return `<!doctype html><meta charset="utf-8"><title>OAuth2</title><p>` + msg + `</p><script>window.close()</script>`
}
