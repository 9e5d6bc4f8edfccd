package mailer

import (
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
)

// AppInfo identifies the application in emails.
type AppInfo struct {
	Name string
	URL  string
}

// Email is a rendered email: subject, plain text and HTML bodies. Put it
// into a Message to send it.
type Email struct {
	Subject string
	Text    string
	HTML    string
}

// TemplateData is what templates are executed with. Every field may hold
// user-controlled text: HTML templates escape it, subjects have line breaks
// collapsed.
type TemplateData struct {
	AppName   string // {{.AppName}} or {APP_NAME}
	AppURL    string // {{.AppURL}} or {APP_URL}
	Email     string // {{.Email}} or {EMAIL}, {RECORD:email}
	Token     string // {{.Token}} or {TOKEN}
	ActionURL string // {{.ActionURL}} or {ACTION_URL}
	OTP       string // {{.OTP}} or {OTP}
	AlertInfo string // {{.AlertInfo}} or {ALERT_INFO}
}

// Template holds the sources of one kind of email. Subject and Text are
// text/template sources, HTML is an html/template source. PocketBase's
// placeholders ({APP_NAME}, {APP_URL}, {TOKEN}, {ACTION_URL}, {OTP},
// {EMAIL}, {RECORD:email}, {ALERT_INFO}) are accepted and replaced by the
// matching {{.Field}} before parsing. An empty field uses the default.
type Template struct {
	Subject string
	Text    string
	HTML    string
}

// Templates overrides the default emails. The zero value, and a nil
// *Templates, render the defaults.
type Templates struct {
	Verification  Template
	PasswordReset Template
	OTP           Template
	EmailChange   Template
	LoginAlert    Template
}

// Validate parses every override so that a broken template is reported at
// start-up rather than when the first email is sent.
func (t *Templates) Validate() error {
	if t == nil {
		return nil
	}
	for _, k := range []struct {
		name string
		tpl  Template
	}{
		{"verification", t.Verification},
		{"password reset", t.PasswordReset},
		{"otp", t.OTP},
		{"email change", t.EmailChange},
		{"login alert", t.LoginAlert},
	} {
		if _, err := parseTemplate(k.tpl); err != nil {
			return fmt.Errorf("mailer: %s template: %w", k.name, err)
		}
	}
	return nil
}

// VerificationEmail renders the email asking the owner of email to confirm
// the address by opening actionURL.
func (t *Templates) VerificationEmail(app AppInfo, email, actionURL string) (Email, error) {
	return t.render(t.pick(func(t *Templates) Template { return t.Verification }), defaultVerification(),
		newData(app, email, actionURL))
}

// PasswordResetEmail renders the email with the password reset link.
func (t *Templates) PasswordResetEmail(app AppInfo, email, actionURL string) (Email, error) {
	return t.render(t.pick(func(t *Templates) Template { return t.PasswordReset }), defaultPasswordReset(),
		newData(app, email, actionURL))
}

// OTPEmail renders the email carrying the one-time password otp.
func (t *Templates) OTPEmail(app AppInfo, email, otp string) (Email, error) {
	d := newData(app, email, "")
	d.OTP = otp
	return t.render(t.pick(func(t *Templates) Template { return t.OTP }), defaultOTP(), d)
}

// EmailChangeEmail renders the email sent to newEmail asking to confirm the
// change of address by opening actionURL.
func (t *Templates) EmailChangeEmail(app AppInfo, newEmail, actionURL string) (Email, error) {
	return t.render(t.pick(func(t *Templates) Template { return t.EmailChange }), defaultEmailChange(),
		newData(app, newEmail, actionURL))
}

// LoginAlertEmail renders the email warning the owner of email of a login
// from a new device or location; alertInfo describes it (for example the
// auth method and client address).
func (t *Templates) LoginAlertEmail(app AppInfo, email, alertInfo string) (Email, error) {
	d := newData(app, email, "")
	d.AlertInfo = alertInfo
	return t.render(t.pick(func(t *Templates) Template { return t.LoginAlert }), defaultLoginAlert(), d)
}

// VerificationEmail renders the default verification email.
func VerificationEmail(app AppInfo, email, actionURL string) (Email, error) {
	return (*Templates)(nil).VerificationEmail(app, email, actionURL)
}

// PasswordResetEmail renders the default password reset email.
func PasswordResetEmail(app AppInfo, email, actionURL string) (Email, error) {
	return (*Templates)(nil).PasswordResetEmail(app, email, actionURL)
}

// OTPEmail renders the default one-time password email.
func OTPEmail(app AppInfo, email, otp string) (Email, error) {
	return (*Templates)(nil).OTPEmail(app, email, otp)
}

