package schema

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// GeoPoint is the canonical value of a geoPoint field.
type GeoPoint struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// Record is one row of a collection holding canonical field values:
// string (text-like fields), float64 (number), bool, []string (multi-valued
// fields), json.RawMessage (json; nil for null) and GeoPoint.
type Record struct {
	Collection *Collection
	values     map[string]any
	// Expand holds expanded relations by name: *Record or []*Record.
	Expand map[string]any
	// plain holds plain-text passwords between Apply and hashing; never
	// stored or encoded.
	plain map[string]string
}

// NewRecord returns a record of c with every field at its zero value.
func NewRecord(c *Collection) *Record {
	r := &Record{Collection: c, values: make(map[string]any, len(c.Fields))}
	for _, f := range c.Fields {
		r.values[f.Name] = f.Options.Zero(f)
	}
	return r
}

// ID returns the record's id.
func (r *Record) ID() string { s, _ := r.values["id"].(string); return s }

// Get returns the canonical value of a field (nil if unknown).
func (r *Record) Get(name string) any { return r.values[name] }

// GetString returns a text-like value, or "".
func (r *Record) GetString(name string) string { s, _ := r.values[name].(string); return s }

// GetStrings returns a multi value as a slice; a single text value becomes
// a one-element slice and "" none, so relations can be read uniformly.
func (r *Record) GetStrings(name string) []string {
	switch v := r.values[name].(type) {
	case []string:
		return v
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	}
	return nil
}

// Set stores a canonical value without validation.
func (r *Record) Set(name string, v any) { r.values[name] = v }

// Clone returns a shallow copy of the record's values (expand excluded).
func (r *Record) Clone() *Record {
	out := &Record{Collection: r.Collection, values: make(map[string]any, len(r.values))}
	for k, v := range r.values {
		if s, ok := v.([]string); ok {
			v = append([]string(nil), s...)
		}
		out.values[k] = v
	}
	return out
}

// EncodeOptions tunes how a record is written as JSON.
type EncodeOptions struct {
	// Projection limits the fields written (the `fields` query parameter);
	// nil writes all.
	Projection *Projection
	// ShowHidden writes hidden fields too (for superusers). Password fields
	// and hidden system fields (an auth record's tokenKey) are never written.
	ShowHidden bool
	// Hide, when set, names fields to omit from a given record (and from the
	// records expanded under it), e.g. an auth record's email.
	Hide func(r *Record) map[string]bool
}

// MarshalJSON writes the record in PocketBase's shape with all visible fields.
func (r *Record) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(nil, EncodeOptions{}), nil
}

// AppendJSON appends the record's JSON to buf: collectionId, collectionName,
// the non-hidden fields in schema order, and expand when present. It writes
// directly rather than through reflection because it is on every read path.
func (r *Record) AppendJSON(buf []byte, opt EncodeOptions) []byte {
	p := opt.Projection
	buf = append(buf, '{')
	first := true
	key := func(name string) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendString(buf, name)
		buf = append(buf, ':')
	}
	if p.includes("collectionId") {
		key("collectionId")
		buf = appendString(buf, r.Collection.ID)
	}
	if p.includes("collectionName") {
		key("collectionName")
		buf = appendString(buf, r.Collection.Name)
	}
	var hide map[string]bool
	if opt.Hide != nil {
		hide = opt.Hide(r)
	}
	for _, f := range r.Collection.Fields {
		if f.Type == "password" || f.Storage() == StoreNone || hide[f.Name] || !p.includes(f.Name) ||
			f.Hidden && (!opt.ShowHidden || f.System) {
			continue
		}
		key(f.Name)
		v := r.values[f.Name]
		if ex, ok := p.excerpt(f.Name); ok {
			s, _ := v.(string)
			buf = appendString(buf, Excerpt(s, ex.Max, ex.Ellipsis))
			continue
		}
		buf = appendValue(buf, v)
	}
	if len(r.Expand) > 0 && p.includes("expand") {
		sub := p.child("expand")
		key("expand")
		buf = append(buf, '{')
		n := 0
		for name, v := range r.Expand {
			if !sub.includes(name) {
				continue
			}
			if n > 0 {
				buf = append(buf, ',')
			}
			n++
			buf = appendString(buf, name)
			buf = append(buf, ':')
			eo := EncodeOptions{Projection: sub.child(name), ShowHidden: opt.ShowHidden, Hide: opt.Hide}
			switch x := v.(type) {
			case *Record:
				buf = x.AppendJSON(buf, eo)
			case []*Record:
				buf = append(buf, '[')
				for i, rec := range x {
					if i > 0 {
						buf = append(buf, ',')
					}
					buf = rec.AppendJSON(buf, eo)
				}
				buf = append(buf, ']')
			default:
				buf = append(buf, "null"...)
			}
		}
		buf = append(buf, '}')
	}
	return append(buf, '}')
}

func appendValue(buf []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendString(buf, x)
	case float64:
		return appendNumber(buf, x)
	case bool:
		return strconv.AppendBool(buf, x)
	case []string:
		buf = append(buf, '[')
		for i, s := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, s)
		}
		return append(buf, ']')
	case json.RawMessage:
		if len(x) == 0 {
			return append(buf, "null"...)
		}
		return append(buf, x...)
	case GeoPoint:
		buf = append(buf, `{"lon":`...)
		buf = appendNumber(buf, x.Lon)
		buf = append(buf, `,"lat":`...)
		buf = appendNumber(buf, x.Lat)
		return append(buf, '}')
	case nil:
		return append(buf, "null"...)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return append(buf, "null"...)
		}
		return append(buf, b...)
	}
}

func appendNumber(buf []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(buf, '0')
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(buf, int64(f), 10)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, 64)
}

// appendString writes s as a JSON string, escaping like encoding/json
// (including <, > and & so that responses are safe to embed in HTML).
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// NewRecordSized returns an empty record of c whose values the caller sets
// (the store, when it scans a row); unlike NewRecord it fills no zero values.
func NewRecordSized(c *Collection) *Record {
	return &Record{Collection: c, values: make(map[string]any, len(c.Fields))}
}

// AppendJSONString appends s as a JSON string, escaped as record JSON is.
func AppendJSONString(buf []byte, s string) []byte { return appendString(buf, s) }
