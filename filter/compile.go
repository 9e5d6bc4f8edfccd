package filter

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plinthdev/plinth/schema"
)

// RequestInfo is what rules may read about the current request.
type RequestInfo struct {
	Auth    *schema.Record
	Body    map[string]any
	Query   map[string]string
	Headers map[string]string
	Method  string
	Context string
}

// Env is the context an expression is compiled in.
type Env struct {
	Dialect    Dialect
	Collection *schema.Collection // root collection
	Alias      string             // SQL alias of the root table in the enclosing query
	Lookup     schema.Lookup      // other collections by id or name
	Request    *RequestInfo       // nil: @request.* is an error "not available here"
	Current    *schema.Record     // for :changed (the stored record during update); may be nil
	Now        time.Time
	// Client, when set, marks the expression as written by an API client
	// and polices it (see Client); rules are compiled without one.
	Client *Client
}

// Compile compiles e to a boolean SQL expression for env.Dialect, adding
// its values to p. Errors are *Error.
func Compile(e Expr, env *Env, p *Params) (string, error) {
	c, err := newCompiler(env, true)
	if err != nil {
		return "", err
	}
	if e == nil {
		return "", errorf(0, "empty filter")
	}
	if p == nil {
		return "", errorf(0, "no parameter list")
	}
	sql, err := c.compileTop(e)
	if err != nil {
		return "", err
	}
	if p.Dialect == nil {
		p.Dialect = c.d
	}
	p.ClientCost += c.cost
	return finalize(sql, c.vals, p), nil
}

// Check validates a filter (rule=false) or a rule (rule=true, which may use
// @request.* and @collection.*) against collection c without producing SQL.
func Check(src string, c *schema.Collection, lookup schema.Lookup, rule bool) error {
	e, err := Parse(src)
	if err != nil {
		return err
	}
	env := &Env{Dialect: SQLite, Collection: c, Alias: "x", Lookup: lookup, Now: time.Now()}
	if rule {
		env.Request = &RequestInfo{}
	}
	comp, err := newCompiler(env, rule)
	if err != nil {
		return err
	}
	comp.checking = true
	_, err = comp.compileTop(e)
	return err
}

type compiler struct {
	env      *Env
	d        Dialect
	lookup   schema.Lookup
	vals     []any
	nalias   int
	allowCol bool // @collection allowed
	checking bool // Check: @request.auth paths are not validated
	colls    map[string]*collJoin
	order    []string
	cost     int // relation joins so far, weighed (see Client.MaxCost)
}

type collJoin struct {
	coll  *schema.Collection
	alias string
}

func newCompiler(env *Env, allowCol bool) (*compiler, error) {
	if env == nil || env.Collection == nil {
		return nil, errorf(0, "no collection to filter")
	}
	if !schema.ValidIdentifier(env.Collection.Name) {
		return nil, errorf(0, "invalid collection name %q", env.Collection.Name)
	}
	if env.Alias != "" && !schema.ValidIdentifier(env.Alias) {
		return nil, errorf(0, "invalid table alias %q", env.Alias)
	}
	d := env.Dialect
	if d == nil {
		d = SQLite
	}
	lookup := env.Lookup
	if lookup == nil {
		lookup = func(string) *schema.Collection { return nil }
	}
	return &compiler{env: env, d: d, lookup: lookup, allowCol: allowCol, colls: map[string]*collJoin{}}, nil
}

func (c *compiler) rootAlias() string {
	if c.env.Alias == "" {
		return quoteIdent(c.env.Collection.Name)
	}
	return quoteIdent(c.env.Alias)
}

// bind adds v to the expression's values and returns the SQL that reads
// it: the value's marker (a placeholder once finalized) in the dialect's
// opaque form. Every value goes through here, so no compiled filter or rule
// lets the planner specialise a statement for the values bound to it.
func (c *compiler) bind(v any) string {
	c.vals = append(c.vals, v)
	return c.d.opaque(marker(len(c.vals) - 1))
}

func (c *compiler) newAlias(prefix string) string { return quoteIdent(c.newAliasName(prefix)) }

