package schema

import "time"

func init() { Register("autodate", func() Options { return &AutodateOptions{} }) }

// AutodateOptions are the options of an autodate field: a date the server
// sets itself when a record is created (OnCreate) and/or updated
// (OnUpdate). Clients cannot set it; the record layer ignores their values
// and calls Stamp instead.
type AutodateOptions struct {
	OnCreate bool `json:"onCreate"`
	OnUpdate bool `json:"onUpdate"`
}

// Storage implements Options.
func (o *AutodateOptions) Storage(*Field) Storage { return StoreText }

// Zero implements Options.
func (o *AutodateOptions) Zero(*Field) any { return "" }

// CheckOptions implements Options.
func (o *AutodateOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	errs := Errors{}
	if !o.OnCreate && !o.OnUpdate {
		msg := "At least one of onCreate and onUpdate must be set."
		errs.Add("onCreate", NewFieldError("validation_required", msg))
		errs.Add("onUpdate", NewFieldError("validation_required", msg))
	}
	return errs
}

// Normalize implements Options. It only reads a stored date into its
// canonical form (like a date field) and never stamps: setting the value is
// Stamp's job.
func (o *AutodateOptions) Normalize(_ *Field, v any) (any, *FieldError) { return normalizeDate(v) }

// Validate implements Options: the value is "" or a date. Required does not
// apply, since the server sets the value.
func (o *AutodateOptions) Validate(_ *Field, v any) *FieldError {
	s, ok := v.(string)
	if !ok {
		return errInvalidDate()
	}
	if s == "" {
		return nil
	}
	if _, err := ParseDate(s); err != nil {
		return errInvalidDate()
	}
	return nil
}

// Stamp sets the field on r to now when the record is being created and
// OnCreate is set, or updated and OnUpdate is set; otherwise it leaves the
// value alone.
func (o *AutodateOptions) Stamp(f *Field, r *Record, creating bool, now time.Time) {
	if (creating && o.OnCreate) || (!creating && o.OnUpdate) {
		r.Set(f.Name, FormatDate(now))
	}
}
