package schema

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Projection is a parsed `fields` query parameter: which keys to write at
// each level of a record, with nested levels for expand. A nil *Projection
// includes everything.
type Projection struct {
	star     bool
	children map[string]*Projection
	excerpts map[string]ExcerptOptions
}

// ExcerptOptions are the arguments of the `:excerpt(max, ellipsis)` modifier.
type ExcerptOptions struct {
	Max      int
	Ellipsis bool
}

var excerptPattern = regexp.MustCompile(`^excerpt\(\s*(\d+)\s*(?:,\s*(true|false|1|0)\s*)?\)$`)

// ParseProjection parses "id,title:excerpt(100,true),expand.author.name,*".
// An empty string means no projection (nil).
func ParseProjection(s string) (*Projection, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	root := &Projection{}
	for _, raw := range splitTopLevel(s) {
		item := strings.TrimSpace(raw)
		if item == "" {
			continue
		}
		var ex *ExcerptOptions
		if i := strings.IndexByte(item, ':'); i >= 0 {
			m := excerptPattern.FindStringSubmatch(strings.TrimSpace(item[i+1:]))
			if m == nil {
				return nil, fmt.Errorf("invalid fields modifier %q", item[i+1:])
			}
			n, err := strconv.Atoi(m[1])
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("invalid excerpt length in %q", item)
			}
			ex = &ExcerptOptions{Max: n, Ellipsis: m[2] == "true" || m[2] == "1"}
			item = strings.TrimSpace(item[:i])
		}
		node := root
		parts := strings.Split(item, ".")
		for j, part := range parts {
			if part == "" || (part != "*" && !ValidIdentifier(part)) {
				return nil, fmt.Errorf("invalid fields item %q", raw)
			}
			if part == "*" {
				if j != len(parts)-1 {
					return nil, fmt.Errorf("invalid fields item %q", raw)
				}
				node.star = true
				break
			}
			if j == len(parts)-1 && ex != nil {
				if node.excerpts == nil {
					node.excerpts = map[string]ExcerptOptions{}
				}
				node.excerpts[part] = *ex
			}
			if node.children == nil {
				node.children = map[string]*Projection{}
			}
			next, ok := node.children[part]
			if !ok {
				// A leaf means "the whole value": a nil child includes everything.
				if j == len(parts)-1 {
					node.children[part] = nil
					break
				}
				next = &Projection{}
				node.children[part] = next
			} else if next == nil {
				break // already whole
			}
			node = next
		}
	}
	return root, nil
}

func (p *Projection) includes(name string) bool {
	if p == nil || p.star {
		return true
	}
	_, ok := p.children[name]
	return ok
}

func (p *Projection) child(name string) *Projection {
	if p == nil {
		return nil
	}
	if c, ok := p.children[name]; ok {
		return c
	}
	if p.star {
		return nil
	}
	return &Projection{}
}

func (p *Projection) excerpt(name string) (ExcerptOptions, bool) {
	if p == nil {
		return ExcerptOptions{}, false
	}
	e, ok := p.excerpts[name]
	return e, ok
}

var (
	tagPattern   = regexp.MustCompile(`<[^>]*>`)
	spacePattern = regexp.MustCompile(`\s+`)
)

// Excerpt strips HTML tags, collapses white space and cuts s to max
// characters, adding "..." when ellipsis is set and something was cut.
func Excerpt(s string, max int, ellipsis bool) string {
	s = tagPattern.ReplaceAllString(s, " ")
	s = strings.TrimSpace(spacePattern.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	cut := []rune(s)[:max]
	out := strings.TrimRight(string(cut), " ")
	if ellipsis {
		out += "..."
	}
	return out
}

// splitTopLevel splits s on commas that are not inside parentheses, so
// that "a,b:excerpt(10,true)" gives two items.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
