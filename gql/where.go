package gql

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// whereToFilter compiles a bool_exp argument into an expression of
// Plinth's filter language, so that it goes through the same parser,
// client policing and SQL compiler as a REST filter: values become
// literals of the expression, which the compiler binds as parameters. It
// returns "" for an expression that holds for every record.
func whereToFilter(ct *collType, where map[string]any) (string, error) {
	e, err := boolExp(ct, where)
	if err != nil || e == nil {
		return "", err
	}
	return render(e), nil
}

// alwaysFalse is an expression no record satisfies (an empty _in list).
var alwaysFalse filter.Expr = &filter.Compare{Op: "=", Left: num(1), Right: num(0)}

func num(f float64) *filter.Literal { return &filter.Literal{Kind: filter.LitNumber, Num: f} }

func boolExp(ct *collType, where map[string]any) (filter.Expr, error) {
	var terms []filter.Expr
	for _, key := range sortedKeys(where) {
		v := where[key]
		if v == nil {
			continue
		}
		switch key {
		case "_and", "_or":
			list, _ := v.([]any)
			var sub []filter.Expr
			always := false
			for _, item := range list {
				m, _ := item.(map[string]any)
				e, err := boolExp(ct, m)
				if err != nil {
					return nil, err
				}
				if e == nil {
					// A branch that holds for every record: the _or holds
					// for every record, the _and ignores it.
					always = always || key == "_or"
					continue
				}
				sub = append(sub, e)
			}
			if always {
				continue
			}
			if len(sub) > 0 {
				op := "&&"
				if key == "_or" {
					op = "||"
				}
				terms = append(terms, logical(op, sub))
			} else if key == "_or" && len(list) == 0 {
				// An empty _or holds for no record (as in Hasura).
				terms = append(terms, alwaysFalse)
			}
		case "_not":
			m, _ := v.(map[string]any)
			e, err := boolExp(ct, m)
			if err != nil {
				return nil, err
			}
			if e == nil {
				terms = append(terms, alwaysFalse)
			} else {
				terms = append(terms, negate(ct, e))
			}
		default:
			f := ct.where[key]
			if f == nil {
				return nil, fmt.Errorf("unknown field %q in where", key)
			}
			m, _ := v.(map[string]any)
			for _, op := range sortedKeys(m) {
				e, err := comparison(f, op, m[op])
				if err != nil {
					return nil, err
				}
				if e != nil {
					terms = append(terms, e)
				}
			}
		}
	}
	switch len(terms) {
	case 0:
		return nil, nil
	case 1:
		return terms[0], nil
	}
	return logical("&&", terms), nil
}

func logical(op string, terms []filter.Expr) filter.Expr {
	if len(terms) == 1 {
		return terms[0]
	}
	return &filter.Logical{Op: op, Terms: terms}
}

// negate is De Morgan's rewrite of e: the filter language has no "not".
// On a field holding a list the positive operators hold when any item
// compares (?=, ?~) and != and !~ when every item does, so negating flips
// between the two forms.
func negate(ct *collType, e filter.Expr) filter.Expr {
	switch x := e.(type) {
	case *filter.Logical:
		op := "||"
		if x.Op == "||" {
			op = "&&"
		}
		terms := make([]filter.Expr, len(x.Terms))
		for i, t := range x.Terms {
			terms[i] = negate(ct, t)
		}
		return &filter.Logical{Op: op, Terms: terms}
	case *filter.Compare:
		inv := map[string]string{"=": "!=", "!=": "=", ">": "<=", ">=": "<", "<": ">=", "<=": ">", "~": "!~", "!~": "~"}
		c := *x
		c.Op = inv[x.Op]
		if id, ok := x.Left.(*filter.Ident); ok {
			if f := ct.c.Field(id.Name); f != nil && x.Right.(*filter.Literal).Kind != filter.LitNull {
				c.Any = anyForm(f, c.Op)
			}
		}
		return &c
	}
	return e
}

// anyForm reports whether a comparison with op on f takes the "any item"
// form: the positive operators on a list field.
func anyForm(f *schema.Field, op string) bool {
	return isList(f) && op != "!=" && op != "!~"
}

