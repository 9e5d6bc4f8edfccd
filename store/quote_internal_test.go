package store

import "testing"

// TestQuoteEscapes checks the second line of defence behind identifier
// validation: an embedded quote stays inside the one identifier.
func TestQuoteEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`users`:                 `"users"`,
		`x"; DROP TABLE users;`: `"x""; DROP TABLE users;"`,
		`""`:                    `""""""`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := quoteIf(nil, "a`b"); got != "`a``b`" {
		t.Errorf("canonical quote = %s", got)
	}
}
