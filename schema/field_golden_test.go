package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var updateGolden = flag.Bool("update-fields", false, "rewrite testdata/fields.json")

// goldenFields is one field of every registered type with non-default
// options, in the order of testdata/fields.json.
func goldenFields() []*Field {
	return []*Field{
		{ID: "text3208210256", Name: "id", Type: "text", System: true, Presentable: false, Required: true,
			Options: &TextOptions{Min: 15, Max: 15, Pattern: "^[a-z0-9]+$", AutogeneratePattern: "[a-z0-9]{15}", PrimaryKey: true}},
		{ID: "number1", Name: "price", Type: "number", Required: true,
			Options: &NumberOptions{Min: ptr(0.0), Max: nil, OnlyInt: true}},
		{ID: "bool1", Name: "active", Type: "bool", Options: &BoolOptions{}},
		{ID: "email1", Name: "contact", Type: "email", Hidden: true,
			Options: &EmailOptions{ExceptDomains: nil, OnlyDomains: []string{"example.com"}}},
		{ID: "url1", Name: "site", Type: "url",
			Options: &URLOptions{ExceptDomains: []string{"evil.test"}, OnlyDomains: nil}},
		{ID: "editor1", Name: "body", Type: "editor", Presentable: true,
			Options: &EditorOptions{MaxSize: 1000, ConvertURLs: true}},
		{ID: "date1", Name: "due", Type: "date",
			Options: &DateOptions{Min: "2024-01-01 00:00:00.000Z", Max: ""}},
		{ID: "autodate2990389176", Name: "created", Type: "autodate", System: true,
			Options: &AutodateOptions{OnCreate: true, OnUpdate: false}},
		{ID: "select1", Name: "tags", Type: "select",
			Options: &SelectOptions{Values: []string{"a", "b", "c"}, MaxSelect: 2}},
		{ID: "file1", Name: "docs", Type: "file",
			Options: &FileOptions{MaxSelect: 3, MaxSize: 1 << 20, MimeTypes: []string{"application/pdf"}, Thumbs: []string{"100x100", "0x50"}, Protected: true}},
		{ID: "relation1", Name: "author", Type: "relation", Required: true,
			Options: &RelationOptions{CollectionID: "_pb_users_auth_", CascadeDelete: true, MinSelect: 0, MaxSelect: 1}},
		{ID: "json1", Name: "meta", Type: "json", Options: &JSONOptions{MaxSize: 2000}},
		{ID: "password901924565", Name: "password", Type: "password", System: true, Hidden: true, Required: true,
			Options: &PasswordOptions{Pattern: "", Min: 8, Max: 0, Cost: 0}},
		{ID: "geoPoint1", Name: "place", Type: "geoPoint", Options: &GeoPointOptions{}},
	}
}

func TestFieldsGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "fields.json")
	fields := goldenFields()

	seen := map[string]bool{}
	for _, f := range fields {
		seen[f.Type] = true
	}
	for _, typ := range Types() {
		if !seen[typ] {
			t.Errorf("golden fields lack type %q", typ)
		}
	}

	got, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("marshalled fields differ from %s (run go test -run TestFieldsGolden -update-fields):\n%s", path, got)
	}

	var decoded []*Field
	if err := json.Unmarshal(want, &decoded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded, fields) {
		for i := range fields {
			if i < len(decoded) && !reflect.DeepEqual(decoded[i], fields[i]) {
				t.Errorf("field %d: decoded %+v (%+v), want %+v (%+v)", i, decoded[i], decoded[i].Options, fields[i], fields[i].Options)
			}
		}
		t.Fatal("golden fields do not round-trip")
	}
}

