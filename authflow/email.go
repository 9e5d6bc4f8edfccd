package authflow

import (
	"context"
	"errors"
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
// a token of one kind is refused by another flow, a changed password or
// email (which rotates the token key) kills every older token, and a
// token for an address the record no longer has is refused.

// actionURL is the link an email points to: PocketBase's default pages
// under the application URL (…/_/#/auth/<action>/<token>).
func actionURL(app mailer.AppInfo, action, token string) string {
	return strings.TrimRight(app.URL, "/") + "/_/#/auth/" + action + "/" + token
}

// MailTemplates are c's own email templates (PocketBase's per-collection
// subject and HTML body); empty parts keep the built-in emails.
func MailTemplates(c *schema.Collection) *mailer.Templates {
	o := Options(c)
	tpl := func(t schema.EmailTemplate) mailer.Template { return mailer.Template{Subject: t.Subject, HTML: t.Body} }
	return &mailer.Templates{
		Verification:  tpl(o.VerificationTemplate),
		PasswordReset: tpl(o.ResetPasswordTemplate),
		EmailChange:   tpl(o.ConfirmEmailChangeTemplate),
		OTP:           tpl(o.OTP.EmailTemplate),
		LoginAlert:    tpl(o.AuthAlert.EmailTemplate),
	}
}

// CheckTemplates refuses an auth collection whose email templates do not
// parse, so that the mistake is a 400 when the collection is saved rather
// than an email that silently fails later. It has the shape of a store
// collection check.
func CheckTemplates(_ context.Context, _, c *schema.Collection) error {
	if c == nil || c.Type != schema.TypeAuth {
		return nil
	}
	o := Options(c)
	errs := schema.Errors{}
	for key, t := range map[string]schema.EmailTemplate{
		"verificationTemplate": o.VerificationTemplate, "resetPasswordTemplate": o.ResetPasswordTemplate,
		"confirmEmailChangeTemplate": o.ConfirmEmailChangeTemplate, "otp": o.OTP.EmailTemplate, "authAlert": o.AuthAlert.EmailTemplate,
	} {
		if err := (&mailer.Templates{Verification: mailer.Template{Subject: t.Subject, HTML: t.Body}}).Validate(); err != nil {
			errs[key] = schema.NewFieldError("validation_invalid_template", "Invalid email template: "+strings.TrimPrefix(err.Error(), "mailer: verification template: "))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// checkEmail validates a required, well-formed email address given as
// the input named key.
func checkEmail(key, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", validationError(schema.Errors{key: schema.ErrRequired()})
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		return "", validationError(schema.Errors{key: schema.NewFieldError("validation_is_email", "Must be a valid email address.")})
	}
	return v, nil
}

// AccountByEmail validates email and returns the record of c with that
// address, or nil: the start of every "request" flow, which answers the
// same whether or not the account exists.
func (s *Service) AccountByEmail(ctx context.Context, c *schema.Collection, email string) (*schema.Record, error) {
	email, err := checkEmail("email", email)
	if err != nil {
		return nil, err
	}
	return s.findByEmail(ctx, c, email)
}

// findByEmail returns the record of c with email, or nil. Matching is
// exact, as in PocketBase without a COLLATE NOCASE email index.
func (s *Service) findByEmail(ctx context.Context, c *schema.Collection, email string) (*schema.Record, error) {
	rec, err := s.Store.FindFirstBy(ctx, c, "email", email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// verifyEmailToken checks an emailed token of type typ for collection c:
// signature, expiry, type, and that it was sent to the record's current
// address.
func (s *Service) verifyEmailToken(ctx context.Context, c *schema.Collection, token, typ string) (*schema.Record, *auth.Claims, error) {
	rec, claims, err := s.Tokens.Verify(ctx, token, typ)
	if err != nil || rec.Collection.ID != c.ID || claims.Email == "" || !strings.EqualFold(claims.Email, rec.GetString("email")) {
		return nil, nil, InvalidToken()
	}
	return rec, claims, nil
}

// systemUpdate applies body to rec as the server itself (after a token
// proved the right to): validation, hashing and token-key rotation as in
// any update, no rules.
func (s *Service) systemUpdate(ctx context.Context, c *schema.Collection, rec *schema.Record, body map[string]any) error {
	// A new password is hashed before the transaction takes the writer.
	ctx = s.Records.HashAhead(ctx, record.System(), c, rec.ID(), body)
	return s.Store.Tx(ctx, func(tx *store.Tx) error {
		_, err := s.Records.Update(ctx, tx, record.System(), c, rec.ID(), body)
		return err
	})
}

// RequestVerification emails a verification link to the unverified
// account with email; it succeeds alike whether or not there is one.
func (s *Service) RequestVerification(ctx context.Context, c *schema.Collection, email string) error {
	rec, err := s.AccountByEmail(ctx, c, email)
	if err != nil || rec == nil || rec.Get("verified") == true {
		return err
	}
	d := seconds(Options(c).VerificationToken.Duration, 72*time.Hour)
	to := rec.GetString("email")
	token, err := s.Tokens.IssueEmail(rec, auth.TypeVerification, d, to, "")
	if err != nil {
		return err
	}
	s.sendMail("verification", rec.ID(), to, func(app mailer.AppInfo) (mailer.Email, error) {
		return MailTemplates(c).VerificationEmail(app, to, actionURL(app, "confirm-verification", token))
	})
	return nil
}

// ConfirmVerification marks the record of an emailed verification token
// verified.
func (s *Service) ConfirmVerification(ctx context.Context, c *schema.Collection, token string) error {
	if err := Required("token", token); err != nil {
		return err
	}
	rec, _, err := s.verifyEmailToken(ctx, c, token, auth.TypeVerification)
	if err != nil {
		return err
	}
	if rec.Get("verified") != true {
		return s.systemUpdate(ctx, c, rec, map[string]any{"verified": true})
	}
	return nil
}

// RequestPasswordReset emails a password reset link to the account with
// email; it succeeds alike whether or not there is one.
func (s *Service) RequestPasswordReset(ctx context.Context, c *schema.Collection, email string) error {
	rec, err := s.AccountByEmail(ctx, c, email)
	if err != nil || rec == nil {
		return err
	}
	d := seconds(Options(c).PasswordResetToken.Duration, 30*time.Minute)
	to := rec.GetString("email")
	token, err := s.Tokens.IssueEmail(rec, auth.TypePasswordReset, d, to, "")
	if err != nil {
		return err
	}
	s.sendMail("password reset", rec.ID(), to, func(app mailer.AppInfo) (mailer.Email, error) {
		return MailTemplates(c).PasswordResetEmail(app, to, actionURL(app, "confirm-password-reset", token))
	})
	return nil
}

// ConfirmPasswordReset sets the password of an emailed reset token's
// record; the record service checks that passwordConfirm matches.
func (s *Service) ConfirmPasswordReset(ctx context.Context, c *schema.Collection, token, password, passwordConfirm, clientIP string) error {
	if err := Required("token", token, "password", password, "passwordConfirm", passwordConfirm); err != nil {
		return err
	}
	rec, _, err := s.verifyEmailToken(ctx, c, token, auth.TypePasswordReset)
	if err != nil {
		return err
	}
	e := &Event{Kind: EventPasswordReset, Collection: c, Record: rec, ClientIP: clientIP}
	if err := s.before(ctx, e); err != nil {
		return err
	}
	// The new password rotates the token key, which kills this token and
	// every auth token issued before. Opening the link proved the address.
	err = s.systemUpdate(ctx, c, rec, map[string]any{"password": password, "passwordConfirm": passwordConfirm, "verified": true})
	if err != nil {
		return err
	}
	s.after(ctx, e)
	return nil
}

// RequestEmailChange emails a confirmation link to newEmail for the
// caller's own record.
func (s *Service) RequestEmailChange(ctx context.Context, caller *record.Caller, c *schema.Collection, newEmail string) error {
	if err := SelfAuth(caller, c); err != nil {
		return err
	}
	rec := caller.Auth
	newEmail, err := checkEmail("newEmail", newEmail)
	if err != nil {
		return err
	}
	current := rec.GetString("email")
	if strings.EqualFold(newEmail, current) {
		return validationError(schema.Errors{"newEmail": schema.NewFieldError("validation_same_email", "The new email is the current one.")})
	}
	if other, err := s.findByEmail(ctx, c, newEmail); err != nil {
		return err
	} else if other != nil {
		return validationError(schema.Errors{"newEmail": schema.NewFieldError("validation_not_unique", "The email is already in use.")})
	}
	d := seconds(Options(c).EmailChangeToken.Duration, 30*time.Minute)
	token, err := s.Tokens.IssueEmail(rec, auth.TypeEmailChange, d, current, newEmail)
	if err != nil {
		return err
	}
	s.sendMail("email change", rec.ID(), newEmail, func(app mailer.AppInfo) (mailer.Email, error) {
		return MailTemplates(c).EmailChangeEmail(app, newEmail, actionURL(app, "confirm-email-change", token))
	})
	return nil
}

// SelfAuth refuses a caller that is not authenticated as a record of c
// (401, or 403 for another collection's record).
func SelfAuth(caller *record.Caller, c *schema.Collection) error {
	var rec *schema.Record
	if caller != nil {
		rec = caller.Auth
	}
	return selfAuth(rec, c)
}

// ConfirmEmailChange sets the new address of an emailed email-change
// token, given the record's password.
func (s *Service) ConfirmEmailChange(ctx context.Context, c *schema.Collection, token, password string) error {
	if err := Required("token", token, "password", password); err != nil {
		return err
	}
	rec, claims, err := s.verifyEmailToken(ctx, c, token, auth.TypeEmailChange)
	if err != nil {
		return err
	}
	if claims.NewEmail == "" {
		return InvalidToken()
	}
	if !auth.CheckPassword(rec.GetString("password"), password, s.Records.PasswordCost(c, "password")) {
		return validationError(schema.Errors{"password": schema.NewFieldError("validation_invalid_password", "Missing or invalid auth record password.")})
	}
	// The new address rotates the token key: older tokens, this one
	// included, stop working. Opening the link proved the new address.
	return s.systemUpdate(ctx, c, rec, map[string]any{"email": claims.NewEmail, "verified": true})
}

// Impersonate issues a non-refreshable auth token for the record id of c
// (the caller must be a superuser: the REST route checks it; Go code
// decides for itself). d is the token's lifetime; 0 uses the collection's
// auth token duration.
func (s *Service) Impersonate(ctx context.Context, c *schema.Collection, id string, d time.Duration) (*Result, error) {
	if d < 0 || d > 10*365*24*time.Hour || d%time.Second != 0 {
		return nil, validationError(schema.Errors{"duration": schema.NewFieldError("validation_invalid_duration", "Must be a whole number of seconds, 0 or more.")})
	}
	if !schema.ValidID(id) {
		return nil, &Error{Kind: NotFound, Message: "The requested resource wasn't found."}
	}
	rec, err := s.Store.FindFirstBy(ctx, c, "id", id)
	if err != nil {
		return nil, err
	}
	if d == 0 {
		d = seconds(Options(c).AuthToken.Duration, 7*24*time.Hour)
	}
	token, err := s.Tokens.Issue(rec, auth.TypeAuth, d, false)
	if err != nil {
		return nil, err
	}
	return &Result{Record: rec, Token: token}, nil
}

// defaultFileTokenTTL is the lifetime of a file token when the auth
// collection sets none (PocketBase's default).
const defaultFileTokenTTL = 3 * time.Minute

// FileToken issues a short-lived, non-refreshable token with which the
// caller's auth record reads protected files (?token= on file URLs).
func (s *Service) FileToken(ctx context.Context, caller *record.Caller) (string, error) {
	if caller == nil || caller.Auth == nil {
		return "", unauthenticated("The request requires valid record authorization token.")
	}
	rec := caller.Auth
	var ttl int64
	if rec.Collection.Auth != nil {
		ttl = rec.Collection.Auth.FileToken.Duration
	}
	return s.Tokens.Issue(rec, auth.TypeFile, seconds(ttl, defaultFileTokenTTL), false)
}
