package schema

import (
	"fmt"
	"regexp"
	"sync/atomic"
	"unicode/utf8"
)

func init() { Register("text", func() Options { return &TextOptions{} }) }

// TextOptions are the options of a plain text field. The `id` field of
// every collection is a text field with PrimaryKey set.
type TextOptions struct {
	Min                 int    `json:"min"`
	Max                 int    `json:"max"`
	Pattern             string `json:"pattern"`
	AutogeneratePattern string `json:"autogeneratePattern"`
	PrimaryKey          bool   `json:"primaryKey"`

	// gen caches the generator of AutogeneratePattern: parsing the pattern
	// cost more than the rest of a record's validation.
	gen atomic.Pointer[patternGenerator]
}

// patternGenerator is a compiled AutogeneratePattern.
type patternGenerator struct {
	pattern string
	next    func() string // nil when the pattern is not supported
}

// Storage implements Options.
func (o *TextOptions) Storage(*Field) Storage { return StoreText }

// Zero implements Options.
func (o *TextOptions) Zero(*Field) any { return "" }

// CheckOptions implements Options.
func (o *TextOptions) CheckOptions(f *Field, _ *Collection, _ Lookup) Errors {
	errs := Errors{}
	if o.Min < 0 {
		errs.Add("min", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	}
	if o.Max < 0 || (o.Max > 0 && o.Max < o.Min) {
		errs.Add("max", NewFieldError("validation_min_greater_equal_than_required", "Must be 0 (no limit) or no less than min."))
	}
	if o.Pattern != "" {
		if _, err := regexp.Compile(o.Pattern); err != nil {
			errs.Add("pattern", NewFieldError("validation_invalid_regex", "Invalid regular expression."))
		}
	}
	if o.AutogeneratePattern != "" {
		if _, err := generatorFor(o.AutogeneratePattern); err != nil {
			errs.Add("autogeneratePattern", NewFieldError("validation_invalid_regex", err.Error()))
		}
	}
	if o.PrimaryKey && f.Name != "id" {
		errs.Add("primaryKey", NewFieldError("validation_invalid_primary_key", "Only the id field can be the primary key."))
	}
	return errs
}

// Normalize implements Options: strings pass, numbers and bools are
// formatted, null is "".
func (o *TextOptions) Normalize(_ *Field, v any) (any, *FieldError) { return normalizeString(v) }

// Validate implements Options.
func (o *TextOptions) Validate(f *Field, v any) *FieldError {
	s, _ := v.(string)
	if s == "" {
		if f.Required || o.PrimaryKey {
			return ErrRequired()
		}
		return nil
	}
	n := utf8.RuneCountInString(s)
	if o.Min > 0 && n < o.Min {
		return NewFieldError("validation_min_text_constraint", fmt.Sprintf("Must be at least %d character(s).", o.Min))
	}
	max := o.Max
	if max == 0 {
		max = 5000 // PocketBase's default cap for plain text
	}
	if n > max {
		return NewFieldError("validation_max_text_constraint", fmt.Sprintf("Must be less than %d character(s).", max))
	}
	if o.Pattern != "" {
		re, err := compiledPattern(o.Pattern)
		if err == nil && !re.MatchString(s) {
			return NewFieldError("validation_invalid_format", "Invalid value format.")
		}
	}
	return nil
}

// Generate returns a new value from AutogeneratePattern, or "" when there is none.
func (o *TextOptions) Generate() string {
	if o.AutogeneratePattern == "" {
		return ""
	}
	g := o.gen.Load()
	if g == nil || g.pattern != o.AutogeneratePattern {
		next, err := generatorFor(o.AutogeneratePattern)
		if err != nil {
			next = nil // CheckOptions reports it; nothing is generated
		}
		g = &patternGenerator{pattern: o.AutogeneratePattern, next: next}
		o.gen.Store(g)
	}
	if g.next == nil {
		return ""
	}
	return g.next()
}

func normalizeString(v any) (any, *FieldError) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case float64, bool, int, int64:
		return fmt.Sprint(x), nil
	}
	return nil, NewFieldError("validation_invalid_value", "Must be a string.")
}
