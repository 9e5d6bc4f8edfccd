package mailer

import (
	"net/mail"
	"strings"
	"testing"
)

type renderFunc func(app AppInfo, email, arg string) (Email, error)

func defaultRenderers() map[string]renderFunc {
	return map[string]renderFunc{
		"verification":   VerificationEmail,
		"password reset": PasswordResetEmail,
		"otp":            OTPEmail,
		"email change":   EmailChangeEmail,
		"login alert":    LoginAlertEmail,
	}
}

func TestDefaultTemplatesRender(t *testing.T) {
	t.Parallel()
	app := AppInfo{Name: "Acme", URL: "https://acme.example/"}
	tests := []struct {
		name        string
		arg         string
		wantSubject string
	}{
		{"verification", "https://acme.example/_/#/auth/confirm-verification/tok123", "Confirm your email address for Acme"},
		{"password reset", "https://acme.example/_/#/auth/confirm-password-reset/tok123", "Reset your Acme password"},
		{"otp", "824613", "Your Acme sign-in code"},
		{"email change", "https://acme.example/_/#/auth/confirm-email-change/tok123", "Confirm your new Acme email address"},
		{"login alert", "Password sign-in from 203.0.113.9", "New sign-in to your Acme account"},
	}
	renderers := defaultRenderers()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := renderers[tc.name](app, "jane@example.com", tc.arg)
			if err != nil {
				t.Fatal(err)
			}
			if e.Subject != tc.wantSubject {
				t.Errorf("subject = %q, want %q", e.Subject, tc.wantSubject)
			}
			for _, body := range []string{e.Text, e.HTML} {
				for _, want := range []string{tc.arg, "jane@example.com", "Acme"} {
					if !strings.Contains(body, want) {
						t.Errorf("body lacks %q:\n%s", want, body)
					}
				}
			}
			if strings.Contains(e.Text, "{{") || strings.Contains(e.HTML, "{{") {
				t.Error("unexecuted template action in output")
			}
			// The rendered email must make a valid message.
			m := Message{
				From: mail.Address{Name: app.Name, Address: "noreply@acme.example"},
				To:   []mail.Address{{Address: "jane@example.com"}}, Subject: e.Subject, Text: e.Text, HTML: e.HTML,
			}
			if err := m.Validate(); err != nil {
				t.Errorf("rendered email does not validate: %v", err)
			}
		})
	}
}

func TestTemplatesEscapeHTML(t *testing.T) {
	t.Parallel()
	app := AppInfo{Name: `<script>alert("app")</script>`, URL: `javascript:alert(1)`}
	email := `"><img src=x onerror=alert(1)>@example.com`
	tests := []struct {
		name string
		arg  string
	}{
		{"verification", `javascript:alert(document.cookie)`},
		{"password reset", `"><script>alert(2)</script>`},
		{"otp", `<b>123456</b>`},
		{"email change", `javascript:alert(3)`},
		{"login alert", `<iframe src="https://evil.example"></iframe>`},
	}
	renderers := defaultRenderers()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := renderers[tc.name](app, email, tc.arg)
			if err != nil {
				t.Fatal(err)
			}
			lower := strings.ToLower(e.HTML)
			for _, bad := range []string{"<script", "<img", "<iframe", "<b>", `href="javascript`} {
				if strings.Contains(lower, bad) {
					t.Errorf("HTML contains unescaped %q:\n%s", bad, e.HTML)
				}
			}
			if !strings.Contains(e.HTML, "&lt;") {
				t.Errorf("HTML shows no escaping at all:\n%s", e.HTML)
			}
		})
	}
}

