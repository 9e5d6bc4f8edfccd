package schema

import (
	"net/mail"
	"regexp"
	"strings"
)

func init() { Register("email", func() Options { return &EmailOptions{} }) }

// EmailOptions are the options of an email field. At most one of
// ExceptDomains (a deny list) and OnlyDomains (an allow list) may be set;
// domains compare case-insensitively.
type EmailOptions struct {
	ExceptDomains []string `json:"exceptDomains"`
	OnlyDomains   []string `json:"onlyDomains"`
}

// maxEmailLength bounds an address (RFC 5321's path limit).
const maxEmailLength = 254

// Storage implements Options.
func (o *EmailOptions) Storage(*Field) Storage { return StoreText }

// Zero implements Options.
func (o *EmailOptions) Zero(*Field) any { return "" }

// CheckOptions implements Options.
func (o *EmailOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	return checkDomainLists(o.ExceptDomains, o.OnlyDomains)
}

// Normalize implements Options: like text, the value is taken as given.
func (o *EmailOptions) Normalize(_ *Field, v any) (any, *FieldError) { return normalizeString(v) }

// Validate implements Options: the value must be a bare address (no display
// name or angle brackets) whose domain the lists allow.
func (o *EmailOptions) Validate(f *Field, v any) *FieldError {
	s, ok := v.(string)
	if !ok {
		return NewFieldError("validation_invalid_email", "Must be a valid email address.")
	}
	if s == "" {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	if !ValidEmail(s) {
		return NewFieldError("validation_invalid_email", "Must be a valid email address.")
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	if !domainAllowed(domain, o.ExceptDomains, o.OnlyDomains) {
		return NewFieldError("validation_email_domain_not_allowed", "Email domain is not allowed.")
	}
	return nil
}

// ValidEmail reports whether s is a plain email address such as
// "a@example.com": parseable by net/mail, without a display name, and with a
// dotless-or-dotted domain of hostname characters.
func ValidEmail(s string) bool {
	if s == "" || len(s) > maxEmailLength || strings.TrimSpace(s) != s {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && validDomain(s[at+1:])
}

var domainPattern = regexp.MustCompile(`^(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$`)

func validDomain(s string) bool { return len(s) <= 253 && domainPattern.MatchString(s) }

// checkDomainLists validates the exceptDomains/onlyDomains pair shared by
// the email and url fields.
func checkDomainLists(except, only []string) Errors {
	errs := Errors{}
	if len(except) > 0 && len(only) > 0 {
		msg := "Set either exceptDomains or onlyDomains, not both."
		errs.Add("exceptDomains", NewFieldError("validation_empty", msg))
		errs.Add("onlyDomains", NewFieldError("validation_empty", msg))
		return errs
	}
	for key, list := range map[string][]string{"exceptDomains": except, "onlyDomains": only} {
		for _, d := range list {
			if !validDomain(d) {
				errs.Add(key, NewFieldError("validation_invalid_domain", "Invalid domain "+quoteShort(d)+"."))
				break
			}
		}
	}
	return errs
}

// domainAllowed applies the lists to domain, case-insensitively.
func domainAllowed(domain string, except, only []string) bool {
	if len(only) > 0 {
		for _, d := range only {
			if strings.EqualFold(d, domain) {
				return true
			}
		}
		return false
	}
	for _, d := range except {
		if strings.EqualFold(d, domain) {
			return false
		}
	}
	return true
}

// quoteShort quotes s for an error message, cutting it to a sane length.
func quoteShort(s string) string {
	if r := []rune(s); len(r) > 50 {
		s = string(r[:50]) + "…"
	}
	return `"` + s + `"`
}