// TestFieldsRoundTrip checks that every type's defaults survive Clone, and
// that the defaults of a field decoded without options match NewField's.
func TestFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, typ := range Types() {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			f := newTestField(t, typ, nil, false)
			if c := f.Clone(); !reflect.DeepEqual(c, f) {
				t.Fatalf("Clone = %+v, want %+v", c.Options, f.Options)
			}
			var bare Field
			if err := json.Unmarshal([]byte(`{"name":"f","type":"`+typ+`"}`), &bare); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(bare.Options, f.Options) {
				t.Fatalf("options without JSON keys = %+v, want defaults %+v", bare.Options, f.Options)
			}
			zero := f.Options.Zero(f)
			if err := f.Options.Validate(f, zero); err != nil {
				t.Fatalf("zero value %#v does not validate: %v", zero, err)
			}
			if norm, err := f.Options.Normalize(f, nil); err != nil {
				t.Fatalf("Normalize(nil) = %v", err)
			} else if !reflect.DeepEqual(norm, zero) {
				t.Fatalf("Normalize(nil) = %#v, want zero %#v", norm, zero)
			}
		})
	}
}

func TestFieldUnmarshalBadOptions(t *testing.T) {
	t.Parallel()
	cases := []string{
		`{"name":"n","type":"number","min":"x"}`,
		`{"name":"s","type":"select","values":"a"}`,
		`{"name":"r","type":"relation","maxSelect":"2"}`,
		`{"name":"f","type":"file","thumbs":[1]}`,
		`{"name":"a","type":"autodate","onCreate":"yes"}`,
	}
	for _, c := range cases {
		var f Field
		if err := json.Unmarshal([]byte(c), &f); err == nil {
			t.Errorf("Unmarshal(%s) succeeded, want an error", c)
		}
	}
}

var (
	_ Modifier = (*NumberOptions)(nil)
	_ Modifier = (*SelectOptions)(nil)
	_ Modifier = (*RelationOptions)(nil)
	_ Modifier = (*FileOptions)(nil)
)

// TestGoldenCollection puts one field of every type in a collection: its
// options must pass Collection.Validate, and a record of it must encode as
// valid JSON both at zero values and after normalising typical input.
func TestGoldenCollection(t *testing.T) {
	t.Parallel()
	users := &Collection{ID: "_pb_users_auth_", Name: "users", Type: TypeAuth}
	c := &Collection{ID: "pbc_posts", Name: "posts", Type: TypeBase, Fields: goldenFields()}
	if err := c.Validate(testLookup(users)); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := c.Validate(testLookup()); err == nil {
		t.Fatal("Validate without the relation target succeeded")
	}
	r := NewRecord(c)
	if out := r.AppendJSON(nil, EncodeOptions{}); !json.Valid(out) {
		t.Fatalf("zero record encodes as invalid JSON: %s", out)
	}
	input := map[string]any{
		"id": "abcdefghijklmno", "price": "12", "active": "true", "contact": "a@example.com",
		"site": "https://x.test", "body": "<p>x</p>", "due": "2024-06-01T10:00:00+02:00",
		"created": "2024-06-01 08:00:00.000Z", "tags": []any{"a", "b"}, "docs": []any{"a.pdf"},
		"author": "u1", "meta": map[string]any{"k": []any{1.0}}, "password": "secret123",
		"place": map[string]any{"lon": 1.5, "lat": 2.5},
	}
	for _, f := range c.Fields {
		v, err := f.Options.Normalize(f, input[f.Name])
		if err != nil {
			t.Fatalf("%s: Normalize: %v", f.Name, err)
		}
		if err := f.Options.Validate(f, v); err != nil {
			t.Fatalf("%s: Validate(%#v): %v", f.Name, v, err)
		}
		r.Set(f.Name, v)
	}
	out := r.AppendJSON(nil, EncodeOptions{})
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("record encodes as invalid JSON: %s", out)
	}
	for name, want := range map[string]any{"price": 12.0, "due": "2024-06-01 08:00:00.000Z",
		"tags": []any{"a", "b"}, "meta": map[string]any{"k": []any{1.0}}, "place": map[string]any{"lon": 1.5, "lat": 2.5}} {
		if !reflect.DeepEqual(back[name], want) {
			t.Errorf("%s = %#v, want %#v", name, back[name], want)
		}
	}
}