// newAliasName is a fresh table alias, unquoted.
func (c *compiler) newAliasName(prefix string) string {
	for {
		c.nalias++
		a := prefix + strconv.Itoa(c.nalias)
		if a != c.env.Alias {
			return a
		}
	}
}

func (c *compiler) compileTop(e Expr) (string, error) {
	sql, err := c.compileExpr(e)
	if err != nil {
		return "", err
	}
	if len(c.order) == 0 {
		return sql, nil
	}
	from := "(SELECT 1 AS x) AS " + c.newAlias("_fd")
	for _, k := range c.order {
		j := c.colls[k]
		from += " LEFT JOIN " + quoteIdent(j.coll.Name) + " AS " + j.alias + " ON 1=1"
	}
	return "EXISTS (SELECT 1 FROM " + from + " WHERE " + sql + ")", nil
}

func (c *compiler) compileExpr(e Expr) (string, error) {
	switch e := e.(type) {
	case *Logical:
		parts := make([]string, 0, len(e.Terms))
		for _, t := range e.Terms {
			s, err := c.compileExpr(t)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		op := " AND "
		if e.Op == "||" {
			op = " OR "
		}
		return "(" + strings.Join(parts, op) + ")", nil
	case *Compare:
		return c.compare(e)
	}
	return "", errorf(0, "invalid expression")
}

// source is the FROM/WHERE of joins an operand is read through.
type source struct {
	from  []string
	where []string
}

func (s *source) clause() string {
	out := " FROM " + strings.Join(s.from, ", ")
	if len(s.where) > 0 {
		out += " WHERE " + strings.Join(s.where, " AND ")
	}
	return out
}

// operand is a compiled comparison side. Static operands (literals, macros,
// @request values) carry a Go value; dynamic ones render SQL for the wanted
// type. A non-nil set makes the operand multi-valued: sql then renders one
// element in the scope of set's FROM.
type operand struct {
	pos    int
	static bool
	val    any // nil, string, float64, bool
	typ    vtype
	sql    func(as vtype) string
	set    *source
	isList bool // static value was a list (for :length/:each checks)
	// notNull marks a plain NOT NULL column of the root table; compared
	// with a non-null value it can use `=`, which (unlike PostgreSQL's
	// IS NOT DISTINCT FROM) lets the planner use an index.
	notNull bool
}

func staticOperand(pos int, v any) *operand {
	o := &operand{pos: pos, static: true}
	switch x := v.(type) {
	case nil:
		o.typ = tNull
	case string:
		o.val, o.typ = cleanText(x), tText
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			o.typ = tNull
			return o
		}
		o.val, o.typ = x, tNumber
	case bool:
		o.val, o.typ = x, tBool
	case int:
		o.val, o.typ = float64(x), tNumber
	case int64:
		o.val, o.typ = float64(x), tNumber
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			o.val, o.typ = string(x), tText
		} else {
			o.val, o.typ = f, tNumber
		}
	default:
		b, err := json.Marshal(x)
		if err != nil {
			o.typ = tNull
		} else {
			o.val, o.typ = string(b), tText
		}
	}
	return o
}

// column is a dynamic operand reading expr of stored type t.
func (c *compiler) column(pos int, expr string, t vtype) *operand {
	return &operand{pos: pos, typ: t, sql: func(as vtype) string { return c.conv(expr, t, as) }}
}

// conv converts a non-json SQL expression of type from to type to.
func (c *compiler) conv(expr string, from, to vtype) string {
	if to == tTextAny {
		to = tText
	}
	if from == to {
		return expr
	}
	switch {
	case from == tNumber && to == tText:
		return c.d.numberText(expr)
	case from == tBool && to == tText:
		return c.d.boolText(expr)
	case from == tBool && to == tNumber:
		return c.d.boolNumber(expr)
	}
	return c.d.nullOf(to)
}

