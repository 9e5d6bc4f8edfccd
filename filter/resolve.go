package filter

import (
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// MaxHops is the largest number of relations one path may traverse.
const MaxHops = 6

// relationOptions is what the filter needs from relation field options
// (schema.RelationOptions): the target collection.
type relationOptions interface {
	Target(lookup schema.Lookup) *schema.Collection
}

func (c *compiler) operand(o Operand) (*operand, error) {
	switch o := o.(type) {
	case *Literal:
		switch o.Kind {
		case LitString:
			return staticOperand(o.P, o.Str), nil
		case LitNumber:
			return staticOperand(o.P, o.Num), nil
		case LitBool:
			return staticOperand(o.P, o.Bool), nil
		}
		return staticOperand(o.P, nil), nil
	case *Call:
		return c.call(o)
	case *Ident:
		op, err := c.ident(o)
		if err != nil {
			return nil, err
		}
		return c.applyModifier(o, op)
	}
	return nil, errorf(0, "invalid operand")
}

func (c *compiler) ident(id *Ident) (*operand, error) {
	head := id.Path[0]
	if strings.HasPrefix(head, "@") {
		if c.policed() && (head == "@request" || head == "@collection") {
			return nil, &NotAllowedError{Pos: id.P, What: head}
		}
		switch head {
		case "@request":
			return c.request(id)
		case "@collection":
			return c.collectionRef(id)
		}
		if len(id.Path) > 1 {
			return nil, errorf(id.P, "unknown identifier %q", id.Name)
		}
		v, ok := macroValue(head, c.env.Now)
		if !ok {
			return nil, errorf(id.P, "unknown macro %q", head)
		}
		if id.Modifier != "" && id.Modifier != "lower" {
			return nil, errorf(id.P, "modifier :%s cannot be used on %s", id.Modifier, head)
		}
		return staticOperand(id.P, v), nil
	}
	if id.Alias != "" {
		return nil, errorf(id.P, "invalid identifier %q", id.Name)
	}
	return c.path(id, c.env.Collection, c.rootAlias(), id.Path, nil, false, 0)
}

func (c *compiler) collectionRef(id *Ident) (*operand, error) {
	if !c.allowCol {
		return nil, errorf(id.P, "@collection can only be used in rules")
	}
	if len(id.Path) < 3 {
		return nil, errorf(id.P, "%q needs a collection and a field: @collection.name.field", id.Name)
	}
	name := id.Path[1]
	coll := c.lookup(name)
	if coll == nil || coll.Name != name {
		return nil, errorf(id.P, "unknown collection %q", name)
	}
	if !schema.ValidIdentifier(coll.Name) {
		return nil, errorf(id.P, "invalid collection name %q", coll.Name)
	}
	key := id.Alias
	if key == "" {
		key = name
	}
	j := c.colls[key]
	if j == nil {
		if len(c.colls) >= 8 {
			return nil, errorf(id.P, "too many @collection aliases (max 8)")
		}
		// Each alias joins a whole table: a multi-valued hop of its own.
		if err := c.hop(id, 1); err != nil {
			return nil, err
		}
		j = &collJoin{coll: coll, alias: c.newAlias("_fc")}
		c.colls[key] = j
		c.order = append(c.order, key)
	} else if j.coll != coll {
		return nil, errorf(id.P, "@collection alias %q is used for two collections", key)
	}
	return c.path(id, coll, j.alias, id.Path[2:], nil, false, 0)
}

// path resolves segs against coll read through alias. src, multi and hops
// carry the joins already made (for @request.auth.rel.field).
func (c *compiler) path(id *Ident, coll *schema.Collection, alias string, segs []string, src *source, multi bool, hops int) (*operand, error) {
	if src == nil {
		src = &source{}
	}
	cur := alias
	var out *operand
	lengthDone := false
	nested := 0 // multi-valued relation hops of this path
	if multi {
		nested = 1
	}
	for i := 0; i < len(segs); i++ {
		seg := segs[i]
		last := i == len(segs)-1
		f := coll.Field(seg)
		if f == nil || f.Options == nil {
			if back, field, ok := c.backRelation(coll, seg); ok {
				if hops++; hops > MaxHops {
					return nil, errorf(id.P, "too many relation hops in %q (max %d)", id.Name, MaxHops)
				}
				nested++
				if err := c.hop(id, nested); err != nil {
					return nil, err
				}
				tName := c.newAliasName("_fr")
				t := quoteIdent(tName)
				src.from = append(src.from, quoteIdent(back.Name)+" AS "+t)
				if field.Multiple() {
					src.where = append(src.where, c.d.arrayContains(t+"."+quoteIdent(field.Name), cur+`."id"`))
				} else {
					src.where = append(src.where, t+"."+quoteIdent(field.Name)+" = "+cur+`."id"`)
				}
				if cond, err := c.readable(id, back, tName); err != nil {
					return nil, err
				} else if cond != "" {
					src.where = append(src.where, cond)
				}
				if last && id.Modifier == "length" {
					if multi {
						return nil, errorf(id.P, ":length of a back-relation cannot follow a multiple relation")
					}
					out = &operand{pos: id.P, typ: tNumber}
					q := "(SELECT COUNT(*)" + src.clause() + ")"
					out.sql = func(as vtype) string { return c.conv(q, tNumber, as) }
					return out, nil
				}
				multi = true
				cur, coll = t, back
				if last {
					out = c.column(id.P, cur+`."id"`, tText)
				}
				continue
			}
			return nil, errorf(id.P, "unknown field %q in collection %q", seg, coll.Name)
		}
		if !schema.ValidIdentifier(f.Name) {
			return nil, errorf(id.P, "invalid field name %q", f.Name)
		}
		if f.Hidden && c.policed() {
			return nil, &NotAllowedError{Pos: id.P, What: "hidden field " + f.Name}
		}
		col := cur + "." + quoteIdent(f.Name)
		st := f.Storage()
		if !last {
			if rel, ok := f.Options.(relationOptions); ok {
				target := rel.Target(c.lookup)
				if target == nil || !schema.ValidIdentifier(target.Name) {
					return nil, errorf(id.P, "the target collection of relation %q is missing", f.Name)
				}
				if hops++; hops > MaxHops {
					return nil, errorf(id.P, "too many relation hops in %q (max %d)", id.Name, MaxHops)
				}
				if st == schema.StoreJSONArray {
					nested++
				}
				if err := c.hop(id, nested); err != nil {
					return nil, err
				}
				tName := c.newAliasName("_fr")
				t := quoteIdent(tName)
				if st == schema.StoreJSONArray {
					j := c.newAlias("_fj")
					src.from = append(src.from, c.d.each(col, j), quoteIdent(target.Name)+" AS "+t)
					src.where = append(src.where, t+`."id" = `+j+".value")
					multi = true
				} else {
					src.from = append(src.from, quoteIdent(target.Name)+" AS "+t)
					src.where = append(src.where, t+`."id" = `+col)
				}
				if cond, err := c.readable(id, target, tName); err != nil {
					return nil, err
				} else if cond != "" {
					src.where = append(src.where, cond)
				}
				cur, coll = t, target
				continue
			}
			if st == schema.StoreJSON {
				keys := segs[i+1:]
				if len(keys) > 32 {
					return nil, errorf(id.P, "json path %q is too deep", id.Name)
				}
				out = c.jsonOperand(id.P, col, keys)
				break
			}
			return nil, errorf(id.P, "field %q of collection %q has no sub-field %q", f.Name, coll.Name, segs[i+1])
		}
		if f.Type == "password" {
			st = schema.StoreNone
		}
		switch st {
		case schema.StoreNone:
			return nil, errorf(id.P, "field %q cannot be used in filters", f.Name)
		case schema.StoreJSONArray:
			if id.Modifier == "length" {
				out = c.column(id.P, c.d.arrayLength(col), tNumber)
				lengthDone = true
				break
			}
			j := c.newAlias("_fj")
			src.from = append(src.from, c.d.each(col, j))
			multi = true
			out = c.column(id.P, j+".value", tText)
		case schema.StoreJSON:
			out = c.jsonOperand(id.P, col, nil)
		default:
			if f.Name == "email" && coll.IsAuth() && c.policed() {
				guarded, err := c.emailColumn(id, coll, unquote(cur), col)
				if err != nil {
					return nil, err
				}
				out = c.column(id.P, guarded, storageType(st))
				break
			}
			out = c.column(id.P, col, storageType(st))
			// Columns of real tables are NOT NULL; view columns may be NULL.
			out.notNull = len(src.from) == 0 && !coll.IsView()
		}
	}
	if out == nil {
		return nil, errorf(id.P, "invalid path %q", id.Name)
	}
	if id.Modifier == "length" && !lengthDone {
		return nil, errorf(id.P, "modifier :length needs a multi-valued field")
	}
	if id.Modifier == "each" && !multi {
		return nil, errorf(id.P, "modifier :each needs a multi-valued field")
	}
	if id.Modifier == "isset" || id.Modifier == "changed" {
		return nil, errorf(id.P, "modifier :%s can only be used with @request.body fields", id.Modifier)
	}
	if len(src.from) == 0 {
		return out, nil
	}
	if multi {
		out.set = src
		return out, nil
	}
	inner := out.sql
	clause := src.clause()
	out.sql = func(as vtype) string { return "(SELECT " + inner(as) + clause + " LIMIT 1)" }
	return out, nil
}

func (c *compiler) jsonOperand(pos int, col string, keys []string) *operand {
	path := c.bind(c.d.jsonPath(keys))
	return &operand{pos: pos, typ: tJSON, sql: func(as vtype) string {
		return c.d.jsonExtract(col, path, as)
	}}
}

// unquote is a generated or validated alias without its quotes.
func unquote(alias string) string { return strings.Trim(alias, `"`) }

// backRelation resolves "<collection>_via_<field>" seen from coll.
func (c *compiler) backRelation(coll *schema.Collection, seg string) (*schema.Collection, *schema.Field, bool) {
	rest := seg
	offset := 0
	for {
		i := strings.Index(rest, "_via_")
		if i < 0 {
			return nil, nil, false
		}
		name, field := seg[:offset+i], seg[offset+i+5:]
		offset += i + 5
		rest = rest[i+5:]
		back := c.lookup(name)
		if back == nil || back.Name != name || !schema.ValidIdentifier(back.Name) {
			continue
		}
		f := back.Field(field)
		if f == nil || f.Options == nil || !schema.ValidIdentifier(f.Name) {
			continue
		}
		rel, ok := f.Options.(relationOptions)
		if !ok {
			continue
		}
		if t := rel.Target(c.lookup); t == nil || (t != coll && t.ID != coll.ID) || t.Name != coll.Name {
			continue
		}
		return back, f, true
	}
}

func (c *compiler) applyModifier(id *Ident, o *operand) (*operand, error) {
	switch id.Modifier {
	case "lower":
		if o.static {
			if s, ok := o.val.(string); ok {
				o.val = strings.ToLower(s)
			}
			return o, nil
		}
		inner, t := o.sql, o.typ
		want := tText
		if t == tJSON {
			want = tTextAny
		}
		o.typ = tText
		o.sql = func(as vtype) string { return c.conv("LOWER("+inner(want)+")", tText, as) }
	case "each":
		if o.set == nil {
			return nil, errorf(id.P, "modifier :each needs a multi-valued field")
		}
	}
	return o, nil
}
