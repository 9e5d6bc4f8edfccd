package gql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// model is the GraphQL schema of one store schema snapshot and what the
// executor needs to map its names back to collections and fields. It is
// immutable once built.
type model struct {
	snap   *store.Schema
	schema *ast.Schema
	sdl    string
	// roots maps "Query.posts", "Mutation.insert_posts_one", … to what the
	// field does.
	roots map[string]*rootField
	// objects maps a record type's GraphQL name to its collection.
	objects map[string]*collType
	// byID maps collection ids to their record types.
	byID map[string]*collType
}

type rootKind int

const (
	rootList rootKind = iota
	rootByPK
	rootAggregate
	rootInsert
	rootUpdate
	rootDelete
	rootEvents
	rootAuthPassword
	rootAuthRefresh
)

type rootField struct {
	kind rootKind
	coll *collType
}

// collType is one collection's GraphQL names.
type collType struct {
	c *schema.Collection
	// base is the sanitised collection name every other name derives from.
	base string
	// name is the record object type.
	name   string
	fields []*outField
	byName map[string]*outField
	// where maps the fields of the bool_exp input to record fields ("id"
	// included); order the same for order_by.
	where map[string]*schema.Field
	order map[string]*schema.Field
	// input maps the fields of the insert/set inputs to record body keys.
	input map[string]string
}

type fieldKind int

const (
	fieldValue    fieldKind = iota // a value of the record's JSON
	fieldRelation                  // the record(s) a relation field points at
	fieldBack                      // the records whose relation points here
)

// outField is one field of a record object type.
type outField struct {
	name string
	kind fieldKind
	// key is the record JSON key of a value field.
	key string
	// expand is the record service's expand name of a relation or
	// back-relation ("author", "comments_via_post").
	expand string
	// many tells a list of records from one.
	many bool
	// target is the collection of the related records.
	target *schema.Collection
}

// Built-in type and root field names that no collection can take.
var reservedTypes = []string{
	"String", "Int", "Float", "Boolean", "ID", "JSON", "Query", "Mutation", "Subscription",
	"order_by", "String_comparison_exp", "Float_comparison_exp", "Boolean_comparison_exp",
	"auth_result",
}

var reservedRoots = []string{"auth_with_password", "auth_refresh"}

// sanitize turns a collection or field name into a GraphQL name: letters,
// digits and underscores, not starting with a digit nor with "__" (which
// GraphQL reserves for introspection).
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	if strings.HasPrefix(out, "__") {
		out = "c" + out[1:]
	}
	return out
}

// derived lists the type names and root field names a collection with
// GraphQL base name b takes.
func derived(b string) (types, roots []string) {
	types = []string{b, b + "_bool_exp", b + "_order_by", b + "_insert_input", b + "_set_input",
		b + "_pk_columns_input", b + "_aggregate", b + "_aggregate_fields", b + "_event"}
	roots = []string{b, b + "_by_pk", b + "_aggregate", "insert_" + b + "_one", "update_" + b + "_by_pk",
		"delete_" + b + "_by_pk", b + "_events"}
	return types, roots
}

// isList reports whether a value field holds a list.
func isList(f *schema.Field) bool { return f.Multiple() }

// scalarOf is the GraphQL type of a value field (nullable).
func scalarOf(f *schema.Field) string {
	switch f.Type {
	case "number":
		return "Float"
	case "bool":
		return "Boolean"
	case "json", "geoPoint":
		return "JSON"
	}
	if isList(f) {
		return "[String!]"
	}
	return "String"
}

// comparisonOf is the comparison input of a field in bool_exp, "" when
// the field cannot be compared.
func comparisonOf(f *schema.Field) string {
	switch f.Type {
	case "number":
		return "Float_comparison_exp"
	case "bool":
		return "Boolean_comparison_exp"
	case "json", "geoPoint", "password":
		return ""
	}
	return "String_comparison_exp"
}

