package filter

import (
	"strings"
	"unicode/utf8"
)

// MaxSortTerms is the largest number of comma-separated sort terms.
const MaxSortTerms = 8

// CompileSort compiles a sort expression such as "-created,title,@random"
// or "-@rowid"
// to the body of an ORDER BY clause (without the keywords). "-" sorts
// descending, "+" or nothing ascending; paths through single relations and
// json paths are allowed, multi-valued fields are not. NULLs sort first
// ascending and last descending on both databases; text compares bytewise.
func CompileSort(sort string, env *Env, p *Params) (string, error) {
	c, err := newCompiler(env, false)
	if err != nil {
		return "", err
	}
	if p == nil {
		return "", errorf(0, "no parameter list")
	}
	if !utf8.ValidString(sort) {
		return "", errorf(invalidByte(sort), "the sort must be valid UTF-8 text")
	}
	if len(sort) > MaxLength {
		return "", errorf(MaxLength, "the sort is too long")
	}
	var parts []string
	pos := 0
	for _, term := range strings.Split(sort, ",") {
		start := pos
		pos += len(term) + 1
		lead := len(term) - len(strings.TrimLeft(term, " \t\r\n"))
		term = strings.TrimSpace(term)
		start += lead
		if term == "" {
			if strings.TrimSpace(sort) == "" {
				return "", nil
			}
			return "", errorf(start, "empty sort term")
		}
		if len(parts) >= MaxSortTerms {
			return "", errorf(start, "too many sort terms (max %d)", MaxSortTerms)
		}
		desc := false
		switch term[0] {
		case '-':
			desc, term, start = true, term[1:], start+1
		case '+':
			term, start = term[1:], start+1
		}
		if term == "@random" {
			parts = append(parts, c.d.random())
			continue
		}
		if term == "@rowid" {
			// Storage order, as PocketBase's dashboard sorts by default.
			// Views have no row ids on either database.
			if c.env.Collection.IsView() {
				return "", errorf(start, "cannot sort a view by @rowid")
			}
			parts = append(parts, c.d.rowid(c.rootAlias())+map[bool]string{true: " DESC", false: " ASC"}[desc])
			continue
		}
		if term == "" || !isIdentStart(term[0]) {
			return "", errorf(start, "invalid sort term %q", term)
		}
		for i := 0; i < len(term); i++ {
			if ch := term[i]; !isWordChar(ch) && ch != '.' && ch != ':' && !(i == 0 && ch == '@') {
				return "", errorf(start+i, "invalid sort term %q", term)
			}
		}
		id, err := parseIdent(start, term)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(id.Path[0], "@") {
			return "", errorf(start, "cannot sort by %q", term)
		}
		o, err := c.operand(id)
		if err != nil {
			return "", err
		}
		if o.set != nil {
			return "", errorf(start, "cannot sort by the multi-valued %q", term)
		}
		order := c.d.nullsOrder(desc)
		if o.notNull {
			// NOT NULL columns need no NULLS clause, and without one a
			// descending sort can walk an ascending index backwards.
			order = map[bool]string{true: " DESC", false: " ASC"}[desc]
		}
		switch o.typ {
		case tJSON:
			parts = append(parts, o.sql(tNumber)+order, c.d.collate(o.sql(tTextAny))+order)
		case tText:
			parts = append(parts, c.d.collate(o.sql(tText))+order)
		default:
			parts = append(parts, o.sql(o.typ)+order)
		}
	}
	if p.Dialect == nil {
		p.Dialect = c.d
	}
	p.ClientCost += c.cost
	return finalize(strings.Join(parts, ", "), c.vals, p), nil
}
