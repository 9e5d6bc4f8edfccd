package schema

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

func init() { Register("date", func() Options { return &DateOptions{} }) }

// DateLayout is the canonical text form of date and autodate values, always
// in UTC with millisecond precision, as PocketBase writes them.
const DateLayout = "2006-01-02 15:04:05.000Z"

// DateOptions are the options of a date field. Min and Max are inclusive
// bounds in any form ParseDate accepts; "" means no limit.
type DateOptions struct {
	Min string `json:"min"`
	Max string `json:"max"`
}

// Storage implements Options.
func (o *DateOptions) Storage(*Field) Storage { return StoreText }

// Zero implements Options.
func (o *DateOptions) Zero(*Field) any { return "" }

// CheckOptions implements Options.
func (o *DateOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	errs := Errors{}
	var min, max time.Time
	var err error
	if o.Min != "" {
		if min, err = ParseDate(o.Min); err != nil {
			errs.Add("min", NewFieldError("validation_invalid_date", "Must be a valid date."))
		}
	}
	if o.Max != "" {
		if max, err = ParseDate(o.Max); err != nil {
			errs.Add("max", NewFieldError("validation_invalid_date", "Must be a valid date."))
		}
	}
	if !min.IsZero() && !max.IsZero() && max.Before(min) {
		errs.Add("max", NewFieldError("validation_min_greater_equal_than_required", "Must be no earlier than min."))
	}
	return errs
}

// Normalize implements Options: a date string in any form ParseDate accepts
// (or a time.Time) becomes its canonical DateLayout form in UTC; "" and null
// are the empty date.
func (o *DateOptions) Normalize(_ *Field, v any) (any, *FieldError) { return normalizeDate(v) }

func normalizeDate(v any) (any, *FieldError) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case time.Time:
		if x.IsZero() {
			return "", nil
		}
		if !dateInRange(x) {
			return nil, errInvalidDate()
		}
		return FormatDate(x), nil
	case string:
		if strings.TrimSpace(x) == "" {
			return "", nil
		}
		t, err := ParseDate(x)
		if err != nil {
			return nil, errInvalidDate()
		}
		return FormatDate(t), nil
	}
	return nil, errInvalidDate()
}

func errInvalidDate() *FieldError {
	return NewFieldError("validation_invalid_date", "Must be a valid date.")
}

// Validate implements Options.
func (o *DateOptions) Validate(f *Field, v any) *FieldError {
	s, ok := v.(string)
	if !ok {
		return errInvalidDate()
	}
	if s == "" {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	t, err := ParseDate(s)
	if err != nil {
		return errInvalidDate()
	}
	if o.Min != "" {
		if min, err := ParseDate(o.Min); err == nil && t.Before(min) {
			return NewFieldError("validation_min_date_constraint", fmt.Sprintf("Must be no earlier than %s.", FormatDate(min)))
		}
	}
	if o.Max != "" {
		if max, err := ParseDate(o.Max); err == nil && t.After(max) {
			return NewFieldError("validation_max_date_constraint", fmt.Sprintf("Must be no later than %s.", FormatDate(max)))
		}
	}
	return nil
}

// FormatDate writes t in the canonical DateLayout, in UTC. The zero time is "".
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(DateLayout)
}

// dateLayouts are the forms ParseDate accepts, tried in order. Fractional
// seconds are accepted after the seconds of any layout that has them. The
// canonical form comes first: it is what every stored and stamped date is
// (autodate fields are validated on every write), and no layout before it
// could read the same text differently.
var dateLayouts = []string{
	"2006-01-02 15:04:05Z07:00", // the canonical form, and other offsets
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02T15:04:05", // no offset: UTC
	"2006-01-02 15:04:05",
	"2006-01-02T15:04Z07:00", // without seconds
	"2006-01-02 15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02", // a day: midnight UTC
}

// ParseDate parses a date in RFC 3339, PocketBase's "2006-01-02
// 15:04:05.000Z" form, "2006-01-02 15:04:05" or "2006-01-02", with or
// without a zone offset (no offset means UTC), and returns it in UTC.
// Years outside 0001–9999 (and the zero time) are rejected so that every parsed date formats
// back to DateLayout.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty date")
	}
	for _, layout := range dateLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		if !dateInRange(t) {
			return time.Time{}, fmt.Errorf("date %q out of range", s)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q", s)
}

// dateInRange excludes the zero time too, since FormatDate writes it as "".
func dateInRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999 && !t.IsZero()
}
