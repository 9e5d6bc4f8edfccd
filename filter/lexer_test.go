package filter

import "testing"

// TestQuoteRoundTrips checks that Quote writes what the lexer reads back.
func TestQuoteRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", `a "quoted" word`, `back\slash`, "line\nbreak\tand\rreturn", "ünïcode ✓", `\"`, `'single'`} {
		toks, err := lexAll(Quote(s))
		if err != nil || len(toks) != 2 || toks[0].kind != tokString || toks[0].text != s {
			t.Errorf("Quote(%q) = %s lexes to %+v, %v", s, Quote(s), toks, err)
		}
	}
}