// inputOf is the GraphQL input type of a writable field, "" when GraphQL
// cannot write it (files need a multipart upload: use REST).
func inputOf(f *schema.Field) string {
	switch f.Type {
	case "autodate", "file":
		return ""
	case "number":
		return "Float"
	case "bool":
		return "Boolean"
	case "json", "geoPoint":
		return "JSON"
	}
	if isList(f) {
		return "[String!]"
	}
	return "String"
}

// visible reports whether a record field is part of the GraphQL record
// type: hidden fields, passwords and fields without storage never are, for
// anyone (superusers read hidden fields through REST), so that neither a
// query nor introspection can reach them.
func visible(f *schema.Field) bool {
	return !f.Hidden && f.Type != "password" && f.Storage() != schema.StoreNone
}

// buildModel builds the GraphQL schema of snap. Collections are named in
// order of their names (then ids); a collection whose sanitised name, or
// any name derived from it, is already taken gets the first free suffix
// _2, _3, … for all of its names. Fields are named in schema order, then
// back-relations by collection and field name, with the same suffixes on
// a clash.
func buildModel(snap *store.Schema) (*model, error) {
	m := &model{snap: snap, roots: map[string]*rootField{}, objects: map[string]*collType{}}
	list := append([]*schema.Collection(nil), snap.Collections()...)
	sort.Slice(list, func(i, j int) bool {
		if list[i].Name != list[j].Name {
			return list[i].Name < list[j].Name
		}
		return list[i].ID < list[j].ID
	})
	takenTypes := map[string]bool{}
	takenRoots := map[string]bool{}
	for _, t := range reservedTypes {
		takenTypes[t] = true
	}
	for _, r := range reservedRoots {
		takenRoots[r] = true
	}
	byID := map[string]*collType{}
	var colls []*collType
	for _, c := range list {
		base := sanitize(c.Name)
		for n := 2; ; n++ {
			types, roots := derived(base)
			if !anyTaken(takenTypes, types) && !anyTaken(takenRoots, roots) {
				for _, t := range types {
					takenTypes[t] = true
				}
				for _, r := range roots {
					takenRoots[r] = true
				}
				break
			}
			base = sanitize(c.Name) + "_" + strconv.Itoa(n)
		}
		ct := &collType{c: c, base: base, name: base, byName: map[string]*outField{},
			where: map[string]*schema.Field{}, order: map[string]*schema.Field{}, input: map[string]string{}}
		byID[c.ID] = ct
		colls = append(colls, ct)
	}
	for _, ct := range colls {
		addFields(ct, list, byID)
		m.objects[ct.name] = ct
	}
	var b strings.Builder
	writeSDL(&b, colls, byID)
	m.sdl = b.String()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "plinth", Input: m.sdl})
	if err != nil {
		return nil, fmt.Errorf("graphql schema: %w", err)
	}
	m.schema = s
	m.byID = byID
	for _, ct := range colls {
		b := ct.base
		m.roots["Query."+b] = &rootField{rootList, ct}
		m.roots["Query."+b+"_by_pk"] = &rootField{rootByPK, ct}
		m.roots["Query."+b+"_aggregate"] = &rootField{rootAggregate, ct}
		if !ct.c.IsView() {
			m.roots["Mutation.insert_"+b+"_one"] = &rootField{rootInsert, ct}
			m.roots["Mutation.update_"+b+"_by_pk"] = &rootField{rootUpdate, ct}
			m.roots["Mutation.delete_"+b+"_by_pk"] = &rootField{rootDelete, ct}
		}
		m.roots["Subscription."+b+"_events"] = &rootField{rootEvents, ct}
	}
	m.roots["Mutation.auth_with_password"] = &rootField{kind: rootAuthPassword}
	m.roots["Mutation.auth_refresh"] = &rootField{kind: rootAuthRefresh}
	return m, nil
}

func anyTaken(taken map[string]bool, names []string) bool {
	for _, n := range names {
		if taken[n] {
			return true
		}
	}
	return false
}