// comparison compiles one operator of a comparison input for field f.
func comparison(f *schema.Field, op string, v any) (filter.Expr, error) {
	if v == nil && op != "_is_null" {
		return nil, nil
	}
	id := &filter.Ident{Name: f.Name, Path: []string{f.Name}}
	cmp := func(o string, val any) (filter.Expr, error) {
		lit, err := literal(f, val)
		if err != nil {
			return nil, err
		}
		return &filter.Compare{Op: o, Any: anyForm(f, o), Left: id, Right: lit}, nil
	}
	switch op {
	case "_eq":
		return cmp("=", v)
	case "_neq":
		return cmp("!=", v)
	case "_gt":
		return cmp(">", v)
	case "_gte":
		return cmp(">=", v)
	case "_lt":
		return cmp("<", v)
	case "_lte":
		return cmp("<=", v)
	case "_like", "_ilike":
		return cmp("~", v)
	case "_in", "_nin":
		list, _ := v.([]any)
		if len(list) == 0 {
			if op == "_in" {
				return alwaysFalse, nil
			}
			return nil, nil
		}
		o, join := "=", "||"
		if op == "_nin" {
			o, join = "!=", "&&"
		}
		var terms []filter.Expr
		for _, item := range list {
			e, err := cmp(o, item)
			if err != nil {
				return nil, err
			}
			terms = append(terms, e)
		}
		return logical(join, terms), nil
	case "_is_null":
		b, _ := v.(bool)
		o := "="
		if !b {
			o = "!="
		}
		return &filter.Compare{Op: o, Left: id, Right: &filter.Literal{Kind: filter.LitNull}}, nil
	}
	return nil, fmt.Errorf("unknown operator %q", op)
}

// literal is the filter literal of a comparison value.
func literal(f *schema.Field, v any) (*filter.Literal, error) {
	switch x := v.(type) {
	case string:
		return &filter.Literal{Kind: filter.LitString, Str: x}, nil
	case bool:
		return &filter.Literal{Kind: filter.LitBool, Bool: x}, nil
	case float64:
		return num(x), nil
	case int64:
		return num(float64(x)), nil
	case int:
		return num(float64(x)), nil
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("field %s: invalid number %q", f.Name, x)
		}
		return num(n), nil
	}
	return nil, fmt.Errorf("field %s: unsupported value %v", f.Name, v)
}

// render writes e in the filter language's syntax.
func render(e filter.Expr) string {
	var b strings.Builder
	renderExpr(&b, e)
	return b.String()
}

func renderExpr(b *strings.Builder, e filter.Expr) {
	switch x := e.(type) {
	case *filter.Logical:
		b.WriteByte('(')
		for i, t := range x.Terms {
			if i > 0 {
				b.WriteString(" " + x.Op + " ")
			}
			renderExpr(b, t)
		}
		b.WriteByte(')')
	case *filter.Compare:
		renderOperand(b, x.Left)
		b.WriteByte(' ')
		if x.Any {
			b.WriteByte('?')
		}
		b.WriteString(x.Op)
		b.WriteByte(' ')
		renderOperand(b, x.Right)
	}
}

func renderOperand(b *strings.Builder, o filter.Operand) {
	switch x := o.(type) {
	case *filter.Ident:
		b.WriteString(x.Name)
	case *filter.Literal:
		switch x.Kind {
		case filter.LitString:
			b.WriteString(filter.Quote(x.Str))
		case filter.LitNumber:
			b.WriteString(strconv.FormatFloat(x.Num, 'g', -1, 64))
		case filter.LitBool:
			b.WriteString(strconv.FormatBool(x.Bool))
		case filter.LitNull:
			b.WriteString("null")
		}
	}
}

// orderToSort compiles order_by into the sort parameter.
func orderToSort(ct *collType, list []any) (string, error) {
	var parts []string
	for _, item := range list {
		m, _ := item.(map[string]any)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		// An input object's fields come in the query's order only through
		// the AST; a map has none, so a multi-key item is sorted by name.
		sort.Strings(keys)
		for _, k := range keys {
			f := ct.order[k]
			dir, _ := m[k].(string)
			if f == nil || dir == "" {
				continue
			}
			if dir == "desc" {
				parts = append(parts, "-"+f.Name)
			} else {
				parts = append(parts, f.Name)
			}
		}
	}
	return strings.Join(parts, ","), nil
}
