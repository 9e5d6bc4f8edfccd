package filter

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/plinthdev/plinth/schema"
)

// fixture is the schema and rows shared by the golden, conformance and fuzz
// tests.
type fixture struct {
	colls map[string]*schema.Collection
	order []string
	rows  map[string][]map[string]any
	now   time.Time
}

func (fx *fixture) lookup(idOrName string) *schema.Collection {
	if c := fx.colls[idOrName]; c != nil {
		return c
	}
	for _, c := range fx.colls {
		if c.ID == idOrName {
			return c
		}
	}
	return nil
}

func mkField(t testing.TB, typ, name string, opts func(schema.Options)) *schema.Field {
	t.Helper()
	f, err := schema.NewField(typ, name)
	if err != nil {
		t.Fatal(err)
	}
	if opts != nil {
		opts(f.Options)
	}
	return f
}

func rel(target string, max int) func(schema.Options) {
	return func(o schema.Options) {
		r := o.(*schema.RelationOptions)
		r.CollectionID, r.MaxSelect = "id_"+target, max
	}
}

func newFixture(t testing.TB) *fixture {
	fx := &fixture{colls: map[string]*schema.Collection{}, rows: map[string][]map[string]any{},
		now: time.Date(2024, 6, 1, 12, 30, 45, 123e6, time.UTC)}
	add := func(name, typ string, fields ...*schema.Field) {
		c := &schema.Collection{ID: "id_" + name, Name: name, Type: typ}
		c.Fields = append([]*schema.Field{mkField(t, "text", "id", func(o schema.Options) { o.(*schema.TextOptions).PrimaryKey = true })}, fields...)
		fx.colls[name] = c
		fx.order = append(fx.order, name)
	}
	add("teams", "base", mkField(t, "text", "name", nil))
	add("users", "auth",
		mkField(t, "text", "name", nil),
		mkField(t, "number", "age", nil),
		mkField(t, "bool", "verified", nil),
		mkField(t, "relation", "favorites", rel("posts", 5)),
		mkField(t, "relation", "team", rel("teams", 1)),
		mkField(t, "password", "password", nil),
	)
	add("tags", "base", mkField(t, "text", "name", nil))
	add("posts", "base",
		mkField(t, "text", "title", nil),
		mkField(t, "number", "score", nil),
		mkField(t, "bool", "published", nil),
		mkField(t, "select", "categories", func(o schema.Options) {
			s := o.(*schema.SelectOptions)
			s.Values, s.MaxSelect = []string{"a", "b", "c"}, 3
		}),
		mkField(t, "select", "status", func(o schema.Options) {
			s := o.(*schema.SelectOptions)
			s.Values, s.MaxSelect = []string{"draft", "published"}, 1
		}),
		mkField(t, "json", "meta", nil),
		mkField(t, "relation", "author", rel("users", 1)),
		mkField(t, "relation", "tags", rel("tags", 5)),
		mkField(t, "date", "created", nil),
		mkField(t, "geoPoint", "loc", nil),
		mkField(t, "text", "notes", nil),
	)
	add("comments", "base",
		mkField(t, "relation", "post", rel("posts", 1)),
		mkField(t, "text", "message", nil),
		mkField(t, "number", "likes", nil),
	)
	j := func(s string) json.RawMessage { return json.RawMessage(s) }
	geo := func(lon, lat float64) schema.GeoPoint { return schema.GeoPoint{Lon: lon, Lat: lat} }
	fx.rows["teams"] = []map[string]any{{"id": "tm1", "name": "red"}, {"id": "tm2", "name": "blue"}}
	fx.rows["users"] = []map[string]any{
		{"id": "u1", "name": "Alice", "age": 30.0, "verified": true, "favorites": []string{"p1", "p2"}, "team": "tm1"},
		{"id": "u2", "name": "Bob", "age": 25.0, "verified": false, "favorites": []string{"p1"}, "team": "tm2"},
		{"id": "u3", "name": "Carol", "age": 40.0, "verified": true, "favorites": []string{}, "team": ""},
	}
	fx.rows["tags"] = []map[string]any{{"id": "t1", "name": "news"}, {"id": "t2", "name": "tech"}, {"id": "t3", "name": "Life"}}
	fx.rows["posts"] = []map[string]any{
		{"id": "p1", "title": "Hello World", "score": 10.0, "published": true, "categories": []string{"a", "b"}, "status": "draft",
			"meta": j(`{"a":{"b":1},"list":[1,2],"s":"x","flag":true}`), "author": "u1", "tags": []string{"t1", "t2"},
			"created": "2024-01-15 10:00:00.000Z", "loc": geo(12.49, 41.89), "notes": ""},
		{"id": "p2", "title": "Go_lang tips", "score": 5.5, "published": false, "categories": []string{"b"}, "status": "published",
			"meta": j(`{"a":{"b":"1"},"s":"X"}`), "author": "u2", "tags": []string{"t2"},
			"created": "2024-06-01 00:00:00.000Z", "loc": geo(2.35, 48.86), "notes": "100%"},
		{"id": "p3", "title": "", "score": 0.0, "published": false, "categories": []string{}, "status": "",
			"meta": j(""), "author": "", "tags": []string{}, "created": "", "loc": geo(0, 0), "notes": `back\slash`},
		{"id": "p4", "title": "hello again", "score": -3.0, "published": true, "categories": []string{"c"}, "status": "draft",
			"meta": j(`{"a":{"b":null},"list":[]}`), "author": "u1", "tags": []string{"t3"},
			"created": "2025-03-10 12:30:00.000Z", "loc": geo(12.5, 41.9), "notes": "a_b"},
		{"id": "p5", "title": "Ünïcode", "score": 100.0, "published": true, "categories": []string{"a", "c"}, "status": "published",
			"meta": j(`{"s":""}`), "author": "u3", "tags": []string{"t1", "missing"},
			"created": "2023-12-31 23:59:59.999Z", "loc": geo(-74.0, 40.7), "notes": "axb"},
	}
	fx.rows["comments"] = []map[string]any{
		{"id": "c1", "post": "p1", "message": "great", "likes": 3.0},
		{"id": "c2", "post": "p1", "message": "meh", "likes": 0.0},
		{"id": "c3", "post": "p2", "message": "GREAT stuff", "likes": 10.0},
		{"id": "c4", "post": "", "message": "", "likes": 1.0},
	}
	return fx
}

// record returns a schema.Record for a fixture row.
func (fx *fixture) record(coll, id string) *schema.Record {
	c := fx.colls[coll]
	for _, row := range fx.rows[coll] {
		if row["id"] == id {
			r := schema.NewRecord(c)
			for k, v := range row {
				r.Set(k, v)
			}
			return r
		}
	}
	return nil
}

func (fx *fixture) env(d Dialect, req *RequestInfo) *Env {
	return &Env{Dialect: d, Collection: fx.colls["posts"], Alias: "p", Lookup: fx.lookup, Request: req, Now: fx.now}
}
