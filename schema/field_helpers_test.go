package schema

import (
	"encoding/json"
	"reflect"
	"testing"
)

// newTestField builds a field of typ named "f" with the given options (nil
// for the type's defaults) and required flag.
func newTestField(t testing.TB, typ string, opts Options, required bool) *Field {
	t.Helper()
	f, err := NewField(typ, "f")
	if err != nil {
		t.Fatal(err)
	}
	if opts != nil {
		f.Options = opts
	}
	f.Required = required
	return f
}

// normCase is one Normalize input with its expected canonical value, or
// the expected error code when code is set.
type normCase struct {
	name string
	in   any
	want any
	code string
}

func runNormalize(t *testing.T, f *Field, cases []normCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.Options.Normalize(f, tc.in)
			checkResult(t, got, err, tc.want, tc.code)
		})
	}
}

// valCase is one Validate input with the expected error code ("" = valid).
type valCase struct {
	name  string
	field *Field
	in    any
	code  string
}

func runValidate(t *testing.T, cases []valCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.field.Options.Validate(tc.field, tc.in)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Validate(%#v) = %v (%s), want nil", tc.in, err, err.Code)
				}
				return
			}
			if err == nil || err.Code != tc.code {
				t.Fatalf("Validate(%#v) = %v, want code %s", tc.in, err, tc.code)
			}
		})
	}
}

// modCase is one Modify call with its expected result or error code.
type modCase struct {
	name string
	cur  any
	op   string
	arg  any
	want any
	code string
}

func runModify(t *testing.T, f *Field, cases []modCase) {
	t.Helper()
	m, ok := f.Options.(Modifier)
	if !ok {
		t.Fatalf("%s does not implement Modifier", f.Type)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := m.Modify(f, tc.cur, tc.op, tc.arg)
			checkResult(t, got, err, tc.want, tc.code)
		})
	}
}

func checkResult(t *testing.T, got any, err *FieldError, want any, code string) {
	t.Helper()
	if code != "" {
		if err == nil || err.Code != code {
			t.Fatalf("got (%#v, %v), want error code %s", got, err, code)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error %s: %v", err.Code, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v (%T), want %#v (%T)", got, got, want, want)
	}
}

// optCase is one options value with the option keys CheckOptions must
// report (nil = no errors).
type optCase struct {
	name string
	opts Options
	keys []string
}

func runCheckOptions(t *testing.T, typ string, c *Collection, lookup Lookup, cases []optCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newTestField(t, typ, tc.opts, false)
			errs := f.Options.CheckOptions(f, c, lookup)
			if len(errs) != len(tc.keys) {
				t.Fatalf("CheckOptions = %v, want errors for %v", errs, tc.keys)
			}
			for _, k := range tc.keys {
				if _, ok := errs[k].(*FieldError); !ok {
					t.Fatalf("CheckOptions = %v, want an error for %q", errs, k)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// decode unmarshals JSON text for test inputs, as a request body would be.
func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
