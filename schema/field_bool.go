package schema

import "strings"

func init() { Register("bool", func() Options { return &BoolOptions{} }) }

// BoolOptions are the options of a bool field; it has none. A required bool
// field must be true, as in PocketBase.
type BoolOptions struct{}

// Storage implements Options.
func (o *BoolOptions) Storage(*Field) Storage { return StoreBool }

// Zero implements Options.
func (o *BoolOptions) Zero(*Field) any { return false }

// CheckOptions implements Options.
func (o *BoolOptions) CheckOptions(*Field, *Collection, Lookup) Errors { return Errors{} }

// Normalize implements Options: booleans pass; "true"/"1" and
// "false"/"0"/"" (any case, trimmed) are parsed; a number is true unless 0;
// null is false.
func (o *BoolOptions) Normalize(_ *Field, v any) (any, *FieldError) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case float64:
		return x != 0, nil
	case int:
		return x != 0, nil
	case int64:
		return x != 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1", "on":
			return true, nil
		case "false", "0", "", "off":
			return false, nil
		}
	}
	return nil, NewFieldError("validation_invalid_bool", "Must be a boolean.")
}

// Validate implements Options.
func (o *BoolOptions) Validate(f *Field, v any) *FieldError {
	b, ok := v.(bool)
	if !ok {
		return NewFieldError("validation_invalid_bool", "Must be a boolean.")
	}
	if f.Required && !b {
		return ErrRequired()
	}
	return nil
}