// addFields names the output, filter, order and input fields of ct.
func addFields(ct *collType, all []*schema.Collection, byID map[string]*collType) {
	taken := map[string]bool{"collectionId": true, "collectionName": true}
	add := func(f *outField) {
		base := f.name
		for n := 2; taken[f.name]; n++ {
			f.name = base + "_" + strconv.Itoa(n)
		}
		taken[f.name] = true
		ct.fields = append(ct.fields, f)
		ct.byName[f.name] = f
	}
	ct.fields = append(ct.fields, &outField{name: "collectionId", key: "collectionId"}, &outField{name: "collectionName", key: "collectionName"})
	ct.byName["collectionId"], ct.byName["collectionName"] = ct.fields[0], ct.fields[1]
	inTaken := map[string]bool{}
	for _, f := range ct.c.Fields {
		if !visible(f) {
			if f.Type == "password" && !f.System || f.Name == "password" {
				ct.input[uniqueIn(inTaken, sanitize(f.Name))] = f.Name
			}
			continue
		}
		name := sanitize(f.Name)
		if ro, ok := f.Options.(*schema.RelationOptions); ok && byID[ro.CollectionID] != nil {
			add(&outField{name: name, kind: fieldRelation, expand: f.Name, many: f.Multiple(), target: byID[ro.CollectionID].c})
		} else {
			add(&outField{name: name, key: f.Name})
		}
		// The where and order_by names follow the output name.
		out := ct.fields[len(ct.fields)-1].name
		if comparisonOf(f) != "" {
			ct.where[out] = f
			if !isList(f) {
				ct.order[out] = f
			}
		}
		if inputOf(f) != "" && (f.Name == "id" || !f.System || ct.c.IsAuth() && (f.Name == "email" || f.Name == "emailVisibility" || f.Name == "verified")) {
			ct.input[uniqueIn(inTaken, out)] = f.Name
		}
	}
	if ct.c.IsAuth() {
		ct.input[uniqueIn(inTaken, "passwordConfirm")] = "passwordConfirm"
	}
	for _, other := range all {
		for _, bf := range other.Fields {
			ro, ok := bf.Options.(*schema.RelationOptions)
			if !ok || ro.CollectionID != ct.c.ID || !visible(bf) || byID[other.ID] == nil {
				continue
			}
			name := other.Name + "_via_" + bf.Name
			add(&outField{name: sanitize(name), kind: fieldBack, expand: name, many: true, target: other})
		}
	}
}

func uniqueIn(taken map[string]bool, name string) string {
	base := name
	for n := 2; taken[name]; n++ {
		name = base + "_" + strconv.Itoa(n)
	}
	taken[name] = true
	return name
}

const preludeSDL = `
"Any JSON value: json and geoPoint fields."
scalar JSON

enum order_by { asc desc }

"""Compares a text-like field. On a field holding a list (multiple select,
relation or file), _eq, _neq, _like, _in and _nin hold when any item does.
_like and _ilike both take Plinth's ~ (contains; % and _ as wildcards)."""
input String_comparison_exp {
  _eq: String _neq: String _gt: String _gte: String _lt: String _lte: String
  _in: [String!] _nin: [String!] _like: String _ilike: String _is_null: Boolean
}

input Float_comparison_exp {
  _eq: Float _neq: Float _gt: Float _gte: Float _lt: Float _lte: Float
  _in: [Float!] _nin: [Float!] _is_null: Boolean
}

input Boolean_comparison_exp { _eq: Boolean _neq: Boolean _is_null: Boolean }

"A successful authentication: the token and the record as it sees itself (REST's JSON)."
type auth_result { token: String! record: JSON! meta: JSON }
`

