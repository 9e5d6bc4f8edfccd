package filter

import (
	"strings"
	"unicode/utf8"
)

// Parse parses a filter or rule. Syntax errors are *Error values carrying
// the byte offset of the offending token. An empty (or comment-only) source
// is an error: callers treat an empty rule as "everyone" before parsing.
func Parse(src string) (Expr, error) {
	if len(src) > MaxLength {
		return nil, errorf(MaxLength, "the filter is too long (max %d bytes)", MaxLength)
	}
	if !utf8.ValidString(src) || strings.IndexByte(src, 0) >= 0 {
		return nil, errorf(invalidByte(src), "the filter must be valid UTF-8 text without NUL characters")
	}
	p := &parser{lex: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, errorf(0, "empty filter")
	}
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, errorf(p.tok.pos, "unexpected %s, expected && or ||", p.tok.describe())
	}
	return e, nil
}

type parser struct {
	lex lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) parseOr(depth int) (Expr, error) {
	first, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokOr {
		return first, nil
	}
	or := &Logical{P: first.Pos(), Op: "||", Terms: []Expr{first}}
	for p.tok.kind == tokOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		t, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		or.Terms = append(or.Terms, t)
	}
	return or, nil
}

func (p *parser) parseAnd(depth int) (Expr, error) {
	first, err := p.parsePrimary(depth)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokAnd {
		return first, nil
	}
	and := &Logical{P: first.Pos(), Op: "&&", Terms: []Expr{first}}
	for p.tok.kind == tokAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		t, err := p.parsePrimary(depth)
		if err != nil {
			return nil, err
		}
		and.Terms = append(and.Terms, t)
	}
	return and, nil
}

func (p *parser) parsePrimary(depth int) (Expr, error) {
	if p.tok.kind == tokLParen {
		if depth >= MaxDepth {
			return nil, errorf(p.tok.pos, "the filter is nested too deeply (max %d levels)", MaxDepth)
		}
		open := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			if p.tok.kind == tokEOF {
				return nil, errorf(open, "unclosed parenthesis")
			}
			return nil, errorf(p.tok.pos, "unexpected %s, expected )", p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return e, nil
	}
	left, err := p.parseOperand(true)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokOp {
		return nil, errorf(p.tok.pos, "unexpected %s, expected a comparison operator", p.tok.describe())
	}
	c := &Compare{P: p.tok.pos, Op: p.tok.text, Left: left}
	if strings.HasPrefix(c.Op, "?") {
		c.Any, c.Op = true, c.Op[1:]
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if c.Right, err = p.parseOperand(true); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) parseOperand(allowCall bool) (Operand, error) {
	t := p.tok
	switch t.kind {
	case tokString:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &Literal{P: t.pos, Kind: LitString, Str: t.text}, nil
	case tokNumber:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &Literal{P: t.pos, Kind: LitNumber, Num: t.num}, nil
	case tokIdent:
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch t.text {
		case "true", "false":
			return &Literal{P: t.pos, Kind: LitBool, Bool: t.text == "true"}, nil
		case "null":
			return &Literal{P: t.pos, Kind: LitNull}, nil
		}
		if p.tok.kind == tokLParen {
			if !allowCall {
				return nil, errorf(t.pos, "function calls cannot be nested")
			}
			return p.parseCall(t)
		}
		return parseIdent(t.pos, t.text)
	case tokEOF:
		return nil, errorf(t.pos, "unexpected end of input, expected a value")
	}
	return nil, errorf(t.pos, "unexpected %s, expected a value", t.describe())
}

func (p *parser) parseCall(name token) (Operand, error) {
	c := &Call{P: name.pos, Name: name.text}
	if err := p.advance(); err != nil { // (
		return nil, err
	}
	if p.tok.kind == tokRParen {
		return nil, errorf(p.tok.pos, "%s() needs arguments", name.text)
	}
	for {
		a, err := p.parseOperand(false)
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, a)
		if len(c.Args) > 8 {
			return nil, errorf(a.Pos(), "too many arguments to %s()", name.text)
		}
		switch p.tok.kind {
		case tokComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tokRParen:
			if err := p.advance(); err != nil {
				return nil, err
			}
			return c, nil
		}
		return nil, errorf(p.tok.pos, "unexpected %s in arguments of %s(), expected , or )", p.tok.describe(), name.text)
	}
}

var modifiers = map[string]bool{"isset": true, "changed": true, "length": true, "each": true, "lower": true}

// parseIdent splits an identifier such as "@collection.users:u.team.name:lower"
// into its segments, alias and modifier.
func parseIdent(pos int, text string) (*Ident, error) {
	id := &Ident{P: pos, Name: text}
	segs := strings.Split(text, ".")
	for i, s := range segs {
		name, suffix, hasColon := strings.Cut(s, ":")
		if hasColon {
			switch {
			case i == 1 && segs[0] == "@collection" && len(segs) > 2 && !strings.Contains(suffix, ":"):
				if !validWord(suffix) {
					return nil, errorf(pos, "invalid @collection alias %q", suffix)
				}
				id.Alias = suffix
			case i == len(segs)-1 && modifiers[suffix]:
				id.Modifier = suffix
			default:
				return nil, errorf(pos, "invalid modifier %q in %q (expected isset, changed, length, each or lower)", ":"+suffix, text)
			}
		}
		check := name
		if i == 0 {
			check = strings.TrimPrefix(name, "@")
		}
		if !validWord(check) || (i == 0 && isDigit(check[0])) {
			return nil, errorf(pos, "invalid identifier %q", text)
		}
		segs[i] = name
	}
	id.Path = segs
	return id, nil
}

func invalidByte(s string) int {
	for i, r := range s {
		if r == 0 || r == utf8.RuneError {
			return i
		}
	}
	return 0
}

func validWord(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordChar(s[i]) {
			return false
		}
	}
	return true
}
