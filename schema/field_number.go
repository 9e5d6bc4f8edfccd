package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

func init() { Register("number", func() Options { return &NumberOptions{} }) }

// NumberOptions are the options of a number field. Min and Max are inclusive
// bounds; nil means no limit. OnlyInt rejects values with a fraction.
type NumberOptions struct {
	Min     *float64 `json:"min"`
	Max     *float64 `json:"max"`
	OnlyInt bool     `json:"onlyInt"`
}

// Storage implements Options.
func (o *NumberOptions) Storage(*Field) Storage { return StoreNumber }

// Zero implements Options.
func (o *NumberOptions) Zero(*Field) any { return float64(0) }

// CheckOptions implements Options.
func (o *NumberOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	errs := Errors{}
	if o.Min != nil && !isFinite(*o.Min) {
		errs.Add("min", NewFieldError("validation_invalid_number", "Must be a finite number."))
	}
	if o.Max != nil && !isFinite(*o.Max) {
		errs.Add("max", NewFieldError("validation_invalid_number", "Must be a finite number."))
	}
	if o.OnlyInt {
		if o.Min != nil && *o.Min != math.Trunc(*o.Min) {
			errs.Add("min", NewFieldError("validation_only_int_constraint", "Must be an integer when onlyInt is set."))
		}
		if o.Max != nil && *o.Max != math.Trunc(*o.Max) {
			errs.Add("max", NewFieldError("validation_only_int_constraint", "Must be an integer when onlyInt is set."))
		}
	}
	if _, bad := errs["max"]; !bad && o.Min != nil && o.Max != nil && *o.Max < *o.Min {
		errs.Add("max", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than min."))
	}
	return errs
}

// Normalize implements Options: numbers pass, numeric strings are parsed
// ("" is 0), booleans become 1 or 0 and null is 0. NaN and infinities are
// rejected because no store or JSON encoder can keep them.
func (o *NumberOptions) Normalize(_ *Field, v any) (any, *FieldError) { return normalizeNumber(v) }

func normalizeNumber(v any) (any, *FieldError) {
	var f float64
	switch x := v.(type) {
	case nil:
		return float64(0), nil
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case bool:
		if x {
			f = 1
		}
	case json.Number:
		return normalizeNumber(string(x))
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return float64(0), nil
		}
		p, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, NewFieldError("validation_invalid_number", "Must be a number.")
		}
		f = p
	default:
		return nil, NewFieldError("validation_invalid_number", "Must be a number.")
	}
	if !isFinite(f) {
		return nil, NewFieldError("validation_invalid_number", "Must be a finite number.")
	}
	return f, nil
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Validate implements Options. Zero is the blank value: it fails only
// Required and skips the other constraints, as in PocketBase.
func (o *NumberOptions) Validate(f *Field, v any) *FieldError {
	n, ok := v.(float64)
	if !ok || !isFinite(n) {
		return NewFieldError("validation_invalid_number", "Must be a number.")
	}
	if n == 0 {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	if o.OnlyInt && n != math.Trunc(n) {
		return NewFieldError("validation_only_int_constraint", "Cannot be a decimal number.")
	}
	if o.Min != nil && n < *o.Min {
		return NewFieldError("validation_min_number_constraint", fmt.Sprintf("Must be larger than %s.", formatNumber(*o.Min)))
	}
	if o.Max != nil && n > *o.Max {
		return NewFieldError("validation_max_number_constraint", fmt.Sprintf("Must be less than %s.", formatNumber(*o.Max)))
	}
	return nil
}

// Modify implements Modifier: "+" adds arg to current and "-" subtracts it.
func (o *NumberOptions) Modify(_ *Field, current any, op string, arg any) (any, *FieldError) {
	cur, err := normalizeNumber(current)
	if err != nil {
		return nil, err
	}
	delta, err := normalizeNumber(arg)
	if err != nil {
		return nil, err
	}
	var out float64
	switch op {
	case "+":
		out = cur.(float64) + delta.(float64)
	case "-":
		out = cur.(float64) - delta.(float64)
	default:
		return nil, NewFieldError("validation_invalid_modifier", fmt.Sprintf("Unsupported modifier %q for a number field.", op))
	}
	if !isFinite(out) {
		return nil, NewFieldError("validation_invalid_number", "Must be a finite number.")
	}
	return out, nil
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
