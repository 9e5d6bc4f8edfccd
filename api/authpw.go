package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

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

func (s *Server) authMethods(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	opts := c.Auth
	if opts == nil {
		opts = schema.DefaultAuthOptions()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"password": map[string]any{"enabled": opts.PasswordAuth.Enabled, "identityFields": opts.PasswordAuth.IdentityFields},
		"oauth2":   s.oauth2Methods(r.Context(), c, opts),
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
	opts := c.Auth
	if opts == nil {
		opts = schema.DefaultAuthOptions()
	}
	if !opts.PasswordAuth.Enabled {
		return forbidden("Password authentication is not enabled for this collection.")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	identity, _ := body["identity"].(string)
	password, _ := body["password"].(string)
	errs := schema.Errors{}
	if strings.TrimSpace(identity) == "" {
		errs.Add("identity", schema.ErrRequired())
	}
	if password == "" {
		errs.Add("password", schema.ErrRequired())
	}
	if len(errs) > 0 {
		return &Error{Status: http.StatusBadRequest, Message: "Failed to authenticate.", Data: errs}
	}
	// Failed logins are throttled per identity (in this collection) and per IP.
	throttleID := "password:" + c.ID + ":" + identity
	if err := s.loginThrottle(r, throttleID); err != nil {
		return err
	}
	rec, err := s.findByIdentity(r.Context(), c, opts.PasswordAuth.IdentityFields, identity)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash := ""
	if rec != nil {
		hash = rec.GetString("password")
	}
	if !auth.CheckPassword(hash, password, s.records.PasswordCost(c, "password")) {
		s.loginFailed(r, throttleID)
		return badRequest("Failed to authenticate.", nil)
	}
	s.loginSucceeded(r, throttleID)
	return s.completeAuth(w, r, c, rec, authMethodPassword, body, nil)
}

// Authentication methods, as recorded in _mfas and reported to hooks.
const (
	authMethodPassword = "password"
	authMethodOTP      = "otp"
	authMethodOAuth2   = "oauth2"
	authMethodTOTP     = "totp"
)

// completeAuth finishes a successful authentication by one method: the
// collection's authRule must hold for the record, multi-factor auth may ask
// for a second method (401 with mfaId), and then a token is issued. body is
// the request body (it may carry mfaId); meta is added to the response.
func (s *Server) completeAuth(w http.ResponseWriter, r *http.Request, c *schema.Collection, rec *schema.Record, method string, body map[string]any, meta map[string]any) error {
	opts := c.Auth
	if opts == nil {
		opts = schema.DefaultAuthOptions()
	}
	if err := s.checkAuthRule(r, c, rec, opts, body); err != nil {
		return err
	}
	if err := s.checkMFA(r, c, rec, opts, method, body); err != nil {
		return err
	}
	return s.writeAuth(w, r, rec, opts, meta)
}

// checkAuthRule returns a 403 unless the collection's authRule holds for
// rec now: at every authentication and at every token refresh, so that a
// record that stops passing it (banned, unverified, whatever the rule
// says) cannot keep itself signed in by refreshing.
func (s *Server) checkAuthRule(r *http.Request, c *schema.Collection, rec *schema.Record, opts *schema.AuthOptions, body map[string]any) error {
	if opts.AuthRule == nil {
		return forbidden("The collection is not configured to allow authentication.")
	}
	if rule := strings.TrimSpace(*opts.AuthRule); rule != "" {
		info := &filter.RequestInfo{Auth: rec, Body: body, Method: r.Method, Context: "default"}
		_, err := s.store.FindOne(r.Context(), c, rec.ID(), info, rule)
		if errors.Is(err, store.ErrNotFound) {
			return forbidden("The authorized record is not allowed to authenticate.")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// findByIdentity looks a record up by each identity field in turn.
func (s *Server) findByIdentity(ctx context.Context, c *schema.Collection, fields []string, identity string) (*schema.Record, error) {
	if len(fields) == 0 {
		fields = []string{"email"}
	}
	for _, name := range fields {
		rec, err := s.store.FindFirstBy(ctx, c, name, identity)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		return rec, err
	}
	return nil, store.ErrNotFound
}

func (s *Server) authRefresh(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	rec := authRecord(r)
	if rec == nil {
		return unauthorized("The request requires valid record authorization token.")
	}
	if rec.Collection.ID != c.ID {
		return forbidden("The authorized record belongs to another collection.")
	}
	if !tokenRefreshable(r) {
		return forbidden("The current auth token is not refreshable.")
	}
	opts := c.Auth
	if opts == nil {
		opts = schema.DefaultAuthOptions()
	}
	if err := s.checkAuthRule(r, c, rec, opts, nil); err != nil {
		return err
	}
	return s.writeAuth(w, r, rec, opts, nil)
}

// writeAuth answers a successful authentication with a new token.
func (s *Server) writeAuth(w http.ResponseWriter, r *http.Request, rec *schema.Record, opts *schema.AuthOptions, meta map[string]any) error {
	d := time.Duration(opts.AuthToken.Duration) * time.Second
	if d <= 0 {
		d = 7 * 24 * time.Hour
	}
	token, err := s.tokens.Issue(rec, auth.TypeAuth, d, true)
	if err != nil {
		return err
	}
	return s.writeAuthToken(w, r, rec, token, meta)
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
