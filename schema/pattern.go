package schema

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"sync"
)

// compiledPatterns caches user regular expressions; patterns come from
// collection options, so the set is small and bounded by the schema.
var compiledPatterns sync.Map // string -> *regexp.Regexp

func compiledPattern(p string) (*regexp.Regexp, error) {
	if re, ok := compiledPatterns.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	compiledPatterns.Store(p, re)
	return re, nil
}

// generatorFor supports the autogenerate patterns PocketBase uses in
// practice: a single character class with a fixed repeat, e.g. [a-z0-9]{15}.
func generatorFor(pattern string) (func() string, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("invalid pattern: %w", err)
	}
	re = re.Simplify()
	if re.Op == syntax.OpConcat && len(re.Sub) == 1 {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpRepeat || re.Min != re.Max || re.Min <= 0 || re.Min > 255 || len(re.Sub) != 1 {
		// Simplify expands x{15} into a concat of 15 copies of x.
		if re.Op == syntax.OpConcat && len(re.Sub) > 0 && len(re.Sub) <= 255 {
			first := re.Sub[0].String()
			for _, s := range re.Sub {
				if s.String() != first {
					return nil, fmt.Errorf("unsupported autogenerate pattern %q: use one character class with a fixed length, e.g. [a-z0-9]{15}", pattern)
				}
			}
			return classGenerator(re.Sub[0], len(re.Sub), pattern)
		}
		return nil, fmt.Errorf("unsupported autogenerate pattern %q: use one character class with a fixed length, e.g. [a-z0-9]{15}", pattern)
	}
	return classGenerator(re.Sub[0], re.Min, pattern)
}

func classGenerator(class *syntax.Regexp, n int, pattern string) (func() string, error) {
	if class.Op != syntax.OpCharClass {
		return nil, fmt.Errorf("unsupported autogenerate pattern %q: use a character class", pattern)
	}
	var alphabet []byte
	for i := 0; i+1 < len(class.Rune); i += 2 {
		for r := class.Rune[i]; r <= class.Rune[i+1]; r++ {
			if r > 126 || r < 33 {
				return nil, fmt.Errorf("unsupported autogenerate pattern %q: printable ASCII only", pattern)
			}
			alphabet = append(alphabet, byte(r))
		}
	}
	if len(alphabet) == 0 || len(alphabet) > 255 {
		return nil, fmt.Errorf("unsupported autogenerate pattern %q", pattern)
	}
	a := string(alphabet)
	return func() string { return RandomString(n, a) }, nil
}