// writeSDL writes the schema's SDL for colls.
func writeSDL(b *strings.Builder, colls []*collType, byID map[string]*collType) {
	b.WriteString(preludeSDL)
	for _, ct := range colls {
		c, n := ct.c, ct.base
		fmt.Fprintf(b, "\n%s\ntype %s {\n", quoteDesc("A record of the "+c.Type+" collection "+c.Name+"."), n)
		for _, f := range ct.fields {
			switch f.kind {
			case fieldValue:
				t := "String!"
				if f.key != "collectionId" && f.key != "collectionName" && f.key != "id" {
					t = scalarOf(c.Field(f.key))
				}
				fmt.Fprintf(b, "  %s: %s\n", f.name, t)
			case fieldRelation:
				t := byID[f.target.ID].name
				if f.many {
					fmt.Fprintf(b, "  %s: [%s!]!\n", f.name, t)
				} else {
					fmt.Fprintf(b, "  %s: %s\n", f.name, t)
				}
			case fieldBack:
				fmt.Fprintf(b, "  %s: [%s!]!\n", f.name, byID[f.target.ID].name)
			}
		}
		b.WriteString("}\n")
		fmt.Fprintf(b, "input %s_bool_exp {\n  _and: [%s_bool_exp!]\n  _or: [%s_bool_exp!]\n  _not: %s_bool_exp\n", n, n, n, n)
		for _, name := range sortedKeys(ct.where) {
			fmt.Fprintf(b, "  %s: %s\n", name, comparisonOf(ct.where[name]))
		}
		b.WriteString("}\n")
		fmt.Fprintf(b, "input %s_order_by {\n", n)
		for _, name := range sortedKeys(ct.order) {
			fmt.Fprintf(b, "  %s: order_by\n", name)
		}
		b.WriteString("}\n")
		for _, kind := range []string{"insert", "set"} {
			fmt.Fprintf(b, "input %s_%s_input {\n", n, kind)
			wrote := 0
			for _, name := range sortedKeys(ct.input) {
				key := ct.input[name]
				if kind == "set" && key == "id" {
					continue
				}
				t := "String"
				if f := c.Field(key); f != nil && f.Type != "password" {
					t = inputOf(f)
				}
				fmt.Fprintf(b, "  %s: %s\n", name, t)
				wrote++
			}
			if wrote == 0 {
				b.WriteString("  _: Boolean\n")
			}
			b.WriteString("}\n")
		}
		fmt.Fprintf(b, "input %s_pk_columns_input { id: String! }\n", n)
		fmt.Fprintf(b, "type %s_aggregate { aggregate: %s_aggregate_fields! }\n", n, n)
		fmt.Fprintf(b, "type %s_aggregate_fields { count: Int! }\n", n)
		fmt.Fprintf(b, "type %s_event { action: String! record: %s! }\n", n, n)
	}
	b.WriteString("\ntype Query {\n")
	for _, ct := range colls {
		n := ct.base
		fmt.Fprintf(b, "  %s\n  %s(filter: String, where: %s_bool_exp, order_by: [%s_order_by!], limit: Int, offset: Int): [%s!]!\n",
			quoteDesc("Lists the records of "+ct.c.Name+" the caller may list (its list rule)."), n, n, n, n)
		fmt.Fprintf(b, "  %s_by_pk(id: String!): %s\n", n, n)
		fmt.Fprintf(b, "  %s_aggregate(filter: String, where: %s_bool_exp): %s_aggregate!\n", n, n, n)
	}
	b.WriteString("}\n\ntype Mutation {\n")
	for _, ct := range colls {
		if ct.c.IsView() {
			continue
		}
		n := ct.base
		fmt.Fprintf(b, "  insert_%s_one(object: %s_insert_input!): %s\n", n, n, n)
		fmt.Fprintf(b, "  update_%s_by_pk(pk_columns: %s_pk_columns_input!, _set: %s_set_input!): %s\n", n, n, n, n)
		fmt.Fprintf(b, "  delete_%s_by_pk(id: String!): %s\n", n, n)
	}
	b.WriteString("  auth_with_password(collection: String!, identity: String!, password: String!, mfaId: String): auth_result!\n")
	b.WriteString("  auth_refresh(collection: String): auth_result!\n}\n\ntype Subscription {\n")
	for _, ct := range colls {
		fmt.Fprintf(b, "  %s_events(filter: String): %s_event!\n", ct.base, ct.base)
	}
	b.WriteString("}\n")
}

func quoteDesc(s string) string { return strconv.Quote(s) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
