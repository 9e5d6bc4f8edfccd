package filter

import (
	"strconv"
	"strings"
)

// MaxLength is the longest accepted filter or rule, in bytes.
const MaxLength = 8 << 10

// MaxDepth is the deepest accepted nesting of parentheses.
const MaxDepth = 64

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp     // comparison operator, "?" prefix included
	tokAnd    // &&
	tokOr     // ||
	tokLParen // (
	tokRParen // )
	tokComma  // ,
)

type token struct {
	kind tokenKind
	pos  int
	text string  // identifier, operator or unescaped string
	num  float64 // tokNumber
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

type lexer struct {
	src string
	pos int
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '@' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isWordChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// next returns the next token, skipping white space and // comments.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
			l.pos++
			continue
		}
		if c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/' {
			end := strings.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += end + 1
			}
			continue
		}
		break
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case c == '(':
		l.pos++
		return token{kind: tokLParen, pos: start, text: "("}, nil
	case c == ')':
		l.pos++
		return token{kind: tokRParen, pos: start, text: ")"}, nil
	case c == ',':
		l.pos++
		return token{kind: tokComma, pos: start, text: ","}, nil
	case c == '&' || c == '|':
		if l.pos+1 < len(l.src) && l.src[l.pos+1] == c {
			l.pos += 2
			if c == '&' {
				return token{kind: tokAnd, pos: start, text: "&&"}, nil
			}
			return token{kind: tokOr, pos: start, text: "||"}, nil
		}
		return token{}, errorf(start, "unexpected %q, did you mean %q?", string(c), string(c)+string(c))
	case c == '"' || c == '\'':
		return l.lexString(c)
	case isDigit(c) || (c == '-' && l.pos+1 < len(l.src) && (isDigit(l.src[l.pos+1]) || l.src[l.pos+1] == '.')) || (c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1])):
		return l.lexNumber()
	case isIdentStart(c):
		l.pos++
		for l.pos < len(l.src) {
			c := l.src[l.pos]
			if isWordChar(c) || c == '.' || c == ':' {
				l.pos++
				continue
			}
			break
		}
		return token{kind: tokIdent, pos: start, text: l.src[start:l.pos]}, nil
	}
	if op := l.lexOp(); op != "" {
		return token{kind: tokOp, pos: start, text: op}, nil
	}
	r := l.src[l.pos:]
	if len(r) > 8 {
		r = r[:8]
	}
	return token{}, errorf(start, "unexpected character %q", string([]rune(r)[0]))
}

var operators = []string{"!=", ">=", "<=", "!~", "=", ">", "<", "~"}

func (l *lexer) lexOp() string {
	rest := l.src[l.pos:]
	prefix := ""
	if strings.HasPrefix(rest, "?") {
		prefix, rest = "?", rest[1:]
	}
	for _, op := range operators {
		if strings.HasPrefix(rest, op) {
			l.pos += len(prefix) + len(op)
			return prefix + op
		}
	}
	return ""
}

func (l *lexer) lexNumber() (token, error) {
	start := l.pos
	if l.src[l.pos] == '-' {
		l.pos++
	}
	digits := 0
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
		digits++
	}
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
			digits++
		}
	}
	if digits == 0 {
		return token{}, errorf(start, "invalid number")
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		p := l.pos + 1
		if p < len(l.src) && (l.src[p] == '+' || l.src[p] == '-') {
			p++
		}
		if p < len(l.src) && isDigit(l.src[p]) {
			for p < len(l.src) && isDigit(l.src[p]) {
				p++
			}
			l.pos = p
		}
	}
	if l.pos < len(l.src) && (isWordChar(l.src[l.pos]) || l.src[l.pos] == '.') {
		return token{}, errorf(start, "invalid number %q", l.src[start:l.pos+1])
	}
	text := l.src[start:l.pos]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, errorf(start, "number %s is out of range", text)
	}
	return token{kind: tokNumber, pos: start, text: text, num: f}, nil
}

func (l *lexer) lexString(quote byte) (token, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case quote:
			l.pos++
			return token{kind: tokString, pos: start, text: b.String()}, nil
		case '\\':
			if l.pos+1 >= len(l.src) {
				return token{}, errorf(start, "unterminated string")
			}
			e := l.src[l.pos+1]
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(e)
			}
			l.pos += 2
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return token{}, errorf(start, "unterminated string")
}

// Quote returns s as a double-quoted string literal of the filter
// language, the inverse of the lexer's reading: backslashes and double
// quotes are escaped, and so are line breaks and tabs, which keeps an
// expression on one line. It is how a value (a GraphQL where argument, a
// client's bound parameter) becomes filter text safely.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// lexAll splits src into tokens (EOF included); used by tests.
func lexAll(src string) ([]token, error) {
	l := &lexer{src: src}
	var out []token
	for {
		t, err := l.next()
		if err != nil {
			return out, err
		}
		out = append(out, t)
		if t.kind == tokEOF {
			return out, nil
		}
	}
}
