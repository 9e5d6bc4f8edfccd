package schema

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fuzzFields returns every registered type with its default options plus
// variants that switch on the other code paths (multi-valued, bounded).
func fuzzFields(t testing.TB) []*Field {
	var out []*Field
	for _, typ := range Types() {
		out = append(out, newTestField(t, typ, nil, false), newTestField(t, typ, nil, true))
	}
	extra := []Options{
		&NumberOptions{Min: ptr(-10.0), Max: ptr(10.0), OnlyInt: true},
		&EmailOptions{OnlyDomains: []string{"example.com"}},
		&URLOptions{ExceptDomains: []string{"example.com"}},
		&DateOptions{Min: "2000-01-01", Max: "2100-01-01"},
		&SelectOptions{Values: []string{"a", "b", "c"}, MaxSelect: 2},
		&RelationOptions{CollectionID: "c", MinSelect: 1, MaxSelect: 3},
		&FileOptions{MaxSelect: 4},
		&JSONOptions{MaxSize: 16},
		&PasswordOptions{Min: 2, Max: 10, Pattern: `^[a-z]+$`},
	}
	for _, o := range extra {
		f := &Field{Name: "f", Options: o}
		for name, mk := range registry {
			if reflect.TypeOf(mk()) == reflect.TypeOf(o) {
				f.Type = name
			}
		}
		out = append(out, f)
	}
	return out
}

func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{
		`null`, `""`, `"a"`, `0`, `-1.5`, `1e308`, `true`, `false`, `[]`, `{}`,
		`["a","b","a"]`, `[1,null,true]`, `[["a"]]`, `{"lon":1,"lat":2}`, `{"lon":"x"}`,
		`"2024-01-02 03:04:05.000Z"`, `"2024-01-02T03:04:05+02:00"`, `"a@example.com"`,
		`"https://example.com/x"`, `"[\"a\"]"`, `"{\"lon\":200}"`, `"NaN"`, `"../x"`,
		`not json at all`, `{"a":[1,{"b":null}]}`,
	} {
		f.Add([]byte(seed))
	}
	fields := fuzzFields(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var in any
		if err := json.Unmarshal(data, &in); err != nil {
			in = string(data) // a form value
		}
		for _, fld := range fields {
			_ = fld.Options.Validate(fld, in) // arbitrary input must not panic either
			v, ferr := fld.Options.Normalize(fld, in)
			if m, ok := fld.Options.(Modifier); ok {
				for _, op := range []string{"+", "-", "^"} {
					_, _ = m.Modify(fld, fld.Options.Zero(fld), op, in)
				}
			}
			if ferr != nil {
				if ferr.Code == "" || ferr.Message == "" {
					t.Fatalf("%s: error without code or message: %#v", fld.Type, ferr)
				}
				continue
			}
			if v == nil {
				t.Fatalf("%s: Normalize(%q) returned a nil value", fld.Type, data)
			}
			_ = fld.Options.Validate(fld, v)
			again, ferr := fld.Options.Normalize(fld, v)
			if ferr != nil {
				t.Fatalf("%s: canonical %#v does not normalize: %v", fld.Type, v, ferr)
			}
			if !reflect.DeepEqual(again, v) {
				t.Fatalf("%s: Normalize is not idempotent: %#v -> %#v", fld.Type, v, again)
			}
			if out := appendValue(nil, v); !json.Valid(out) {
				t.Fatalf("%s: canonical %#v encodes as invalid JSON %q", fld.Type, v, out)
			}
		}
	})
}
