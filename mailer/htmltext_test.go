package mailer

import "testing"

func TestTextFromHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<p>Hello <b>world</b>,</p><p>Click <a href="https://x.test/a?b=1&amp;c=2">here</a> to verify.</p>`,
			"Hello world,\n\nClick here (https://x.test/a?b=1&c=2) to verify."},
		{`<style>p{color:red}</style><div>One<br>Two</div>`, "One\nTwo"},
		{`<a href="https://x.test">https://x.test</a>`, "https://x.test"},
		{"  spaced \n\t out  ", "spaced out"},
		{`<ul><li>a</li><li>b</li></ul>`, "a\nb"},
		{`unclosed <a href="u">link`, "unclosed link"},
	} {
		if got := textFromHTML(tc.in); got != tc.want {
			t.Errorf("textFromHTML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzTextFromHTML(f *testing.F) {
	f.Add(`<p>Hello <a href="x">y</a></p>`)
	f.Fuzz(func(t *testing.T, s string) { textFromHTML(s) })
}

func TestHTMLOnlyOverrideDerivesText(t *testing.T) {
	tpls := &Templates{Verification: Template{Subject: "Verify {APP_NAME}", HTML: `<p>Open <a href="{ACTION_URL}">this link</a>.</p>`}}
	e, err := tpls.VerificationEmail(AppInfo{Name: "Acme", URL: "https://acme.test"}, "a@b.test", "https://acme.test/v?token=T")
	if err != nil {
		t.Fatal(err)
	}
	if e.Subject != "Verify Acme" || e.Text != "Open this link (https://acme.test/v?token=T)." {
		t.Errorf("got subject %q text %q", e.Subject, e.Text)
	}
}
