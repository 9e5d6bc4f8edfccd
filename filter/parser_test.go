package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLexer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string // kind:text
	}{
		{`a = 1`, []string{"ident:a", "op:=", "num:1"}},
		{`a?!=-1.5e2`, []string{"ident:a", "op:?!=", "num:-1.5e2"}},
		{`x>=y&&z<=w||q!~"s"`, []string{"ident:x", "op:>=", "ident:y", "and:&&", "ident:z", "op:<=", "ident:w", "or:||", "ident:q", "op:!~", "str:s"}},
		{`'it\'s' "a\"b\\c\n"`, []string{"str:it's", "str:a\"b\\c\n"}},
		{"a // comment\n= b // end", []string{"ident:a", "op:=", "ident:b"}},
		{`geoDistance(a.b, 1)`, []string{"ident:geoDistance", "(:(", "ident:a.b", ",:,", "num:1", "):)"}},
		{`@request.auth.id:isset`, []string{"ident:@request.auth.id:isset"}},
		{`a?~b ?<c`, []string{"ident:a", "op:?~", "ident:b", "op:?<", "ident:c"}},
	}
	names := map[tokenKind]string{tokIdent: "ident", tokString: "str", tokNumber: "num", tokOp: "op", tokAnd: "and", tokOr: "or", tokLParen: "(", tokRParen: ")", tokComma: ","}
	for _, tt := range tests {
		toks, err := lexAll(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		var got []string
		for _, tok := range toks[:len(toks)-1] {
			got = append(got, names[tok.kind]+":"+tok.text)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		pos     int
		message string
	}{
		{``, 0, "empty filter"},
		{`// only a comment`, 0, "empty filter"},
		{`a`, 1, "expected a comparison operator"},
		{`a =`, 3, "expected a value"},
		{`a = "x`, 4, "unterminated string"},
		{`a = 1 & b = 2`, 6, `did you mean "&&"`},
		{`(a = 1`, 0, "unclosed parenthesis"},
		{`a = 1)`, 5, "expected && or ||"},
		{`a # 1`, 2, "unexpected character"},
		{`a = 1x`, 4, "invalid number"},
		{`a:foo = 1`, 0, "invalid modifier"},
		{`a..b = 1`, 0, "invalid identifier"},
		{`f(g(1)) = 1`, 2, "cannot be nested"},
		{`a = 1e999`, 4, "out of range"},
		{strings.Repeat("(", 65) + "a = 1" + strings.Repeat(")", 65), 64, "nested too deeply"},
		{strings.Repeat("a = 1 && ", 1000) + "a = 1", MaxLength, "too long"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%.40q: error %v is not *Error", tt.in, err)
			continue
		}
		if fe.Pos != tt.pos || !strings.Contains(fe.Msg, tt.message) {
			t.Errorf("%.40q: got %d %q, want %d %q", tt.in, fe.Pos, fe.Msg, tt.pos, tt.message)
		}
	}
}

func TestParseTree(t *testing.T) {
	t.Parallel()
	e, err := Parse(`a = 1 && (b ?~ "x" || @collection.users:u.name:lower != null) && c.d:length > -2`)
	if err != nil {
		t.Fatal(err)
	}
	and, ok := e.(*Logical)
	if !ok || and.Op != "&&" || len(and.Terms) != 3 {
		t.Fatalf("got %#v", e)
	}
	or := and.Terms[1].(*Logical)
	any := or.Terms[0].(*Compare)
	if !any.Any || any.Op != "~" {
		t.Errorf("any compare: %#v", any)
	}
	id := or.Terms[1].(*Compare).Left.(*Ident)
	if !reflect.DeepEqual(id.Path, []string{"@collection", "users", "name"}) || id.Alias != "u" || id.Modifier != "lower" {
		t.Errorf("ident: %#v", id)
	}
	if lit := or.Terms[1].(*Compare).Right.(*Literal); lit.Kind != LitNull {
		t.Errorf("null: %#v", lit)
	}
	last := and.Terms[2].(*Compare)
	if last.Left.(*Ident).Modifier != "length" || last.Right.(*Literal).Num != -2 {
		t.Errorf("last: %#v", last)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	tests := []struct {
		in      string
		message string
		noReq   bool
	}{
		{`titel = 1`, `unknown field "titel" in collection "posts"`, false},
		{`author.nme = 1`, `unknown field "nme" in collection "users"`, false},
		{`title.x = 1`, `has no sub-field "x"`, false},
		{`title:length = 1`, `:length needs a multi-valued field`, false},
		{`title:each = 1`, `:each needs a multi-valued field`, false},
		{`title:isset = 1`, `only be used with @request.body`, false},
		{`@request.auth.id = 1`, `not available here`, true},
		{`@request.foo = 1`, `unknown identifier`, false},
		{`@nope = 1`, `unknown macro "@nope"`, false},
		{`@collection.nope.x = 1`, `unknown collection "nope"`, false},
		{`nope(1) = 1`, `unknown function "nope"`, false},
		{`geoDistance(1, 2) = 1`, `takes 4 arguments`, false},
		{`geoDistance(title, 1, 2, 3) = 1`, `must be numbers`, false},
		{`strftime(title, created) = 1`, `format must be a string`, false},
		{`tags.name.x = 1`, `has no sub-field`, false},
		{`author.password = ""`, `cannot be used in filters`, false},
		{`a.b.c.d.e.f.g.h = 1`, `unknown field "a"`, false},
		{`author.favorites.author.favorites.author.favorites.author.favorites.title = 1`, `too many relation hops`, false},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		req := fx.request(true)
		if tt.noReq {
			req = nil
		}
		_, err = Compile(e, fx.env(SQLite, req), &Params{Dialect: SQLite})
		var fe *Error
		if !errors.As(err, &fe) || !strings.Contains(fe.Msg, tt.message) {
			t.Errorf("%q: got %v, want %q", tt.in, err, tt.message)
		}
	}
	// PostgreSQL-only strftime restriction.
	e, _ := Parse(`strftime('%s', created) = "1"`)
	if _, err := Compile(e, fx.env(Postgres, nil), &Params{Dialect: Postgres}); err == nil || !strings.Contains(err.Error(), "not supported on PostgreSQL") {
		t.Errorf("strftime %%s on postgres: %v", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	posts := fx.colls["posts"]
	ok := []struct {
		src  string
		rule bool
	}{
		{`title = "x" && author.team.name = "red"`, false},
		{`@request.auth.id != "" && author = @request.auth.id`, true},
		{`@request.auth.team.name = "x" && @request.body.title:isset = true`, true},
		{`@collection.users.name = author.name`, true},
	}
	for _, tt := range ok {
		if err := Check(tt.src, posts, fx.lookup, tt.rule); err != nil {
			t.Errorf("Check(%q, %v) = %v", tt.src, tt.rule, err)
		}
	}
	bad := []struct {
		src  string
		rule bool
	}{
		{`titel = "x"`, true},
		{`@request.auth.id != ""`, false},
		{`@collection.users.name = "x"`, false},
		{`@request.body.author.nope = 1`, true},
		{`title = `, true},
	}
	for _, tt := range bad {
		if err := Check(tt.src, posts, fx.lookup, tt.rule); err == nil {
			t.Errorf("Check(%q, %v) succeeded", tt.src, tt.rule)
		}
	}
}

func TestCompileSortErrors(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	for _, s := range []string{"nope", "tags", "-", "a,,b", "title;drop", "@request.auth.id", "a,b,c,d,e,f,g,h,i", "comments_via_post.message"} {
		if _, err := CompileSort(s, fx.env(SQLite, nil), &Params{Dialect: SQLite}); err == nil {
			t.Errorf("CompileSort(%q) succeeded", s)
		} else if _, ok := err.(*Error); !ok {
			t.Errorf("CompileSort(%q): %T", s, err)
		}
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	p := &Params{Dialect: Postgres, Values: []any{"existing"}}
	if got := p.Add(1); got != "$2" {
		t.Errorf("Add = %q", got)
	}
	s := &Params{Dialect: SQLite}
	if got := s.Add(1); got != "?" {
		t.Errorf("Add = %q", got)
	}
}

func TestMacros(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	want := map[string]any{
		"@now": "2024-06-01 12:30:45.123Z", "@second": 45.0, "@minute": 30.0, "@hour": 12.0,
		"@weekday": 6.0, "@day": 1.0, "@month": 6.0, "@year": 2024.0,
		"@yesterday": "2024-05-31 12:30:45.123Z", "@tomorrow": "2024-06-02 12:30:45.123Z",
		"@todayStart": "2024-06-01 00:00:00.000Z", "@todayEnd": "2024-06-01 23:59:59.999Z",
		"@monthStart": "2024-06-01 00:00:00.000Z", "@monthEnd": "2024-06-30 23:59:59.999Z",
		"@yearStart": "2024-01-01 00:00:00.000Z", "@yearEnd": "2024-12-31 23:59:59.999Z",
	}
	for name, w := range want {
		if got, ok := macroValue(name, fx.now); !ok || got != w {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
}
