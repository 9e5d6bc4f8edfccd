package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
)

func init() { Register("json", func() Options { return &JSONOptions{} }) }

// DefaultJSONMaxSize is the size cap of a json value when MaxSize is 0.
const DefaultJSONMaxSize = 1 << 20

// JSONOptions are the options of a json field, which holds any JSON value
// (or null). MaxSize is the cap of its compact encoding in bytes, 0 meaning
// DefaultJSONMaxSize.
type JSONOptions struct {
	MaxSize int64 `json:"maxSize"`
}

// Storage implements Options.
func (o *JSONOptions) Storage(*Field) Storage { return StoreJSON }

// Zero implements Options: null.
func (o *JSONOptions) Zero(*Field) any { return json.RawMessage(nil) }

// MaxBytes is the effective size cap.
func (o *JSONOptions) MaxBytes() int64 {
	if o.MaxSize <= 0 {
		return DefaultJSONMaxSize
	}
	return o.MaxSize
}

// CheckOptions implements Options.
func (o *JSONOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	errs := Errors{}
	if o.MaxSize < 0 {
		errs.Add("maxSize", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	}
	return errs
}

// Normalize implements Options. Decoded JSON values are re-encoded
// compactly; a string holding valid JSON is taken as that JSON (form values
// arrive as strings), and any other string as a JSON string; null (or the
// JSON text null) is nil. json.RawMessage and []byte must be valid JSON.
func (o *JSONOptions) Normalize(_ *Field, v any) (any, *FieldError) { return normalizeJSON(v) }

func normalizeJSON(v any) (any, *FieldError) {
	var raw []byte
	switch x := v.(type) {
	case nil:
		return json.RawMessage(nil), nil
	case json.RawMessage:
		if len(bytes.TrimSpace(x)) == 0 {
			return json.RawMessage(nil), nil
		}
		if !json.Valid(x) {
			return nil, errInvalidJSON()
		}
		raw = x
	case []byte:
		if !json.Valid(x) {
			return nil, errInvalidJSON()
		}
		raw = x
	case string:
		if json.Valid([]byte(x)) {
			raw = []byte(x)
		} else {
			b, err := marshalJSON(x)
			if err != nil {
				return nil, errInvalidJSON()
			}
			raw = b
		}
	default:
		b, err := marshalJSON(x)
		if err != nil {
			return nil, errInvalidJSON()
		}
		raw = b
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, errInvalidJSON()
	}
	if bytes.Equal(buf.Bytes(), []byte("null")) {
		return json.RawMessage(nil), nil
	}
	return json.RawMessage(buf.Bytes()), nil
}

// marshalJSON encodes v without HTML escaping, so that values read from
// text and from decoded JSON compact to the same bytes.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func errInvalidJSON() *FieldError {
	return NewFieldError("validation_invalid_json", "Must be a valid JSON value.")
}

// Validate implements Options. A required json field rejects null, "",
// [] and {}, as PocketBase does.
func (o *JSONOptions) Validate(f *Field, v any) *FieldError {
	raw, ok := v.(json.RawMessage)
	if !ok {
		return errInvalidJSON()
	}
	if len(raw) > 0 && !json.Valid(raw) {
		return errInvalidJSON()
	}
	if max := o.MaxBytes(); int64(len(raw)) > max {
		return NewFieldError("validation_json_size_limit", fmt.Sprintf("The maximum allowed JSON size is %d bytes.", max))
	}
	if f.Required {
		switch string(raw) {
		case "", "null", `""`, "[]", "{}":
			return ErrRequired()
		}
	}
	return nil
}
