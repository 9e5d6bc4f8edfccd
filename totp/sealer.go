package totp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Sealed format: base64 (standard, padded) of
//
//	version (1 byte) | key id (4 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// The version byte allows the format to change later. The key id names the
// key that sealed the value so Open can pick it directly and NeedsRotation
// can tell old values from current ones. The header (version and key id) is
// authenticated together with the caller's additional data.
const (
	sealVersion = 1
	keyIDLen    = 4
	headerLen   = 1 + keyIDLen
	nonceLen    = 12
	// KeySize is the length of a Sealer key: 32 bytes, for AES-256.
	KeySize = 32
)

// Errors returned by Sealer.
var (
	ErrKeySize    = errors.New("totp: sealer key must be 32 bytes")
	ErrNoKey      = errors.New("totp: Sealer not created with NewSealer")
	ErrDuplicate  = errors.New("totp: sealer keys must be distinct")
	ErrMalformed  = errors.New("totp: malformed sealed value")
	ErrUnknownKey = errors.New("totp: sealed with an unknown key")
	ErrOpen       = errors.New("totp: sealed value failed authentication")
)

type sealKey struct {
	id   [keyIDLen]byte
	aead cipher.AEAD
}

// Sealer encrypts small secrets such as TOTP keys for storage, with
// AES-256-GCM and a random nonce per value. It supports key rotation: it
// seals with its current key and opens values sealed with the current key or
// any old one. The zero value is unusable; create one with NewSealer. A
// Sealer is immutable and safe for concurrent use.
type Sealer struct {
	keys []sealKey // keys[0] is current
}

// NewSealer returns a Sealer that seals with current and opens values sealed
// with current or any of old. Every key must be KeySize random bytes (for
// example from a secret manager or `openssl rand 32`). To rotate, make the new
// key current and pass the previous one in old until every stored value has
// been re-sealed (see NeedsRotation). The key bytes are not retained.
func NewSealer(current []byte, old ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	seen := map[[keyIDLen]byte]bool{}
	for _, k := range append([][]byte{current}, old...) {
		if len(k) != KeySize {
			return nil, ErrKeySize
		}
		id := keyID(k)
		if seen[id] {
			// Equal keys, or (with probability 2^-32) an id collision;
			// either way Open could not tell the keys apart.
			return nil, ErrDuplicate
		}
		seen[id] = true
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, sealKey{id: id, aead: aead})
	}
	return s, nil
}

// keyID derives a public identifier for key. It is a truncated hash under a
// fixed domain-separation prefix; it reveals nothing usable about a 256-bit
// random key.
func keyID(key []byte) [keyIDLen]byte {
	h := sha256.New()
	h.Write([]byte("plinth totp sealer key id\x00"))
	h.Write(key)
	var id [keyIDLen]byte
	copy(id[:], h.Sum(nil))
	return id
}

// Seal encrypts plaintext with the current key and returns the sealed value
// as base64 text. additionalData is authenticated but not stored: pass
// something identifying where the value belongs, such as the collection and
// record id, so that a sealed secret copied to another record fails to Open.
func (s *Sealer) Seal(plaintext, additionalData []byte) (string, error) {
	if s == nil || len(s.keys) == 0 {
		return "", ErrNoKey
	}
	k := s.keys[0]
	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plaintext)+k.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:headerLen], k.id[:])
	nonce := out[headerLen:]
	if _, err := rand.Read(nonce); err != nil { // never fails since Go 1.24
		return "", err
	}
	out = k.aead.Seal(out, nonce, plaintext, aad(out[:headerLen], additionalData))
	return base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value produced by Seal, with the same additionalData, using
// the key that sealed it, which must be the current key or one of the old
// keys (the key id in the value selects it; the current key is checked
// first). It returns an error if the value is malformed, sealed with an unknown
// key, tampered with, or bound to different additional data.
func (s *Sealer) Open(sealed string, additionalData []byte) ([]byte, error) {
	raw, k, err := s.parse(sealed)
	if err != nil {
		return nil, err
	}
	nonce := raw[headerLen : headerLen+nonceLen]
	pt, err := k.aead.Open(nil, nonce, raw[headerLen+nonceLen:], aad(raw[:headerLen], additionalData))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// NeedsRotation reports whether sealed was made with a key other than the
// current one (or cannot be parsed), meaning it should be opened and sealed
// again so the old key can eventually be retired. It does not authenticate
// the value.
func (s *Sealer) NeedsRotation(sealed string) bool {
	_, k, err := s.parse(sealed)
	return err != nil || k != &s.keys[0]
}

// parse decodes sealed, checks its shape and finds its key.
func (s *Sealer) parse(sealed string) ([]byte, *sealKey, error) {
	if s == nil || len(s.keys) == 0 {
		return nil, nil, ErrNoKey
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < headerLen+nonceLen+16 {
		return nil, nil, ErrMalformed
	}
	if raw[0] != sealVersion {
		return nil, nil, fmt.Errorf("%w: unsupported version %d", ErrMalformed, raw[0])
	}
	// Key ids are public, so a plain lookup is fine.
	for i := range s.keys {
		if string(s.keys[i].id[:]) == string(raw[1:headerLen]) {
			return raw, &s.keys[i], nil
		}
	}
	return nil, nil, ErrUnknownKey
}

// aad returns the GCM additional data: the header followed by the caller's
// data. The header has a fixed length, so the concatenation is unambiguous.
func aad(header, additionalData []byte) []byte {
	return append(append(make([]byte, 0, len(header)+len(additionalData)), header...), additionalData...)
}
