package gql

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
)

// introspect resolves __schema and __type over gqlgen's introspection
// wrappers of the model's schema.
func (x *run) introspect(f graphql.CollectedField, path ast.Path) (any, bool) {
	s := introspection.WrapSchema(x.e.m.schema)
	if f.Name == "__schema" {
		return x.introObj("__Schema", s, f.Selections), true
	}
	name, _ := f.ArgumentMap(x.op.Variables)["name"].(string)
	def := x.e.m.schema.Types[name]
	if def == nil {
		return nil, true
	}
	return x.introObj("__Type", introspection.WrapTypeFromDef(x.e.m.schema, def), f.Selections), true
}

func (x *run) introList(typ string, n int, at func(i int) any, sel ast.SelectionSet) []any {
	out := make([]any, n)
	for i := range n {
		out[i] = x.introObj(typ, at(i), sel)
	}
	return out
}

// introObj resolves sel on one introspection value of GraphQL type typ.
func (x *run) introObj(typ string, v any, sel ast.SelectionSet) any {
	if v == nil {
		return nil
	}
	o := &obj{}
	for _, f := range x.fields(typ, sel) {
		args := f.ArgumentMap(x.op.Variables)
		deprecated, _ := args["includeDeprecated"].(bool)
		var val any
		switch f.Name {
		case "__typename":
			val = typ
		default:
			val = x.introField(typ, v, f, deprecated)
		}
		o.set(f.Alias, val)
	}
	return o
}

func (x *run) introField(typ string, v any, f graphql.CollectedField, deprecated bool) any {
	sel := f.Selections
	switch t := v.(type) {
	case *introspection.Schema:
		switch f.Name {
		case "description":
			return t.Description()
		case "types":
			types := t.Types()
			return x.introList("__Type", len(types), func(i int) any { return &types[i] }, sel)
		case "queryType":
			return x.introObj("__Type", t.QueryType(), sel)
		case "mutationType":
			return x.introObj("__Type", nilType(t.MutationType()), sel)
		case "subscriptionType":
			return x.introObj("__Type", nilType(t.SubscriptionType()), sel)
		case "directives":
			ds := t.Directives()
			return x.introList("__Directive", len(ds), func(i int) any { return &ds[i] }, sel)
		}
	case *introspection.Type:
		switch f.Name {
		case "kind":
			return t.Kind()
		case "name":
			return t.Name()
		case "description":
			return t.Description()
		case "specifiedByURL":
			return t.SpecifiedByURL()
		case "isOneOf":
			return t.IsOneOf()
		case "fields":
			if t.Kind() != "OBJECT" && t.Kind() != "INTERFACE" {
				return nil
			}
			fs := t.Fields(deprecated)
			return x.introList("__Field", len(fs), func(i int) any { return &fs[i] }, sel)
		case "inputFields":
			if t.Kind() != "INPUT_OBJECT" {
				return nil
			}
			fs := t.VisibleInputFields(deprecated)
			return x.introList("__InputValue", len(fs), func(i int) any { return &fs[i] }, sel)
		case "interfaces":
			if t.Kind() != "OBJECT" && t.Kind() != "INTERFACE" {
				return nil
			}
			ts := t.Interfaces()
			return x.introList("__Type", len(ts), func(i int) any { return &ts[i] }, sel)
		case "possibleTypes":
			if t.Kind() != "UNION" && t.Kind() != "INTERFACE" {
				return nil
			}
			ts := t.PossibleTypes()
			return x.introList("__Type", len(ts), func(i int) any { return &ts[i] }, sel)
		case "enumValues":
			if t.Kind() != "ENUM" {
				return nil
			}
			es := t.EnumValues(deprecated)
			return x.introList("__EnumValue", len(es), func(i int) any { return &es[i] }, sel)
		case "ofType":
			return x.introObj("__Type", nilType(t.OfType()), sel)
		}
	case *introspection.Field:
		switch f.Name {
		case "name":
			return t.Name
		case "description":
			return t.Description()
		case "args":
			as := t.VisibleArgs(deprecated)
			return x.introList("__InputValue", len(as), func(i int) any { return &as[i] }, sel)
		case "type":
			return x.introObj("__Type", t.Type, sel)
		case "isDeprecated":
			return t.IsDeprecated()
		case "deprecationReason":
			return t.DeprecationReason()
		}
	case *introspection.InputValue:
		switch f.Name {
		case "name":
			return t.Name
		case "description":
			return t.Description()
		case "type":
			return x.introObj("__Type", t.Type, sel)
		case "defaultValue":
			return t.DefaultValue
		case "isDeprecated":
			return t.IsDeprecated()
		case "deprecationReason":
			return t.DeprecationReason()
		}
	case *introspection.EnumValue:
		switch f.Name {
		case "name":
			return t.Name
		case "description":
			return t.Description()
		case "isDeprecated":
			return t.IsDeprecated()
		case "deprecationReason":
			return t.DeprecationReason()
		}
	case *introspection.Directive:
		switch f.Name {
		case "name":
			return t.Name
		case "description":
			return t.Description()
		case "locations":
			return t.Locations
		case "args":
			as := t.VisibleArgs(deprecated)
			return x.introList("__InputValue", len(as), func(i int) any { return &as[i] }, sel)
		case "isRepeatable":
			return t.IsRepeatable
		}
	}
	return nil
}

// nilType turns a typed nil *Type into an untyped nil, so introObj sees
// "no type" and answers null.
func nilType(t *introspection.Type) any {
	if t == nil {
		return nil
	}
	return t
}