// EmailChangeEmail renders the default email change confirmation.
func EmailChangeEmail(app AppInfo, newEmail, actionURL string) (Email, error) {
	return (*Templates)(nil).EmailChangeEmail(app, newEmail, actionURL)
}

// LoginAlertEmail renders the default login alert.
func LoginAlertEmail(app AppInfo, email, alertInfo string) (Email, error) {
	return (*Templates)(nil).LoginAlertEmail(app, email, alertInfo)
}

// Render executes tpl with data. Empty fields of tpl render as empty
// strings.
func Render(tpl Template, data TemplateData) (Email, error) {
	p, err := parseTemplate(tpl)
	if err != nil {
		return Email{}, fmt.Errorf("mailer: %w", err)
	}
	return p.execute(data)
}

func (t *Templates) pick(get func(*Templates) Template) Template {
	if t == nil {
		return Template{}
	}
	return get(t)
}

func (t *Templates) render(override, def Template, data TemplateData) (Email, error) {
	tpl := def
	if override.Subject != "" {
		tpl.Subject = override.Subject
	}
	if override.Text != "" {
		tpl.Text = override.Text
	}
	// An HTML body without its own text part gets its text from the HTML,
	// not the default's: the two parts must say the same thing.
	deriveText := override.HTML != "" && override.Text == ""
	if override.HTML != "" {
		tpl.HTML = override.HTML
	}
	if deriveText {
		tpl.Text = ""
	}
	email, err := Render(tpl, data)
	if err == nil && deriveText {
		email.Text = textFromHTML(email.HTML)
	}
	return email, err
}

func newData(app AppInfo, email, actionURL string) TemplateData {
	return TemplateData{
		AppName:   app.Name,
		AppURL:    strings.TrimRight(app.URL, "/"),
		Email:     email,
		ActionURL: actionURL,
		Token:     tokenFromURL(actionURL),
	}
}

// tokenFromURL extracts the token from an action URL so that templates
// written with PocketBase's {TOKEN} keep working: the "token" query
// parameter if present, otherwise the last segment of the fragment (as in
// PocketBase's ".../_/#/auth/confirm-verification/TOKEN") or of the path.
func tokenFromURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if tok := u.Query().Get("token"); tok != "" {
		return tok
	}
	p := u.Path
	if u.Fragment != "" {
		p = u.Fragment
		if i := strings.IndexByte(p, '?'); i >= 0 {
			if q, err := url.ParseQuery(p[i+1:]); err == nil && q.Get("token") != "" {
				return q.Get("token")
			}
			p = p[:i]
		}
	}
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// pbPlaceholders maps PocketBase placeholder spellings to template actions.
// It is built per call to keep the package free of package-level variables.
func pbPlaceholders() *strings.Replacer {
	return strings.NewReplacer(
		"{APP_NAME}", "{{.AppName}}",
		"{APP_URL}", "{{.AppURL}}",
		"{TOKEN}", "{{.Token}}",
		"{ACTION_URL}", "{{.ActionURL}}",
		"{OTP}", "{{.OTP}}",
		"{EMAIL}", "{{.Email}}",
		"{RECORD:email}", "{{.Email}}",
		"{ALERT_INFO}", "{{.AlertInfo}}",
	)
}

type parsed struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

func parseTemplate(tpl Template) (*parsed, error) {
	r := pbPlaceholders()
	var p parsed
	var err error
	if p.subject, err = texttemplate.New("subject").Parse(r.Replace(tpl.Subject)); err != nil {
		return nil, err
	}
	if p.text, err = texttemplate.New("text").Parse(r.Replace(tpl.Text)); err != nil {
		return nil, err
	}
	if p.html, err = htmltemplate.New("html").Parse(r.Replace(tpl.HTML)); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *parsed) execute(data TemplateData) (Email, error) {
	var subject, text, html strings.Builder
	if err := p.subject.Execute(&subject, data); err != nil {
		return Email{}, fmt.Errorf("mailer: subject template: %w", err)
	}
	if err := p.text.Execute(&text, data); err != nil {
		return Email{}, fmt.Errorf("mailer: text template: %w", err)
	}
	if err := p.html.Execute(&html, data); err != nil {
		return Email{}, fmt.Errorf("mailer: html template: %w", err)
	}
	return Email{
		// A subject is one line: collapse any whitespace, including line
		// breaks coming from data, into single spaces.
		Subject: strings.Join(strings.FieldsFunc(subject.String(), isSpaceOrControl), " "),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

func isSpaceOrControl(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r < 0x20 || r == 0x7f
}
