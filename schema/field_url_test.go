package schema

import "testing"

func TestURLNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "url", nil, false)
	runNormalize(t, f, []normCase{
		{name: "string", in: "https://example.com", want: "https://example.com"},
		{name: "null", in: nil, want: ""},
		{name: "object", in: map[string]any{}, code: "validation_invalid_value"},
	})
}

func TestURLValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "url", nil, false)
	req := newTestField(t, "url", nil, true)
	only := newTestField(t, "url", &URLOptions{OnlyDomains: []string{"example.com"}}, false)
	except := newTestField(t, "url", &URLOptions{ExceptDomains: []string{"evil.test"}}, false)
	runValidate(t, []valCase{
		{"empty optional", plain, "", ""},
		{"empty required", req, "", "validation_required"},
		{"https", plain, "https://example.com/a?b=c#d", ""},
		{"http with port", plain, "http://localhost:8090/api", ""},
		{"upper scheme", plain, "HTTPS://example.com", ""},
		{"ftp", plain, "ftp://example.com", "validation_invalid_url"},
		{"javascript", plain, "javascript:alert(1)", "validation_invalid_url"},
		{"no scheme", plain, "example.com", "validation_invalid_url"},
		{"no host", plain, "https:///path", "validation_invalid_url"},
		{"space", plain, "https://exa mple.com", "validation_invalid_url"},
		{"only allowed", only, "https://example.com:443/x", ""},
		{"only refused", only, "https://sub.example.com/", "validation_url_domain_not_allowed"},
		{"except refused", except, "http://EVIL.test/", "validation_url_domain_not_allowed"},
		{"except other", except, "http://good.test/", ""},
		{"wrong type", plain, true, "validation_invalid_url"},
	})
}

func TestURLCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "url", nil, nil, []optCase{
		{name: "none", opts: &URLOptions{}},
		{name: "both", opts: &URLOptions{OnlyDomains: []string{"a.com"}, ExceptDomains: []string{"b.com"}}, keys: []string{"exceptDomains", "onlyDomains"}},
		{name: "bad domain", opts: &URLOptions{ExceptDomains: []string{"http://a.com"}}, keys: []string{"exceptDomains"}},
	})
}
