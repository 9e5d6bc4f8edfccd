package schema

import (
	"regexp"
	"strings"
	"testing"
)

// idOracle is ValidID's definition as a regular expression.
var idOracle = regexp.MustCompile(`^[a-z0-9_]{1,100}$`)

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"abc123", true},
		{"_", true},
		{strings.Repeat("a", 100), true},
		{strings.Repeat("a", 101), false},
		{"", false},
		{"Abc", false},
		{"a-b", false},
		{"a b", false},
		{"a\n", false},
		{"é", false},
		{"a\x00", false},
	} {
		if got := ValidID(tc.in); got != tc.want {
			t.Errorf("ValidID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzValidID: the hand-written check agrees with the pattern.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"abc", "", "A", "a_1", "\xff", strings.Repeat("z", 101)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidID(s), idOracle.MatchString(s); got != want {
			t.Fatalf("ValidID(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
