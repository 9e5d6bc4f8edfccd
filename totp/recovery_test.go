package totp

import (
	"regexp"
	"strings"
	"testing"
)

func TestRecoveryCodes(t *testing.T) {
	plain, hashed := NewRecoveryCodes(0)
	if len(plain) != DefaultRecoveryCodes || len(hashed) != DefaultRecoveryCodes {
		t.Fatalf("got %d/%d codes", len(plain), len(hashed))
	}
	shape := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)
	seen := map[string]bool{}
	for i, p := range plain {
		if !shape.MatchString(p) {
			t.Errorf("code %q has the wrong shape", p)
		}
		if seen[p] {
			t.Errorf("duplicate code %q", p)
		}
		seen[p] = true
		if hashed[i] == p || strings.Contains(hashed[i], strings.ReplaceAll(p, "-", "")) || len(hashed[i]) != 64 {
			t.Errorf("hash %q of %q", hashed[i], p)
		}
	}
	if p, h := NewRecoveryCodes(3); len(p) != 3 || len(h) != 3 {
		t.Errorf("NewRecoveryCodes(3): %d/%d", len(p), len(h))
	}

	// Single use, with normalisation.
	orig := append([]string(nil), hashed...)
	typed := strings.ToUpper(strings.ReplaceAll(plain[3], "-", " "))
	remaining, ok := UseRecoveryCode(hashed, typed)
	if !ok || len(remaining) != len(hashed)-1 {
		t.Fatalf("first use: ok=%v, %d left", ok, len(remaining))
	}
	for _, h := range remaining {
		if h == hashed[3] {
			t.Error("used hash still present")
		}
	}
	for i := range hashed {
		if hashed[i] != orig[i] {
			t.Fatal("input slice modified")
		}
	}
	again, ok := UseRecoveryCode(remaining, plain[3])
	if ok || len(again) != len(remaining) {
		t.Errorf("second use: ok=%v, %d left", ok, len(again))
	}
	// The other codes still work, in any order, until none are left.
	left := remaining
	for i, p := range plain {
		if i == 3 {
			continue
		}
		if left, ok = UseRecoveryCode(left, p); !ok {
			t.Fatalf("code %d rejected", i)
		}
	}
	if len(left) != 0 {
		t.Errorf("%d hashes left", len(left))
	}

	// Look-alike normalisation: o→0, i/l→1.
	p, h := NewRecoveryCodes(1)
	swapped := strings.NewReplacer("0", "O", "1", "l").Replace(p[0])
	if _, ok := UseRecoveryCode(h, swapped); !ok {
		t.Errorf("%q (for %q) rejected", swapped, p[0])
	}
	for _, bad := range []string{"", "----", p[0][:len(p[0])-1], p[0] + "a", p[0][:18] + "u", p[0][:18] + "!",
		strings.Repeat("a", 10000)} {
		if _, ok := UseRecoveryCode(h, bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, ok := UseRecoveryCode(nil, p[0]); ok {
		t.Error("accepted against no hashes")
	}
}
