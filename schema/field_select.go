package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

func init() { Register("select", func() Options { return &SelectOptions{MaxSelect: 1} }) }

// SelectOptions are the options of a select field: the allowed Values and
// how many may be picked. MaxSelect ≤ 1 makes a single-valued field holding
// a string; more makes a multi-valued one holding a []string.
type SelectOptions struct {
	Values    []string `json:"values"`
	MaxSelect int      `json:"maxSelect"`
}

// Storage implements Options.
func (o *SelectOptions) Storage(*Field) Storage { return listStorage(o.MaxSelect) }

// Zero implements Options.
func (o *SelectOptions) Zero(*Field) any { return listZero(o.MaxSelect) }

// CheckOptions implements Options.
func (o *SelectOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	errs := Errors{}
	seen := make(map[string]bool, len(o.Values))
	for _, v := range o.Values {
		switch {
		case v == "":
			errs.Add("values", NewFieldError("validation_invalid_value", "Values cannot be blank."))
		case seen[v]:
			errs.Add("values", NewFieldError("validation_duplicated_values", "Duplicated value "+quoteShort(v)+"."))
		}
		seen[v] = true
	}
	if len(o.Values) == 0 {
		errs.Add("values", ErrRequired())
	}
	if o.MaxSelect < 0 {
		errs.Add("maxSelect", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	} else if len(o.Values) > 0 && o.MaxSelect > len(o.Values) {
		errs.Add("maxSelect", NewFieldError("validation_max_less_equal_than_required", fmt.Sprintf("Must be no more than the number of values (%d).", len(o.Values))))
	}
	return errs
}

// Normalize implements Options. A single select takes a string (or a list
// of at most one); a multi select takes a list of strings or one string,
// and "" or null mean none. Lists are deduplicated keeping their order.
func (o *SelectOptions) Normalize(_ *Field, v any) (any, *FieldError) {
	return normalizeList(v, o.MaxSelect > 1)
}

// Validate implements Options.
func (o *SelectOptions) Validate(f *Field, v any) *FieldError {
	list, err := canonicalList(v, o.MaxSelect > 1)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	for _, s := range list {
		if !slices.Contains(o.Values, s) {
			return ErrInvalid("Invalid value " + quoteShort(s) + ".")
		}
	}
	return checkCount(list, 0, o.MaxSelect)
}

// Modify implements Modifier: "+" appends, "^" prepends and "-" removes one
// value or a list of values. On a single select "+" and "^" replace the
// value and "-" clears it when it matches.
func (o *SelectOptions) Modify(_ *Field, current any, op string, arg any) (any, *FieldError) {
	return modifyList(current, op, arg, o.MaxSelect > 1)
}

// The helpers below are shared by the list-like field types: select,
// relation and file.

// listStorage is StoreJSONArray for multi-valued fields, else StoreText.
func listStorage(maxSelect int) Storage {
	if maxSelect > 1 {
		return StoreJSONArray
	}
	return StoreText
}

func listZero(maxSelect int) any {
	if maxSelect > 1 {
		return []string{}
	}
	return ""
}

// errTooMany reports more values than maxSelect allows.
func errTooMany(max int) *FieldError {
	if max < 1 {
		max = 1
	}
	return NewFieldError("validation_too_many_values", fmt.Sprintf("Select no more than %d.", max))
}

// checkCount enforces min (when > 0) and max (≤ 1 meaning 1) on list.
func checkCount(list []string, min, max int) *FieldError {
	if max < 1 {
		max = 1
	}
	if len(list) > max {
		return errTooMany(max)
	}
	if min > 0 && len(list) < min {
		return NewFieldError("validation_not_enough_values", fmt.Sprintf("Select at least %d.", min))
	}
	return nil
}

// toStringList turns an input into a list of distinct non-blank strings in
// their first order. It accepts null, a string, a list of strings (numbers
// and booleans are formatted) and, when parseJSON is set, a string holding
// a JSON array of strings, as multipart forms may send.
func toStringList(v any, parseJSON bool) ([]string, *FieldError) {
	var raw []string
	switch x := v.(type) {
	case nil:
	case string:
		if parseJSON && strings.HasPrefix(strings.TrimSpace(x), "[") {
			var arr []string
			if json.Unmarshal([]byte(x), &arr) == nil {
				raw = arr
				break
			}
		}
		raw = []string{x}
	case float64, bool, int, int64:
		raw = []string{fmt.Sprint(x)}
	case []string:
		raw = x
	case []any:
		raw = make([]string, 0, len(x))
		for _, e := range x {
			switch y := e.(type) {
			case nil:
			case string:
				raw = append(raw, y)
			case float64, bool, int, int64:
				raw = append(raw, fmt.Sprint(y))
			default:
				return nil, ErrInvalid("Must be a list of strings.")
			}
		}
	default:
		return nil, ErrInvalid("Must be a string or a list of strings.")
	}
	out := make([]string, 0, len(raw))
	seen := make(map[string]bool, len(raw))
	for _, s := range raw {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

// normalizeList converts an input to the canonical value of a list-like
// field: []string when multi, else a string ("" for none).
func normalizeList(v any, multi bool) (any, *FieldError) {
	list, err := toStringList(v, multi)
	if err != nil {
		return nil, err
	}
	return collapseList(list, multi)
}

func collapseList(list []string, multi bool) (any, *FieldError) {
	if multi {
		return list, nil
	}
	switch len(list) {
	case 0:
		return "", nil
	case 1:
		return list[0], nil
	}
	return nil, errTooMany(1)
}

// canonicalList reads a canonical list-like value back as a slice, checking
// that its Go type matches the field's multiplicity.
func canonicalList(v any, multi bool) ([]string, *FieldError) {
	if multi {
		if list, ok := v.([]string); ok {
			return list, nil
		}
		return nil, ErrInvalid("Must be a list of strings.")
	}
	s, ok := v.(string)
	if !ok {
		return nil, ErrInvalid("Must be a string.")
	}
	if s == "" {
		return nil, nil
	}
	return []string{s}, nil
}

// modifyList applies "+" (append), "^" (prepend) or "-" (remove) to a
// list-like value. For single-valued fields, "+" and "^" replace the value
// and "-" clears it when it is among the removed values.
func modifyList(current any, op string, arg any, multi bool) (any, *FieldError) {
	cur, err := toStringList(current, false)
	if err != nil {
		return nil, err
	}
	args, err := toStringList(arg, true)
	if err != nil {
		return nil, err
	}
	var out []string
	switch op {
	case "+":
		if multi {
			out = append(cur, args...)
		} else {
			out = lastOr(args, cur)
		}
	case "^":
		if multi {
			out = append(append([]string{}, args...), cur...)
		} else {
			out = lastOr(args, cur)
		}
	case "-":
		out = make([]string, 0, len(cur))
		for _, s := range cur {
			if !slices.Contains(args, s) {
				out = append(out, s)
			}
		}
	default:
		return nil, NewFieldError("validation_invalid_modifier", fmt.Sprintf("Unsupported modifier %q.", op))
	}
	out, _ = toStringList(out, false) // deduplicate
	return collapseList(out, multi)
}

// lastOr returns the last element of args as a one-element list, or
// fallback when args is empty.
func lastOr(args, fallback []string) []string {
	if len(args) == 0 {
		return fallback
	}
	return args[len(args)-1:]
}
