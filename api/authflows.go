package api

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// The emailed flows (verification, password reset, email change) and
// impersonation, as in PocketBase. Each emailed token is signed with the
// record's token key and its type, and names the address it was sent to:
// a token of one kind is refused by another endpoint, a changed password
// or email (which rotates the token key) kills every older token, and a
// token for an address the record no longer has is refused.

// authOptions returns c's auth options, or the defaults.
func authOptions(c *schema.Collection) *schema.AuthOptions {
	if c.Auth != nil {
		return c.Auth
	}
	return schema.DefaultAuthOptions()
}

// seconds converts a duration in seconds, def when it is not positive.
func seconds(n int64, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	return time.Duration(n) * time.Second
}

// actionURL is the link an email points to: PocketBase's default pages
// under the application URL (…/_/#/auth/<action>/<token>).
func actionURL(app mailer.AppInfo, action, token string) string {
	return strings.TrimRight(app.URL, "/") + "/_/#/auth/" + action + "/" + token
}

// bodyString returns body[key] when it is a string.
func bodyString(body map[string]any, key string) string {
	s, _ := body[key].(string)
	return s
}

// requireEmail reads a required, well-formed email address from body[key].
func requireEmail(body map[string]any, key string) (string, error) {
	v := strings.TrimSpace(bodyString(body, key))
	if v == "" {
		return "", &Error{Status: http.StatusBadRequest, Message: "An error occurred while validating the submitted data.", Data: schema.Errors{key: schema.ErrRequired()}}
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		return "", &Error{Status: http.StatusBadRequest, Message: "An error occurred while validating the submitted data.",
			Data: schema.Errors{key: schema.NewFieldError("validation_is_email", "Must be a valid email address.")}}
	}
	return v, nil
}

// requireFields returns a 400 naming the keys of body that are empty.
func requireFields(body map[string]any, keys ...string) error {
	errs := schema.Errors{}
	for _, k := range keys {
		if strings.TrimSpace(bodyString(body, k)) == "" {
			errs.Add(k, schema.ErrRequired())
		}
	}
	if len(errs) > 0 {
		return &Error{Status: http.StatusBadRequest, Message: "An error occurred while validating the submitted data.", Data: errs}
	}
	return nil
}

// invalidToken is the answer to any token that does not verify, whatever
// the reason.
func invalidToken() *Error {
	return &Error{Status: http.StatusBadRequest, Message: "Invalid or expired token.",
		Data: schema.Errors{"token": schema.NewFieldError("validation_invalid_token", "Invalid or expired token.")}}
}

// verifyEmailToken checks an emailed token of type typ for collection c:
// signature, expiry, type, and that it was sent to the record's current
// address.
func (s *Server) verifyEmailToken(ctx context.Context, c *schema.Collection, token, typ string) (*schema.Record, *auth.Claims, error) {
	rec, claims, err := s.tokens.Verify(ctx, token, typ)
	if err != nil || rec.Collection.ID != c.ID || claims.Email == "" || !strings.EqualFold(claims.Email, rec.GetString("email")) {
		return nil, nil, invalidToken()
	}
	return rec, claims, nil
}

// accountByEmail validates body's "email" and returns the record of c with
// that address, or nil: the start of every "request-*" flow, which answers
// the same whether or not the account exists.
func (s *Server) accountByEmail(ctx context.Context, c *schema.Collection, body map[string]any) (*schema.Record, error) {
	email, err := requireEmail(body, "email")
	if err != nil {
		return nil, err
	}
	return s.findByEmail(ctx, c, email)
}

