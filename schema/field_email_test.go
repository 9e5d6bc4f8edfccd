package schema

import (
	"strings"
	"testing"
)

func TestEmailNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "email", nil, false)
	runNormalize(t, f, []normCase{
		{name: "string", in: "a@example.com", want: "a@example.com"},
		{name: "null", in: nil, want: ""},
		{name: "empty", in: "", want: ""},
		{name: "object", in: map[string]any{"a": "b"}, code: "validation_invalid_value"},
		{name: "array", in: []any{"a@example.com"}, code: "validation_invalid_value"},
	})
}

func TestEmailValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "email", nil, false)
	req := newTestField(t, "email", nil, true)
	only := newTestField(t, "email", &EmailOptions{OnlyDomains: []string{"example.com"}}, false)
	except := newTestField(t, "email", &EmailOptions{ExceptDomains: []string{"spam.test"}}, false)
	runValidate(t, []valCase{
		{"empty optional", plain, "", ""},
		{"empty required", req, "", "validation_required"},
		{"valid", plain, "john.doe+tag@sub.example.com", ""},
		{"dotless domain", plain, "root@localhost", ""},
		{"display name", plain, "John <john@example.com>", "validation_invalid_email"},
		{"angle brackets", plain, "<john@example.com>", "validation_invalid_email"},
		{"no at", plain, "john.example.com", "validation_invalid_email"},
		{"no local part", plain, "@example.com", "validation_invalid_email"},
		{"spaces", plain, " john@example.com", "validation_invalid_email"},
		{"bad domain", plain, "john@exa_mple.com", "validation_invalid_email"},
		{"too long", plain, strings.Repeat("a", 250) + "@example.com", "validation_invalid_email"},
		{"only domain allowed", only, "a@EXAMPLE.com", ""},
		{"only domain refused", only, "a@other.com", "validation_email_domain_not_allowed"},
		{"except domain refused", except, "a@spam.test", "validation_email_domain_not_allowed"},
		{"except other allowed", except, "a@example.com", ""},
		{"wrong type", plain, 1.0, "validation_invalid_email"},
	})
}

func TestEmailCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "email", nil, nil, []optCase{
		{name: "none", opts: &EmailOptions{}},
		{name: "only", opts: &EmailOptions{OnlyDomains: []string{"example.com", "localhost"}}},
		{name: "except", opts: &EmailOptions{ExceptDomains: []string{"example.com"}}},
		{name: "both", opts: &EmailOptions{OnlyDomains: []string{"a.com"}, ExceptDomains: []string{"b.com"}}, keys: []string{"exceptDomains", "onlyDomains"}},
		{name: "bad domain", opts: &EmailOptions{OnlyDomains: []string{"not a domain"}}, keys: []string{"onlyDomains"}},
		{name: "empty domain", opts: &EmailOptions{ExceptDomains: []string{""}}, keys: []string{"exceptDomains"}},
	})
}
