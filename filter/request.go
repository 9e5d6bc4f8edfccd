package filter

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// request resolves @request.* identifiers. Their values are static: they are
// bound as parameters, except relation paths (@request.auth.team.name), which
// join from the bound ids.
func (c *compiler) request(id *Ident) (*operand, error) {
	r := c.env.Request
	if r == nil {
		return nil, errorf(id.P, "%s is not available here", id.Name)
	}
	if len(id.Path) < 2 {
		return nil, errorf(id.P, "@request needs a key such as @request.auth.id")
	}
	switch id.Path[1] {
	case "method", "context":
		if len(id.Path) != 2 {
			return nil, errorf(id.P, "unknown identifier %q", id.Name)
		}
		if err := onlyLower(id); err != nil {
			return nil, err
		}
		if id.Path[1] == "method" {
			return staticOperand(id.P, r.Method), nil
		}
		return staticOperand(id.P, r.Context), nil
	case "query", "headers":
		if len(id.Path) != 3 {
			return nil, errorf(id.P, "%q needs exactly one key, e.g. @request.%s.name", id.Name, id.Path[1])
		}
		if err := onlyLower(id); err != nil {
			return nil, err
		}
		m := r.Query
		key := id.Path[2]
		if id.Path[1] == "headers" {
			m = nil
			key = normalizeHeader(key)
			for k, v := range r.Headers {
				if normalizeHeader(k) == key {
					return staticOperand(id.P, v), nil
				}
			}
		}
		if v, ok := m[key]; ok {
			return staticOperand(id.P, v), nil
		}
		return staticOperand(id.P, nil), nil
	case "auth":
		return c.auth(id, id.Path[2:])
	case "body":
		return c.body(id, id.Path[2:])
	}
	return nil, errorf(id.P, "unknown identifier %q (expected @request.auth, body, query, headers, method or context)", id.Name)
}

func onlyLower(id *Ident) error {
	if id.Modifier != "" && id.Modifier != "lower" {
		return errorf(id.P, "modifier :%s cannot be used on %s", id.Modifier, id.Name)
	}
	return nil
}

func normalizeHeader(k string) string { return strings.ToLower(strings.ReplaceAll(k, "-", "_")) }

func (c *compiler) auth(id *Ident, segs []string) (*operand, error) {
	if len(segs) == 0 {
		return nil, errorf(id.P, "@request.auth needs a field, e.g. @request.auth.id")
	}
	if id.Modifier == "isset" || id.Modifier == "changed" {
		return nil, errorf(id.P, "modifier :%s can only be used with @request.body fields", id.Modifier)
	}
	rec := c.env.Request.Auth
	if rec == nil || rec.Collection == nil {
		return c.value(id, nil)
	}
	switch segs[0] {
	case "collectionId", "collectionName":
		if len(segs) > 1 {
			return nil, errorf(id.P, "unknown identifier %q", id.Name)
		}
		if segs[0] == "collectionId" {
			return c.value(id, rec.Collection.ID)
		}
		return c.value(id, rec.Collection.Name)
	}
	f := rec.Collection.Field(segs[0])
	if f == nil || f.Options == nil || f.Storage() == schema.StoreNone || f.Type == "password" || f.Name == "tokenKey" {
		return c.value(id, nil)
	}
	if len(segs) > 1 {
		if rel, ok := f.Options.(relationOptions); ok {
			return c.fromIDs(id, f, rel, rec.GetStrings(f.Name), segs[1:])
		}
	}
	return c.valuePath(id, rec.Get(f.Name), segs[1:])
}

func (c *compiler) body(id *Ident, segs []string) (*operand, error) {
	if len(segs) == 0 {
		return nil, errorf(id.P, "@request.body needs a field, e.g. @request.body.title")
	}
	v, present := c.env.Request.Body[segs[0]]
	switch id.Modifier {
	case "isset", "changed":
		if len(segs) != 1 {
			return nil, errorf(id.P, "modifier :%s needs a top-level body field", id.Modifier)
		}
		if id.Modifier == "isset" {
			return staticOperand(id.P, present), nil
		}
		return staticOperand(id.P, present && c.changed(segs[0], v)), nil
	}
	if len(segs) > 1 {
		if f := c.env.Collection.Field(segs[0]); f != nil && f.Options != nil {
			if rel, ok := f.Options.(relationOptions); ok {
				return c.fromIDs(id, f, rel, idList(v), segs[1:])
			}
		}
	}
	return c.valuePath(id, v, segs[1:])
}

