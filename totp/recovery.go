package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Recovery code shape. Each code carries RecoveryCodeBits of entropy.
const (
	// DefaultRecoveryCodes is the number of codes NewRecoveryCodes makes
	// when asked for n <= 0.
	DefaultRecoveryCodes = 10
	// RecoveryCodeBits is the entropy of one recovery code.
	RecoveryCodeBits = recoveryGroups * recoveryGroupLen * 5

	recoveryGroups   = 4
	recoveryGroupLen = 4
	recoveryLen      = recoveryGroups * recoveryGroupLen
	// recoveryAlphabet is Crockford's base32 alphabet in lower case: 32
	// symbols (5 bits each, so a random byte masked to 5 bits selects one
	// without bias) with no i, l, o or u to misread.
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
)

// NewRecoveryCodes returns n (DefaultRecoveryCodes if n <= 0) fresh recovery
// codes: plain, formatted like "7k2m-9xqa-h4fd-3nwe" to show the user once,
// and hashed, their SHA-256 digests (hex) to store in place of them.
//
// A fast unsalted hash is enough here, unlike for passwords, because the
// codes are not chosen by people: each is 80 bits from crypto/rand, so
// recovering one from its hash by brute force takes about 2^79 SHA-256
// evaluations on average, far beyond any attacker, and a salt or a slow hash
// like bcrypt would add nothing but cost. (This is also why the codes have
// sixteen characters: ten would give only 50 bits, which GPUs could exhaust
// against SHA-256 within hours.)
func NewRecoveryCodes(n int) (plain []string, hashed []string) {
	if n <= 0 {
		n = DefaultRecoveryCodes
	}
	plain = make([]string, n)
	hashed = make([]string, n)
	raw := make([]byte, recoveryLen)
	var b strings.Builder
	for i := range n {
		rand.Read(raw) // never returns an error since Go 1.24
		b.Reset()
		for j, r := range raw {
			if j > 0 && j%recoveryGroupLen == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[r&31])
		}
		plain[i] = b.String()
		hashed[i] = hashRecoveryCode(normalizeRecoveryCode(plain[i]))
	}
	return plain, hashed
}

// UseRecoveryCode checks code against the stored hashes. On a match it
// returns the hashes without the used one, which the caller must persist so
// that the code cannot be used again, and ok true. Otherwise it returns a copy
// of hashed unchanged and false. hashed itself is never modified.
//
// Input is normalised first: case, dashes and spaces are ignored and the
// look-alikes o, i and l are read as 0, 1 and 1. Every stored hash is compared
// in constant time, so timing does not reveal which one matched.
func UseRecoveryCode(hashed []string, code string) (remaining []string, ok bool) {
	norm := normalizeRecoveryCode(code)
	if len(norm) != recoveryLen {
		return append([]string(nil), hashed...), false
	}
	h := []byte(hashRecoveryCode(norm))
	match := -1
	for i, stored := range hashed {
		eq := subtle.ConstantTimeCompare(h, []byte(stored))
		// Branch-free: match becomes i on the (only) equal entry.
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	remaining = make([]string, 0, len(hashed))
	for i, stored := range hashed {
		if i != match {
			remaining = append(remaining, stored)
		}
	}
	return remaining, match >= 0
}

// normalizeRecoveryCode returns code in canonical form (lower case, no
// separators, look-alikes mapped), or "" if it contains any other character.
func normalizeRecoveryCode(code string) string {
	if len(code) > 4*recoveryLen {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		c := code[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case '-', ' ':
			continue
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if !strings.ContainsRune(recoveryAlphabet, rune(c)) {
			return ""
		}
		b.WriteByte(c)
	}
	return b.String()
}

// hashRecoveryCode returns the stored form of a normalised code.
func hashRecoveryCode(norm string) string {
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}