func TestTemplateOverrides(t *testing.T) {
	t.Parallel()
	app := AppInfo{Name: "Acme", URL: "https://acme.example"}
	tests := []struct {
		name        string
		tpls        Templates
		render      func(*Templates) (Email, error)
		wantSubject string
		wantText    string
		wantHTML    string
	}{
		{
			name: "pocketbase placeholders",
			tpls: Templates{Verification: Template{
				Subject: "Verify {APP_NAME}",
				Text:    "{APP_URL}/_/#/auth/confirm-verification/{TOKEN} for {RECORD:email}",
				HTML:    `<a href="{APP_URL}/_/#/auth/confirm-verification/{TOKEN}">{APP_NAME}</a>`,
			}},
			render: func(t *Templates) (Email, error) {
				return t.VerificationEmail(app, "jane@example.com", "https://acme.example/_/#/auth/confirm-verification/abc.def-1")
			},
			wantSubject: "Verify Acme",
			wantText:    "https://acme.example/_/#/auth/confirm-verification/abc.def-1 for jane@example.com",
			wantHTML:    `<a href="https://acme.example/_/#/auth/confirm-verification/abc.def-1">Acme</a>`,
		},
		{
			name: "go template placeholders, token from query",
			tpls: Templates{PasswordReset: Template{
				Subject: "Reset for {{.Email}}",
				Text:    "{{.Token}} {{.ActionURL}}",
				HTML:    `<p>{{.AppName}} {{.Token}}</p>`,
			}},
			render: func(t *Templates) (Email, error) {
				return t.PasswordResetEmail(app, "jane@example.com", "https://acme.example/reset?token=T0K")
			},
			wantSubject: "Reset for jane@example.com",
			wantText:    "T0K https://acme.example/reset?token=T0K",
			wantHTML:    `<p>Acme T0K</p>`,
		},
		{
			name: "subject only override keeps default bodies",
			tpls: Templates{OTP: Template{Subject: "Code: {OTP}"}},
			render: func(t *Templates) (Email, error) {
				return t.OTPEmail(app, "jane@example.com", "111222")
			},
			wantSubject: "Code: 111222",
		},
		{
			name: "line breaks in data cannot break the subject",
			tpls: Templates{LoginAlert: Template{Subject: "Alert {{.AlertInfo}}", Text: "x", HTML: "<p>{ALERT_INFO}</p>"}},
			render: func(t *Templates) (Email, error) {
				return t.LoginAlertEmail(app, "jane@example.com", "a\r\nBcc: evil@example.com")
			},
			wantSubject: "Alert a Bcc: evil@example.com",
			wantText:    "x",
			wantHTML:    "<p>a\r\nBcc: evil@example.com</p>",
		},
		{
			name: "email change override escapes html",
			tpls: Templates{EmailChange: Template{HTML: `<p>{EMAIL}</p><a href="{ACTION_URL}">go</a>`}},
			render: func(t *Templates) (Email, error) {
				return t.EmailChangeEmail(app, "<b>x</b>@example.com", "javascript:alert(1)")
			},
			wantSubject: "Confirm your new Acme email address",
			// The text part comes from the HTML override, not the default.
			wantText: "<b>x</b>@example.com\n\ngo (#ZgotmplZ)",
			wantHTML: `<p>&lt;b&gt;x&lt;/b&gt;@example.com</p><a href="#ZgotmplZ">go</a>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.tpls.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			e, err := tc.render(&tc.tpls)
			if err != nil {
				t.Fatal(err)
			}
			if e.Subject != tc.wantSubject {
				t.Errorf("subject = %q, want %q", e.Subject, tc.wantSubject)
			}
			if tc.wantText != "" && e.Text != tc.wantText {
				t.Errorf("text = %q, want %q", e.Text, tc.wantText)
			}
			if tc.wantHTML != "" && e.HTML != tc.wantHTML {
				t.Errorf("html = %q, want %q", e.HTML, tc.wantHTML)
			}
			if tc.wantText == "" && !strings.Contains(e.Text, "Hello,") {
				t.Errorf("default text not used: %q", e.Text)
			}
		})
	}
}

func TestTemplatesValidateReportsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tpls Templates
	}{
		{"unclosed action", Templates{Verification: Template{Text: "{{.AppName"}}},
		{"bad html", Templates{OTP: Template{HTML: "{{if}}"}}},
		{"bad subject", Templates{LoginAlert: Template{Subject: "{{end}}"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.tpls.Validate(); err == nil {
				t.Fatal("Validate() = nil, want error")
			}
		})
	}
	var nilT *Templates
	if err := nilT.Validate(); err != nil {
		t.Errorf("nil Templates: %v", err)
	}
	// Unknown fields fail at render time with an error, not a panic.
	if _, err := (&Templates{OTP: Template{Text: "{{.Nope}}"}}).OTPEmail(AppInfo{}, "a@example.com", "1"); err == nil {
		t.Error("unknown field rendered without error")
	}
}

func TestTokenFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://a.example/_/#/auth/confirm-verification/abc", "abc"},
		{"https://a.example/_/#/auth/confirm-verification/abc/", "abc"},
		{"https://a.example/verify?token=xyz&next=/", "xyz"},
		{"https://a.example/#/reset?token=frag", "frag"},
		{"https://a.example/confirm/tok", "tok"},
		{"://bad", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := tokenFromURL(tc.in); got != tc.want {
				t.Errorf("tokenFromURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