// changed reports whether the body value v differs from the stored value of
// field name (normalised through the field type when the field is known).
func (c *compiler) changed(name string, v any) bool {
	cur := c.env.Current
	if cur == nil {
		return true
	}
	if f := c.env.Collection.Field(name); f != nil && f.Options != nil {
		if n, ferr := f.Options.Normalize(f, v); ferr == nil {
			v = n
		}
	}
	a, err1 := json.Marshal(v)
	b, err2 := json.Marshal(cur.Get(name))
	if err1 != nil || err2 != nil {
		return true
	}
	return !bytes.Equal(a, b)
}

func idList(v any) []string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// fromIDs resolves segs in the target of relation field f starting from the
// given (bound) ids.
func (c *compiler) fromIDs(id *Ident, f *schema.Field, rel relationOptions, ids []string, segs []string) (*operand, error) {
	target := rel.Target(c.lookup)
	if target == nil || !schema.ValidIdentifier(target.Name) {
		return nil, errorf(id.P, "the target collection of relation %q is missing", f.Name)
	}
	if ids == nil {
		ids = []string{}
	}
	data, _ := json.Marshal(ids)
	j, t := c.newAlias("_fj"), c.newAlias("_fr")
	src := &source{
		from:  []string{c.d.eachStatic(c.bind(string(data)), j), quoteIdent(target.Name) + " AS " + t},
		where: []string{t + `."id" = ` + j + ".value"},
	}
	return c.path(id, target, t, segs, src, f.Multiple(), 1)
}

// valuePath walks segs into a static value (maps from the body or json
// fields) and makes an operand of the result; a missing key is null.
func (c *compiler) valuePath(id *Ident, v any, segs []string) (*operand, error) {
	v = plain(v)
	for _, s := range segs {
		switch x := v.(type) {
		case map[string]any:
			v = plain(x[s])
		case []any:
			if !isIndex(s) {
				v = nil
				continue
			}
			i := 0
			for _, ch := range s {
				i = i*10 + int(ch-'0')
			}
			if i < len(x) {
				v = plain(x[i])
			} else {
				v = nil
			}
		default:
			v = nil
		}
	}
	return c.value(id, v)
}

// plain turns canonical record values into decoded-JSON shapes.
func plain(v any) any {
	switch x := v.(type) {
	case json.RawMessage:
		if len(x) == 0 {
			return nil
		}
		var out any
		dec := json.NewDecoder(bytes.NewReader(x))
		if dec.Decode(&out) != nil {
			return nil
		}
		return out
	case schema.GeoPoint:
		return map[string]any{"lon": x.Lon, "lat": x.Lat}
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return v
}

// value makes an operand from a static value, applying :length and lists.
func (c *compiler) value(id *Ident, v any) (*operand, error) {
	v = plain(v)
	list, isList := v.([]any)
	if id.Modifier == "length" {
		switch {
		case isList:
			return staticOperand(id.P, float64(len(list))), nil
		case v == nil:
			return staticOperand(id.P, 0.0), nil
		}
		return nil, errorf(id.P, "modifier :length needs a list")
	}
	if !isList {
		if id.Modifier == "each" {
			return nil, errorf(id.P, "modifier :each needs a list")
		}
		return staticOperand(id.P, v), nil
	}
	return c.staticList(id.P, list), nil
}

// staticList is a multi-valued operand over a bound JSON array.
func (c *compiler) staticList(pos int, list []any) *operand {
	t := tNull
	for _, e := range list {
		et := staticOperand(pos, e).typ
		switch {
		case et == tNull:
		case t == tNull:
			t = et
		case t != et:
			t = tText
		}
	}
	if t == tNull {
		t = tText
	}
	items := make([]any, len(list))
	for i, e := range list {
		if s := staticOperand(pos, e); s.val != nil {
			items[i], _ = convStatic(s.val, t)
		}
	}
	data, _ := json.Marshal(items)
	j := c.newAlias("_fj")
	src := &source{from: []string{c.d.eachStatic(c.bind(string(data)), j)}}
	elem := c.d.elem(j+".value", t)
	o := c.column(pos, elem, t)
	o.set = src
	o.isList = true
	return o
}
