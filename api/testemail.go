package api

import (
	"context"
	"net/http"
	"net/mail"

	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/schema"
)

// testEmail is POST /api/settings/test/email (PocketBase's): it renders one
// kind of email with placeholder values and sends it through the current
// mail settings, waiting for the result, so that a superuser checking SMTP
// sees the server's error instead of a log line.
func (s *Server) testEmail(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	to, _ := body["email"].(string)
	template, _ := body["template"].(string)
	errs := schema.Errors{}
	if addr, err := mail.ParseAddress(to); err != nil || addr.Address != to {
		errs.Add("email", schema.NewFieldError("validation_is_email", "Must be a valid email address."))
	}
	// As in PocketBase, a collection (id or name) picks that auth
	// collection's own templates; without one the built-in emails go.
	var tpl *mailer.Templates
	if ref, _ := body["collection"].(string); ref != "" {
		c := s.store.Schema().Lookup(ref)
		if c == nil || !c.IsAuth() {
			errs.Add("collection", schema.NewFieldError("validation_invalid_collection", "Must be the id or name of an auth collection."))
		} else {
			tpl = authflow.MailTemplates(c)
		}
	}
	render := map[string]func(app mailer.AppInfo) (mailer.Email, error){
		"verification": func(app mailer.AppInfo) (mailer.Email, error) {
			return tpl.VerificationEmail(app, to, app.URL+"/_/#/test")
		},
		"password-reset": func(app mailer.AppInfo) (mailer.Email, error) {
			return tpl.PasswordResetEmail(app, to, app.URL+"/_/#/test")
		},
		"email-change": func(app mailer.AppInfo) (mailer.Email, error) {
			return tpl.EmailChangeEmail(app, to, app.URL+"/_/#/test")
		},
		"otp": func(app mailer.AppInfo) (mailer.Email, error) { return tpl.OTPEmail(app, to, "12345678") },
		"login-alert": func(app mailer.AppInfo) (mailer.Email, error) {
			return tpl.LoginAlertEmail(app, to, "a test sign-in")
		},
	}[template]
	if render == nil {
		errs.Add("template", schema.NewFieldError("validation_invalid_value", "Must be one of verification, password-reset, email-change, otp or login-alert."))
	}
	if len(errs) > 0 {
		return errs
	}
	l := s.currentSettings()
	email, err := render(l.s.App())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), mailer.DefaultSMTPTimeout)
	defer cancel()
	err = l.sender.Send(ctx, &mailer.Message{
		From: l.s.Sender(), To: []mail.Address{{Address: to}},
		Subject: email.Subject, Text: email.Text, HTML: email.HTML,
	})
	if err != nil {
		return badRequest("Failed to send the test email: "+err.Error(), err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
