package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Storage is the abstract storage class of a field's column. Store dialects
// map each class to a concrete column type.
type Storage int

const (
	// StoreText is a NOT NULL text column defaulting to ''.
	StoreText Storage = iota
	// StoreNumber is a NOT NULL floating point column defaulting to 0.
	StoreNumber
	// StoreBool is a NOT NULL boolean column defaulting to false.
	StoreBool
	// StoreJSONArray is a NOT NULL JSON array of strings defaulting to '[]'
	// (multi-valued select, relation and file fields).
	StoreJSONArray
	// StoreJSON is a nullable JSON column (json and geoPoint fields).
	StoreJSON
	// StoreNone means the field has no column (password's plain value is never stored).
	StoreNone
)

// Options is the type-specific part of a field: its options, how its values
// are stored, normalised and validated. Implementations are pointers to
// structs whose exported fields carry the JSON options of the type.
type Options interface {
	// Storage is the column class for the field.
	Storage(f *Field) Storage
	// CheckOptions validates the options when a collection is saved. The
	// lookup resolves other collections (for relation targets).
	CheckOptions(f *Field, c *Collection, lookup Lookup) Errors
	// Normalize converts an input value — decoded JSON (string, float64,
	// bool, nil, []any, map[string]any) or a form string — into the field's
	// canonical Go value, or reports why it cannot.
	Normalize(f *Field, v any) (any, *FieldError)
	// Validate checks a canonical value against the field's constraints
	// (required included).
	Validate(f *Field, v any) *FieldError
	// Zero is the canonical value of an unset field.
	Zero(f *Field) any
}

// Modifier is implemented by field types that support the `field+`,
// `+field` and `field-` body modifiers.
type Modifier interface {
	// Modify applies op ("+", "-" or "^" for prepend) with arg to current.
	Modify(f *Field, current any, op string, arg any) (any, *FieldError)
}

// Lookup finds a collection by id or name; it returns nil when there is none.
type Lookup func(idOrName string) *Collection

// Field is one column of a collection. The common attributes are shared by
// every type; Options holds the rest. In JSON both are one flat object, as in
// PocketBase.
type Field struct {
	ID          string
	Name        string
	Type        string
	System      bool
	Hidden      bool
	Presentable bool
	Required    bool
	Options     Options
}

// Multiple reports whether the field holds a list of values.
func (f *Field) Multiple() bool { return f.Options.Storage(f) == StoreJSONArray }

// Storage is shorthand for f.Options.Storage(f).
func (f *Field) Storage() Storage { return f.Options.Storage(f) }

var registry = map[string]func() Options{}

// Register makes a field type available under name. It is called from the
// init function of each field type's file and panics on duplicates, which
// are programming errors.
func Register(name string, newOptions func() Options) {
	if _, dup := registry[name]; dup {
		panic("schema: field type registered twice: " + name)
	}
	registry[name] = newOptions
}

// Types lists the registered field type names, sorted.
func Types() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewField returns a field of the named type with default options.
func NewField(typ, name string) (*Field, error) {
	mk, ok := registry[typ]
	if !ok {
		return nil, fmt.Errorf("unknown field type %q", typ)
	}
	return &Field{Name: name, Type: typ, Options: mk()}, nil
}

type fieldCommon struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	System      bool   `json:"system"`
	Hidden      bool   `json:"hidden"`
	Presentable bool   `json:"presentable"`
	Required    bool   `json:"required"`
}

// MarshalJSON writes the common attributes and the type's options as one object.
func (f *Field) MarshalJSON() ([]byte, error) {
	common, err := json.Marshal(fieldCommon{f.ID, f.Name, f.Type, f.System, f.Hidden, f.Presentable, f.Required})
	if err != nil {
		return nil, err
	}
	opts, err := json.Marshal(f.Options)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(opts, []byte("{}")) || bytes.Equal(opts, []byte("null")) {
		return common, nil
	}
	out := make([]byte, 0, len(common)+len(opts))
	out = append(out, common[:len(common)-1]...)
	out = append(out, ',')
	out = append(out, opts[1:]...)
	return out, nil
}

// UnmarshalJSON reads a flat field object, choosing the options type from "type".
func (f *Field) UnmarshalJSON(data []byte) error {
	var c fieldCommon
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	mk, ok := registry[c.Type]
	if !ok {
		return &UnknownTypeError{Type: c.Type}
	}
	opts := mk()
	if err := json.Unmarshal(data, opts); err != nil {
		return fmt.Errorf("field %q options: %w", c.Name, err)
	}
	*f = Field{c.ID, c.Name, c.Type, c.System, c.Hidden, c.Presentable, c.Required, opts}
	return nil
}

// UnknownTypeError reports a field type that is not registered.
type UnknownTypeError struct{ Type string }

func (e *UnknownTypeError) Error() string { return fmt.Sprintf("unknown field type %q", e.Type) }

// Clone returns a deep copy of f (options included) via JSON, which is the
// one representation every options type must round-trip anyway.
func (f *Field) Clone() *Field {
	data, err := f.MarshalJSON()
	if err != nil {
		panic(fmt.Sprintf("schema: field %q does not marshal: %v", f.Name, err))
	}
	var out Field
	if err := out.UnmarshalJSON(data); err != nil {
		panic(fmt.Sprintf("schema: field %q does not round-trip: %v", f.Name, err))
	}
	return &out
}

var identifierPattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,99}$`)

// ValidIdentifier reports whether s may name a collection or field: it must
// start with a letter or underscore and contain only [a-zA-Z0-9_]. Such names
// are then safe to quote as SQL identifiers.
func ValidIdentifier(s string) bool { return identifierPattern.MatchString(s) }

// maxSQLIdentifier is PostgreSQL's identifier length: it cuts longer names
// to their first 63 bytes.
const maxSQLIdentifier = 63

// IdentifierKey is what two names must not share to be told apart as SQL
// identifiers on both databases: the lower-cased name (names are unique
// case-insensitively) cut to PostgreSQL's 63 bytes, where two longer names
// with the same start would otherwise become the same column or table.
func IdentifierKey(name string) string {
	key := strings.ToLower(name)
	if len(key) > maxSQLIdentifier {
		key = key[:maxSQLIdentifier]
	}
	return key
}
