package schema

import (
	"fmt"
	"regexp"
	"unicode/utf8"
)

func init() { Register("password", func() Options { return &PasswordOptions{} }) }

// Password length defaults and the hard limit of bcrypt, which ignores
// everything past 72 bytes.
const (
	DefaultPasswordMin = 8
	DefaultPasswordMax = 71
	bcryptMaxBytes     = 72
)

// PasswordOptions are the options of a password field. The column holds
// the bcrypt hash; this package validates only the plain value, and the
// auth layer hashes it with Cost (0 = the server's default cost; otherwise
// 4–31). Min and Max count characters, 0 meaning DefaultPasswordMin and
// DefaultPasswordMax; Pattern is an optional regular expression the plain
// value must match. Hiding the field from API output is the caller's job.
type PasswordOptions struct {
	Pattern string `json:"pattern"`
	Min     int    `json:"min"`
	Max     int    `json:"max"`
	Cost    int    `json:"cost"`
}

// Storage implements Options: the hash is stored as text.
func (o *PasswordOptions) Storage(*Field) Storage { return StoreText }

// Zero implements Options.
func (o *PasswordOptions) Zero(*Field) any { return "" }

// MinLength is the effective minimum length in characters.
func (o *PasswordOptions) MinLength() int {
	if o.Min <= 0 {
		return DefaultPasswordMin
	}
	return o.Min
}

// MaxLength is the effective maximum length in characters.
func (o *PasswordOptions) MaxLength() int {
	if o.Max <= 0 {
		return DefaultPasswordMax
	}
	return o.Max
}

// CheckOptions implements Options.
func (o *PasswordOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	errs := Errors{}
	if o.Min < 0 {
		errs.Add("min", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	}
	switch {
	case o.Max < 0 || o.Max > DefaultPasswordMax:
		errs.Add("max", NewFieldError("validation_max_less_equal_than_required", fmt.Sprintf("Must be between 0 (default) and %d.", DefaultPasswordMax)))
	case o.MaxLength() < o.MinLength():
		errs.Add("max", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than min."))
	}
	if o.Pattern != "" {
		if _, err := regexp.Compile(o.Pattern); err != nil {
			errs.Add("pattern", NewFieldError("validation_invalid_regex", "Invalid regular expression."))
		}
	}
	if o.Cost != 0 && (o.Cost < 4 || o.Cost > 31) {
		errs.Add("cost", NewFieldError("validation_invalid_cost", "Must be 0 (default) or a bcrypt cost between 4 and 31."))
	}
	return errs
}

// Normalize implements Options: the plain string is kept as given (it is
// hashed later, by the auth layer); null is "". Other types are rejected.
func (o *PasswordOptions) Normalize(_ *Field, v any) (any, *FieldError) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	return nil, ErrInvalid("Must be a string.")
}

// Validate implements Options on the plain value.
func (o *PasswordOptions) Validate(f *Field, v any) *FieldError {
	s, ok := v.(string)
	if !ok {
		return ErrInvalid("Must be a string.")
	}
	if s == "" {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	n := utf8.RuneCountInString(s)
	if min := o.MinLength(); n < min {
		return NewFieldError("validation_min_text_constraint", fmt.Sprintf("Must be at least %d character(s).", min))
	}
	if max := o.MaxLength(); n > max || len(s) > bcryptMaxBytes {
		return NewFieldError("validation_max_text_constraint", fmt.Sprintf("Must be at most %d character(s) (%d bytes).", max, bcryptMaxBytes))
	}
	if o.Pattern != "" {
		re, err := compiledPattern(o.Pattern)
		if err == nil && !re.MatchString(s) {
			return NewFieldError("validation_invalid_format", "Invalid value format.")
		}
	}
	return nil
}
