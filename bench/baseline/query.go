package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// filterColumns are the fields a filter or sort may name.
var filterColumns = map[string]bool{
	"id": true, "title": true, "score": true, "published": true, "status": true,
	"owner": true, "created": true, "updated": true,
}

// whereClause is a parameterised SQL condition.
type whereClause struct {
	sql  string
	args []any
}

// and joins c with another condition.
func (c whereClause) and(sql string, args ...any) whereClause {
	if c.sql == "" {
		return whereClause{sql: sql, args: args}
	}
	return whereClause{sql: "(" + c.sql + ") AND (" + sql + ")", args: append(append([]any(nil), c.args...), args...)}
}

// parseFilter translates the subset of the PocketBase filter language that
// the benchmark sends: comparisons `field op literal` joined by `&&`,
// optionally wrapped in one pair of parentheses. Operators are = != > >= < <=
// and ~ (contains). Literals are numbers, quoted strings, true and false.
func parseFilter(src string) (whereClause, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return whereClause{}, nil
	}
	if strings.HasPrefix(src, "(") && strings.HasSuffix(src, ")") {
		src = strings.TrimSpace(src[1 : len(src)-1])
	}
	var w whereClause
	for _, part := range strings.Split(src, "&&") {
		cond, arg, err := parseComparison(strings.TrimSpace(part))
		if err != nil {
			return w, err
		}
		w = w.and(cond, arg)
	}
	return w, nil
}

func parseComparison(s string) (string, any, error) {
	i := strings.IndexAny(s, "=!<>~")
	if i <= 0 {
		return "", nil, fmt.Errorf("bad comparison %q", s)
	}
	field := strings.TrimSpace(s[:i])
	if !filterColumns[field] {
		return "", nil, fmt.Errorf("unknown field %q", field)
	}
	rest := s[i:]
	op := ""
	for _, cand := range []string{">=", "<=", "!=", "=", ">", "<", "~"} {
		if strings.HasPrefix(rest, cand) {
			op = cand
			break
		}
	}
	if op == "" {
		return "", nil, fmt.Errorf("bad operator in %q", s)
	}
	lit, err := parseLiteral(strings.TrimSpace(rest[len(op):]))
	if err != nil {
		return "", nil, err
	}
	col := quoteIdent(field)
	if op == "~" {
		return col + " LIKE ?", "%" + fmt.Sprint(lit) + "%", nil
	}
	return col + " " + op + " ?", lit, nil
}

func parseLiteral(s string) (any, error) {
	switch {
	case s == "true":
		return true, nil
	case s == "false":
		return false, nil
	case len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0]:
		return s[1 : len(s)-1], nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("bad literal %q", s)
	}
	return f, nil
}

// parseSort translates a PocketBase sort list ("-score,created") into an
// ORDER BY clause (without the keywords), or "" when src is empty.
func parseSort(src string) (string, error) {
	if strings.TrimSpace(src) == "" {
		return "", nil
	}
	terms := strings.Split(src, ",")
	if len(terms) > 8 {
		return "", errors.New("too many sort terms")
	}
	out := make([]string, 0, len(terms))
	for _, t := range terms {
		t = strings.TrimSpace(t)
		dir := " ASC"
		if strings.HasPrefix(t, "-") {
			t, dir = t[1:], " DESC"
		} else if strings.HasPrefix(t, "+") {
			t = t[1:]
		}
		if t == "@random" {
			out = append(out, "RANDOM()")
			continue
		}
		if !filterColumns[t] {
			return "", fmt.Errorf("unknown sort field %q", t)
		}
		out = append(out, quoteIdent(t)+dir)
	}
	return strings.Join(out, ", "), nil
}

// pageParams reads page/perPage with PocketBase's defaults (1, 30) and
// perPage cap (1000).
func pageParams(pageStr, perPageStr string) (page, perPage int) {
	page, perPage = 1, 30
	if n, err := strconv.Atoi(pageStr); err == nil && n > 0 {
		page = n
	}
	if n, err := strconv.Atoi(perPageStr); err == nil && n > 0 {
		perPage = min(n, 1000)
	}
	return page, perPage
}
