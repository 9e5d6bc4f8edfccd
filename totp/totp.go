package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Parameters of the codes produced by this package. They are the defaults of
// RFC 6238 and the only values every common authenticator app supports.
const (
	// Digits is the number of decimal digits in a code.
	Digits = 6
	// Period is the length of one time step.
	Period = 30 * time.Second
	// SecretSize is the number of random bytes in a generated secret
	// (160 bits, the size RFC 4226 recommends for HMAC-SHA-1).
	SecretSize = 20
	// Skew is the number of time steps accepted before and after the
	// current one, to tolerate clock drift and typing delay.
	Skew = 1
)

const (
	periodSeconds = int64(Period / time.Second)
	// minSecretBytes is the minimum shared secret length of RFC 4226 (128
	// bits); maxSecretBytes bounds the work done on hostile input.
	minSecretBytes = 16
	maxSecretBytes = 128
)

// Errors returned by this package.
var (
	ErrInvalidSecret = errors.New("totp: invalid secret")
	ErrInvalidTime   = errors.New("totp: time before the Unix epoch")
	ErrInvalidLabel  = errors.New("totp: issuer and account must be non-empty and must not contain ':'")
)

// b32 returns the secret encoding: RFC 4648 base32 without padding, as used
// in otpauth:// URIs.
func b32() *base32.Encoding { return base32.StdEncoding.WithPadding(base32.NoPadding) }

// Key is a freshly generated TOTP shared secret.
type Key struct {
	// Secret is the shared secret, base32 without padding. Store it
	// encrypted (see Sealer) and never show it again after enrolment.
	Secret string
	// URI is the otpauth://totp/ key URI to show as a QR code (see PNG) so
	// that an authenticator app can import the secret.
	URI string
}

// Generate creates a new random secret for account at issuer (for example
// the application name and the user's e-mail). Neither may be empty or
// contain a colon, which separates them in the URI label.
func Generate(issuer, account string) (*Key, error) {
	if issuer == "" || account == "" || strings.Contains(issuer, ":") || strings.Contains(account, ":") {
		return nil, ErrInvalidLabel
	}
	raw := make([]byte, SecretSize)
	if _, err := rand.Read(raw); err != nil { // never fails since Go 1.24
		return nil, err
	}
	secret := b32().EncodeToString(raw)
	uri := "otpauth://totp/" + escape(issuer) + ":" + escape(account) +
		"?secret=" + secret +
		"&issuer=" + escape(issuer) +
		"&algorithm=SHA1&digits=" + strconv.Itoa(Digits) +
		"&period=" + strconv.FormatInt(periodSeconds, 10)
	return &Key{Secret: secret, URI: uri}, nil
}

// escape percent-encodes everything except RFC 3986 unreserved characters.
// Spaces become %20 rather than '+', which some authenticator apps would
// otherwise display literally.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// decodeSecret parses a base32 secret, tolerating lower case, spaces and
// padding as users and other systems tend to write them.
func decodeSecret(secret string) ([]byte, error) {
	if len(secret) > 2*maxSecretBytes {
		return nil, ErrInvalidSecret
	}
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	s = strings.TrimRight(s, "=")
	key, err := b32().DecodeString(s)
	if err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, ErrInvalidSecret
	}
	return key, nil
}

// timeStep returns the RFC 6238 time step containing t.
func timeStep(t time.Time) (int64, error) {
	u := t.Unix()
	if u < 0 {
		return 0, ErrInvalidTime
	}
	return u / periodSeconds, nil
}

// hotp computes the RFC 4226 HOTP value of key at counter with the given
// number of digits (6 to 9), zero-padded. Only Digits is used in production;
// the parameter exists so the 8-digit RFC 6238 test vectors can be checked.
func hotp(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	// Dynamic truncation (RFC 4226 section 5.3).
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	s := strconv.FormatUint(uint64(bin%mod), 10)
	return strings.Repeat("0", digits-len(s)) + s
}

// Code returns the code for secret (base32) at time t.
func Code(secret string, t time.Time) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	s, err := timeStep(t)
	if err != nil {
		return "", err
	}
	return hotp(key, uint64(s), Digits), nil
}

// Verify checks code against secret (base32) at time t, accepting the time
// steps within Skew of t's step. Spaces in code are ignored ("123 456").
//
// lastUsedStep is the step returned by the previous successful Verify for
// this secret (0 if none): a code whose step is not after it is rejected, so
// an observed code cannot be replayed, even within its validity window. On
// success Verify returns the matched step, which the caller must persist as
// the new lastUsedStep before treating the user as authenticated.
//
// Codes are compared in constant time. Malformed secrets, codes and times
// are rejected, never panicked on.
func Verify(secret, code string, t time.Time, lastUsedStep int64) (step int64, ok bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != Digits {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	key, err := decodeSecret(secret)
	if err != nil {
		return 0, false
	}
	now, err := timeStep(t)
	if err != nil {
		return 0, false
	}
	// Check every candidate without returning early so that the time taken
	// does not reveal which step (if any) matched.
	var found int64
	matched := 0
	for s := now + Skew; s >= now-Skew; s-- {
		if s < 0 || s <= lastUsedStep {
			continue
		}
		eq := subtle.ConstantTimeCompare([]byte(hotp(key, uint64(s), Digits)), []byte(code))
		// Branch-free select; iterating downwards keeps the earliest
		// matching step, which burns as few future codes as possible.
		mask := -int64(eq)
		found = found&^mask | s&mask
		matched |= eq
	}
	if matched != 1 {
		return 0, false
	}
	return found, true
}