var numberRe = func(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if i == len(s) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

// cleanText makes request values storable in PostgreSQL text: invalid
// UTF-8 and NUL characters become U+FFFD.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// convStatic converts a static value to t; ok is false when it cannot be.
func convStatic(v any, t vtype) (any, bool) {
	switch t {
	case tText, tTextAny:
		switch x := v.(type) {
		case string:
			return x, true
		case float64:
			return formatNumber(x), true
		case bool:
			return strconv.FormatBool(x), true
		}
	case tNumber:
		switch x := v.(type) {
		case float64:
			return x, true
		case bool:
			if x {
				return 1.0, true
			}
			return 0.0, true
		case string:
			if numberRe(x) {
				f, err := strconv.ParseFloat(x, 64)
				if err == nil && !math.IsInf(f, 0) {
					return f, true
				}
			}
		}
	case tBool:
		switch x := v.(type) {
		case bool:
			return x, true
		case float64:
			return x != 0, true
		case string:
			switch x {
			case "true", "1":
				return true, true
			case "false", "0":
				return false, true
			}
		}
	}
	return nil, false
}

// render materializes o as type as.
func (c *compiler) render(o *operand, as vtype) string {
	if o.static {
		v, ok := convStatic(o.val, as)
		if !ok || o.val == nil {
			return c.d.nullOf(as)
		}
		if as == tTextAny {
			as = tText
		}
		return c.d.param(c.bind(v), as)
	}
	return o.sql(as)
}

func isEmptyStatic(o *operand) bool {
	if !o.static {
		return false
	}
	s, isStr := o.val.(string)
	return o.val == nil || (isStr && s == "")
}

const (
	sqlTrue  = "(1=1)"
	sqlFalse = "(1=0)"
)

func boolSQL(b bool) string {
	if b {
		return sqlTrue
	}
	return sqlFalse
}

// plan decides how L op R compares: the common type, or a constant result
// when the two sides can never compare (e.g. number vs "abc").
type plan struct {
	as       vtype
	constant *bool
	empty    *operand // = / != against null or "": test this side for emptiness
}

func (c *compiler) plan(op string, L, R *operand) plan {
	if op == "~" || op == "!~" {
		return plan{as: tTextAny}
	}
	eq := op == "=" || op == "!="
	if eq {
		le, re := isEmptyStatic(L), isEmptyStatic(R)
		switch {
		case le && re:
			r := op == "="
			return plan{constant: &r}
		case re:
			return plan{empty: L}
		case le:
			return plan{empty: R}
		}
	} else if (L.static && L.val == nil) || (R.static && R.val == nil) {
		f := false
		return plan{constant: &f}
	}
	never := func() plan {
		r := op == "!="
		return plan{constant: &r}
	}
	lt, rt := L.typ, R.typ
	if lt == rt {
		if lt == tJSON {
			return plan{as: tTextAny}
		}
		return plan{as: lt}
	}
	if lt == tJSON {
		return plan{as: rt}
	}
	if rt == tJSON {
		return plan{as: lt}
	}
	// static vs anything: try converting the static side.
	pick := func(s, other *operand) (plan, bool) {
		if !s.static {
			return plan{}, false
		}
		if other.static {
			// both static: compare as text unless both convert to number
			if _, ok := convStatic(s.val, other.typ); ok {
				return plan{as: other.typ}, true
			}
			return plan{as: tText}, true
		}
		if _, ok := convStatic(s.val, other.typ); ok {
			return plan{as: other.typ}, true
		}
		return never(), true
	}
	if p, ok := pick(R, L); ok {
		return p
	}
	if p, ok := pick(L, R); ok {
		return p
	}
	// both dynamic, different non-json types
	if lt == tText || rt == tText {
		return plan{as: tText}
	}
	return plan{as: tNumber} // bool vs number
}

func (c *compiler) compare(cmp *Compare) (string, error) {
	L, err := c.operand(cmp.Left)
	if err != nil {
		return "", err
	}
	R, err := c.operand(cmp.Right)
	if err != nil {
		return "", err
	}
	if cmp.Op == "~" || cmp.Op == "!~" || cmp.Op == "=" || cmp.Op == "!=" || cmp.Op == ">" || cmp.Op == ">=" || cmp.Op == "<" || cmp.Op == "<=" {
	} else {
		return "", errorf(cmp.P, "unknown operator %q", cmp.Op)
	}
	pl := c.plan(cmp.Op, L, R)
	if pl.constant != nil {
		return boolSQL(*pl.constant), nil
	}
	if L.set == nil && R.set == nil {
		return c.scalarCompare(cmp.Op, L, R, pl), nil
	}
	as := pl.as
	if pl.empty != nil {
		as = pl.empty.typ
		if as == tJSON {
			as = tTextAny
		}
	}
	from := "(SELECT 1 AS x) AS " + c.newAlias("_fd")
	elem := func(o *operand) *operand {
		if o.set == nil {
			return o
		}
		a := c.newAlias("_fs")
		from += " LEFT JOIN (SELECT " + o.sql(as) + " AS v" + o.set.clause() + ") AS " + a + " ON 1=1"
		t := as
		if t == tTextAny {
			t = tText
		}
		e := &operand{pos: o.pos, typ: t}
		col := a + ".v"
		e.sql = func(want vtype) string { return c.conv(col, t, want) }
		if pl.empty == o {
			pl.empty = e
		}
		return e
	}
	L, R = elem(L), elem(R)
	inner := c.scalarCompare(cmp.Op, L, R, pl)
	if cmp.Any {
		return "EXISTS (SELECT 1 FROM " + from + " WHERE " + inner + ")", nil
	}
	return "NOT EXISTS (SELECT 1 FROM " + from + " WHERE NOT COALESCE(" + inner + ", " + sqlFalse + "))", nil
}

func (c *compiler) isEmpty(o *operand) string {
	if o.static {
		return boolSQL(isEmptyStatic(o))
	}
	switch o.typ {
	case tText:
		return "(COALESCE(" + o.sql(tText) + ", '') = '')"
	case tJSON:
		return "(COALESCE(" + o.sql(tTextAny) + ", '') = '')"
	}
	return "(" + o.sql(o.typ) + " IS NULL)"
}

func (c *compiler) scalarCompare(op string, L, R *operand, pl plan) string {
	if pl.empty != nil {
		s := c.isEmpty(pl.empty)
		if op == "!=" {
			return "(NOT " + s + ")"
		}
		return s
	}
	as := pl.as
	switch op {
	case "~", "!~":
		a := "COALESCE(" + c.render(L, tTextAny) + ", '')"
		var pat string
		if R.static {
			s, _ := convStatic(R.val, tText)
			str, _ := s.(string)
			pat = c.d.param(c.bind(likePattern(str)), tText)
		} else {
			b := "COALESCE(" + c.render(R, tTextAny) + ", '')"
			pat = "('%' || REPLACE(REPLACE(REPLACE(" + b + ", '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"
		}
		s := c.d.like(a, pat)
		if op == "!~" {
			return "(NOT " + s + ")"
		}
		return s
	}
	a, b := c.render(L, as), c.render(R, as)
	text := as == tText || as == tTextAny
	switch op {
	case "=", "!=":
		if plainComparable(L, R, as) || plainComparable(R, L, as) {
			if op == "=" {
				return "(" + a + " = " + b + ")"
			}
			return "(" + a + " <> " + b + ")"
		}
		if text && !L.static && !R.static {
			a, b = "COALESCE("+a+", '')", "COALESCE("+b+", '')"
		}
		if op == "=" {
			return c.d.notDistinct(a, b)
		}
		return c.d.distinct(a, b)
	}
	if text {
		a = c.d.collate(a)
	}
	return "(" + a + " " + op + " " + b + ")"
}

// plainComparable reports whether col (a NOT NULL column read without
// conversion) against the static non-null v can use plain = and <>.
func plainComparable(col, v *operand, as vtype) bool {
	return col.notNull && col.set == nil && col.typ == as && v.static && v.val != nil && v.set == nil && !v.isList
}

// likePattern turns the right side of ~ into a LIKE pattern: "_" and "\"
// are always literal; without "%" the value is wrapped in "%...%".
func likePattern(s string) string {
	wrap := !strings.Contains(s, "%")
	r := strings.NewReplacer(`\`, `\\`, `_`, `\_`)
	s = r.Replace(s)
	if wrap {
		s = "%" + s + "%"
	}
	return s
}