// findByEmail returns the record of c with email, or nil. Matching is
// exact, as in PocketBase without a COLLATE NOCASE email index.
func (s *Server) findByEmail(ctx context.Context, c *schema.Collection, email string) (*schema.Record, error) {
	rec, err := s.store.FindFirstBy(ctx, c, "email", email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// systemUpdate applies body to rec as the server itself (after a token
// proved the right to): validation, hashing and token-key rotation as in
// any update, no rules.
func (s *Server) systemUpdate(ctx context.Context, c *schema.Collection, rec *schema.Record, body map[string]any) error {
	// A new password is hashed before the transaction takes the writer.
	ctx = s.records.HashAhead(ctx, record.System(), c, rec.ID(), body)
	return s.store.Tx(ctx, func(tx *store.Tx) error {
		_, err := s.records.Update(ctx, tx, record.System(), c, rec.ID(), body)
		return err
	})
}

func (s *Server) requestVerification(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	rec, err := s.accountByEmail(r.Context(), c, body)
	if err != nil {
		return err
	}
	if rec != nil && rec.Get("verified") != true {
		d := seconds(authOptions(c).VerificationToken.Duration, 72*time.Hour)
		token, err := s.tokens.IssueEmail(rec, auth.TypeVerification, d, rec.GetString("email"), "")
		if err != nil {
			return err
		}
		to := rec.GetString("email")
		s.sendMail("verification", rec.ID(), to, func(app mailer.AppInfo) (mailer.Email, error) {
			return mailer.VerificationEmail(app, to, actionURL(app, "confirm-verification", token))
		})
	}
	// The same answer whether or not the address has an account.
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) confirmVerification(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	if err := requireFields(body, "token"); err != nil {
		return err
	}
	rec, _, err := s.verifyEmailToken(r.Context(), c, bodyString(body, "token"), auth.TypeVerification)
	if err != nil {
		return err
	}
	if rec.Get("verified") != true {
		if err := s.systemUpdate(r.Context(), c, rec, map[string]any{"verified": true}); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	rec, err := s.accountByEmail(r.Context(), c, body)
	if err != nil {
		return err
	}
	if rec != nil {
		d := seconds(authOptions(c).PasswordResetToken.Duration, 30*time.Minute)
		to := rec.GetString("email")
		token, err := s.tokens.IssueEmail(rec, auth.TypePasswordReset, d, to, "")
		if err != nil {
			return err
		}
		s.sendMail("password reset", rec.ID(), to, func(app mailer.AppInfo) (mailer.Email, error) {
			return mailer.PasswordResetEmail(app, to, actionURL(app, "confirm-password-reset", token))
		})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) confirmPasswordReset(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	if err := requireFields(body, "token", "password", "passwordConfirm"); err != nil {
		return err
	}
	rec, _, err := s.verifyEmailToken(r.Context(), c, bodyString(body, "token"), auth.TypePasswordReset)
	if err != nil {
		return err
	}
	// The new password rotates the token key, which kills this token and
	// every auth token issued before. Opening the link proved the address.
	return s.writeNoContent(w, s.systemUpdate(r.Context(), c, rec, map[string]any{
		"password": body["password"], "passwordConfirm": body["passwordConfirm"], "verified": true,
	}))
}

// writeNoContent answers 204 unless err is set.
func (s *Server) writeNoContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) requestEmailChange(w http.ResponseWriter, r *http.Request) error {
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
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	newEmail, err := requireEmail(body, "newEmail")
	if err != nil {
		return err
	}
	current := rec.GetString("email")
	if strings.EqualFold(newEmail, current) {
		return &Error{Status: http.StatusBadRequest, Message: "An error occurred while validating the submitted data.",
			Data: schema.Errors{"newEmail": schema.NewFieldError("validation_same_email", "The new email is the current one.")}}
	}
	if other, err := s.findByEmail(r.Context(), c, newEmail); err != nil {
		return err
	} else if other != nil {
		return &Error{Status: http.StatusBadRequest, Message: "An error occurred while validating the submitted data.",
			Data: schema.Errors{"newEmail": schema.NewFieldError("validation_not_unique", "The email is already in use.")}}
	}
	d := seconds(authOptions(c).EmailChangeToken.Duration, 30*time.Minute)
	token, err := s.tokens.IssueEmail(rec, auth.TypeEmailChange, d, current, newEmail)
	if err != nil {
		return err
	}
	s.sendMail("email change", rec.ID(), newEmail, func(app mailer.AppInfo) (mailer.Email, error) {
		return mailer.EmailChangeEmail(app, newEmail, actionURL(app, "confirm-email-change", token))
	})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) confirmEmailChange(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	if err := requireFields(body, "token", "password"); err != nil {
		return err
	}
	rec, claims, err := s.verifyEmailToken(r.Context(), c, bodyString(body, "token"), auth.TypeEmailChange)
	if err != nil {
		return err
	}
	if claims.NewEmail == "" {
		return invalidToken()
	}
	if !auth.CheckPassword(rec.GetString("password"), bodyString(body, "password"), s.records.PasswordCost(c, "password")) {
		return &Error{Status: http.StatusBadRequest, Message: "An error occurred while validating the submitted data.",
			Data: schema.Errors{"password": schema.NewFieldError("validation_invalid_password", "Missing or invalid auth record password.")}}
	}
	// The new address rotates the token key: older tokens, this one
	// included, stop working. Opening the link proved the new address.
	return s.writeNoContent(w, s.systemUpdate(r.Context(), c, rec, map[string]any{"email": claims.NewEmail, "verified": true}))
}

// impersonate issues a non-refreshable auth token for any record of an
// auth collection (superusers only). duration is in seconds; 0 uses the
// collection's auth token duration.
func (s *Server) impersonate(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	var secs float64
	switch v := body["duration"].(type) {
	case nil:
	case float64:
		secs = v
	default:
		secs = -1
	}
	if secs < 0 || secs > 10*365*24*3600 || secs != float64(int64(secs)) {
		return &Error{Status: http.StatusBadRequest, Message: "An error occurred while validating the submitted data.",
			Data: schema.Errors{"duration": schema.NewFieldError("validation_invalid_duration", "Must be a whole number of seconds, 0 or more.")}}
	}
	id := r.PathValue("id")
	if !schema.ValidID(id) {
		return notFound()
	}
	rec, err := s.store.FindFirstBy(r.Context(), c, "id", id)
	if err != nil {
		return err
	}
	d := seconds(int64(secs), seconds(authOptions(c).AuthToken.Duration, 7*24*time.Hour))
	token, err := s.tokens.Issue(rec, auth.TypeAuth, d, false)
	if err != nil {
		return err
	}
	return s.writeAuthToken(w, r, rec, token, nil)
}

// tokenRefreshable reports whether the request's auth token may be
// refreshed (impersonation tokens may not), from the claims loadAuth
// verified.
func tokenRefreshable(r *http.Request) bool {
	claims := authClaims(r)
	return claims != nil && claims.Refreshable && claims.Type == auth.TypeAuth
}
