package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/schema"
)

// The auth flow endpoints are thin: they read the request, call the auth
// flow service (package authflow, s.sys.auth) and encode its answer.

// authCollection resolves {collection} and requires it to be an auth collection.
func (s *Server) authCollection(r *http.Request) (*schema.Collection, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	if !c.IsAuth() {
		return nil, badRequest("The collection is not an auth collection.", nil)
	}
	return c, nil
}

// authCollectionBody resolves {collection} as an auth collection and reads
// the request body: the preamble of every auth flow endpoint.
func (s *Server) authCollectionBody(w http.ResponseWriter, r *http.Request) (*schema.Collection, map[string]any, error) {
	c, err := s.authCollection(r)
	if err != nil {
		return nil, nil, err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return nil, nil, err
	}
	return c, body, nil
}

// Auth returns the auth flow service, for Go code that authenticates
// without HTTP.
func (s *Server) Auth() *authflow.Service { return s.sys.auth }

// bodyString returns body[key] when it is a string.
func bodyString(body map[string]any, key string) string {
	v, _ := body[key].(string)
	return v
}

// authClient is what the auth flows know of the request's client: its IP
// and the mfaId of a second-factor request, from the body or from the
// query string, where the JS SDK puts it when it is passed as an option
// (authWithOTP(otpId, code, {mfaId})).
func (s *Server) authClient(r *http.Request, body map[string]any) authflow.Client {
	id := strings.TrimSpace(bodyString(body, "mfaId"))
	if id == "" {
		id = strings.TrimSpace(r.URL.Query().Get("mfaId"))
	}
	return authflow.Client{IP: s.clientIP(r), MFAID: id, UserAgent: r.UserAgent()}
}

func (s *Server) authMethods(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	opts := authflow.Options(c)
	providers := []map[string]any{}
	for _, p := range s.sys.auth.OAuth2Methods(r.Context(), c) {
		providers = append(providers, map[string]any{
			"name": p.Name, "displayName": p.DisplayName, "state": p.State,
			"authURL":             p.AuthURL,
			"codeVerifier":        p.CodeVerifier,
			"codeChallenge":       p.CodeChallenge,
			"codeChallengeMethod": "S256",
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"password": map[string]any{"enabled": opts.PasswordAuth.Enabled, "identityFields": opts.PasswordAuth.IdentityFields},
		"oauth2":   map[string]any{"enabled": opts.OAuth2.Enabled, "providers": providers},
		"mfa":      map[string]any{"enabled": opts.MFA.Enabled, "duration": opts.MFA.Duration},
		"otp":      map[string]any{"enabled": opts.OTP.Enabled, "duration": opts.OTP.Duration},
	})
	return nil
}

func (s *Server) authWithPassword(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	if !authflow.Options(c).PasswordAuth.Enabled {
		return forbidden("Password authentication is not enabled for this collection.")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	identity, _ := body["identity"].(string)
	password, _ := body["password"].(string)
	res, err := s.sys.auth.PasswordLogin(r.Context(), s.caller(r, body), c, identity, password, s.authClient(r, body))
	return s.writeAuthResult(w, r, res, err)
}

func (s *Server) authRefresh(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	res, err := s.sys.auth.Refresh(r.Context(), s.caller(r, nil), c, authClaims(r), s.clientIP(r))
	return s.writeAuthResult(w, r, res, err)
}

// writeAuthResult answers an authentication with {"token", "record",
// "meta"}, unless err is set.
func (s *Server) writeAuthResult(w http.ResponseWriter, r *http.Request, res *authflow.Result, err error) error {
	if err != nil {
		return err
	}
	return s.writeAuthToken(w, r, res.Record, res.Token, res.Meta)
}

// writeAuthToken writes {"token", "record", "meta"} for rec, as rec sees
// itself.
func (s *Server) writeAuthToken(w http.ResponseWriter, r *http.Request, rec *schema.Record, token string, meta map[string]any) error {
	ro, err := parseReadOptions(r)
	if err != nil {
		return err
	}
	ro.enc.viewer = rec
	buf := []byte(`{"token":`)
	buf = strconv.AppendQuote(buf, token) // base64url and dots: plain ASCII
	buf = append(buf, `,"record":`...)
	buf = rec.AppendJSON(buf, ro.enc.schemaOptions())
	if len(meta) > 0 {
		m, err := json.Marshal(meta)
		if err != nil {
			return fmt.Errorf("encode auth meta: %w", err)
		}
		buf = append(buf, `,"meta":`...)
		buf = append(buf, m...)
	}
	buf = append(buf, '}')
	writeRaw(w, http.StatusOK, buf)
	return nil
}
