package schema

import (
	"net/url"
	"strings"
)

func init() { Register("url", func() Options { return &URLOptions{} }) }

// URLOptions are the options of a url field. At most one of ExceptDomains
// and OnlyDomains may be set; they are matched against the URL's host name.
type URLOptions struct {
	ExceptDomains []string `json:"exceptDomains"`
	OnlyDomains   []string `json:"onlyDomains"`
}

// Storage implements Options.
func (o *URLOptions) Storage(*Field) Storage { return StoreText }

// Zero implements Options.
func (o *URLOptions) Zero(*Field) any { return "" }

// CheckOptions implements Options.
func (o *URLOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	return checkDomainLists(o.ExceptDomains, o.OnlyDomains)
}

// Normalize implements Options: like text, the value is taken as given.
func (o *URLOptions) Normalize(_ *Field, v any) (any, *FieldError) { return normalizeString(v) }

// Validate implements Options: the value must be an absolute http or https
// URL with a host, whose host name the domain lists allow.
func (o *URLOptions) Validate(f *Field, v any) *FieldError {
	s, ok := v.(string)
	if !ok {
		return NewFieldError("validation_invalid_url", "Must be a valid url.")
	}
	if s == "" {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	u := parseWebURL(s)
	if u == nil {
		return NewFieldError("validation_invalid_url", "Must be a valid url.")
	}
	if !domainAllowed(u.Hostname(), o.ExceptDomains, o.OnlyDomains) {
		return NewFieldError("validation_url_domain_not_allowed", "URL domain is not allowed.")
	}
	return nil
}

// parseWebURL returns the parsed URL when s is an absolute http(s) URL with
// a host and no white space or control characters, or nil.
func parseWebURL(s string) *url.URL {
	if len(s) > 2048 || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Hostname() == "" {
		return nil
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return nil
	}
	return u
}
