package filter

// Expr is a parsed boolean expression: *Logical or *Compare.
type Expr interface {
	Pos() int
	expr()
}

// Operand is one side of a comparison: *Literal, *Ident or *Call.
type Operand interface {
	Pos() int
	operand()
}

// Logical joins two or more expressions with "&&" or "||".
type Logical struct {
	P     int
	Op    string // "&&" or "||"
	Terms []Expr
}

// Compare is "Left Op Right"; Any is set for the "?op" forms.
type Compare struct {
	P     int
	Op    string // one of = != > >= < <= ~ !~
	Any   bool
	Left  Operand
	Right Operand
}

// LiteralKind tells the kind of a literal.
type LiteralKind int

// Literal kinds.
const (
	LitString LiteralKind = iota
	LitNumber
	LitBool
	LitNull
)

// Literal is a string, number, true, false or null.
type Literal struct {
	P    int
	Kind LiteralKind
	Str  string
	Num  float64
	Bool bool
}

// Ident is a field path, a macro or a rule identifier such as
// @request.auth.id; Path holds its dot-separated segments (the leading "@"
// kept on the first), Alias the ":alias" of @collection.name:alias and
// Modifier the trailing ":isset", ":changed", ":length", ":each" or ":lower".
type Ident struct {
	P        int
	Name     string // the source text
	Path     []string
	Alias    string
	Modifier string
}

// Call is geoDistance(...) or strftime(...).
type Call struct {
	P    int
	Name string
	Args []Operand
}

func (e *Logical) Pos() int { return e.P }
func (e *Compare) Pos() int { return e.P }
func (e *Literal) Pos() int { return e.P }
func (e *Ident) Pos() int   { return e.P }
func (e *Call) Pos() int    { return e.P }

func (*Logical) expr()    {}
func (*Compare) expr()    {}
func (*Literal) operand() {}
func (*Ident) operand()   {}
func (*Call) operand()    {}

// Identifiers lists the names of all identifiers in e (as written, e.g.
// "author.name", "@request.auth.id"), including those inside function
// arguments. Callers use it to police what a client filter may read.
func Identifiers(e Expr) []string {
	var out []string
	var operand func(o Operand)
	operand = func(o Operand) {
		switch x := o.(type) {
		case *Ident:
			out = append(out, x.Name)
		case *Call:
			for _, a := range x.Args {
				operand(a)
			}
		}
	}
	var walk func(e Expr)
	walk = func(e Expr) {
		switch x := e.(type) {
		case *Logical:
			for _, t := range x.Terms {
				walk(t)
			}
		case *Compare:
			operand(x.Left)
			operand(x.Right)
		}
	}
	walk(e)
	return out
}
