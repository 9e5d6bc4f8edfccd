package schema

import (
	"crypto/rand"
	"regexp"
)

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// IDLength is the length of generated record and collection ids.
const IDLength = 15

var schemaIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_]{1,100}$`)

// NewID returns a random IDLength-character id of [a-z0-9], as PocketBase does.
func NewID() string { return RandomString(IDLength, idAlphabet) }

// RandomString returns n characters drawn uniformly from alphabet using
// crypto/rand (rejection sampling, so there is no modulo bias).
func RandomString(n int, alphabet string) string {
	out := make([]byte, n)
	max := 255 - (256 % len(alphabet))
	buf := make([]byte, n+n/2+8)
	for i := 0; i < n; {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) > max {
				continue
			}
			out[i] = alphabet[int(b)%len(alphabet)]
			i++
			if i == n {
				break
			}
		}
	}
	return string(out)
}

// ValidID reports whether s can be a record id: 1–100 characters of [a-z0-9_].
// Ids reach SQL only as bound parameters; this check keeps garbage out of
// URLs, file paths and error messages.
// It runs several times per write, inside the writer's turn, so it is a
// loop rather than a regular expression.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ValidSchemaID reports whether s can be the id of a collection or a field:
// 1–100 characters of [a-zA-Z0-9_] (PocketBase's `^\w+$`, which covers the
// ids of its exports such as "pbc_1234", "_pb_users_auth_", "text3208210256"
// and "geoPoint1542800728"). Such ids never need quoting, which keeps them
// safe wherever they end up: temporary column names in schema changes, file
// paths, error messages.
func ValidSchemaID(s string) bool { return schemaIDPattern.MatchString(s) }
