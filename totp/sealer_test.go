package totp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

func TestSealerRoundTrip(t *testing.T) {
	s, err := NewSealer(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("JBSWY3DPEHPK3PXP")
	ad := []byte("users/abc123")
	sealed, err := s.Seal(secret, ad)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || raw[0] != sealVersion {
		t.Fatalf("sealed %q: %v", sealed, err)
	}
	if bytes.Contains(raw, secret) {
		t.Error("plaintext visible")
	}
	got, err := s.Open(sealed, ad)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := s.Seal(secret, ad)
	if again == sealed {
		t.Error("nonce reused")
	}
	if s.NeedsRotation(sealed) {
		t.Error("current value reported as needing rotation")
	}
	// Empty plaintext and additional data are fine.
	e, _ := s.Seal(nil, nil)
	if got, err := s.Open(e, nil); err != nil || len(got) != 0 {
		t.Errorf("empty: %q, %v", got, err)
	}
}

func TestSealerTamperAndBinding(t *testing.T) {
	s, _ := NewSealer(newKey(t))
	sealed, _ := s.Seal([]byte("secret"), []byte("users/alice"))
	raw, _ := base64.StdEncoding.DecodeString(sealed)

	if _, err := s.Open(sealed, []byte("users/bob")); !errors.Is(err, ErrOpen) {
		t.Errorf("wrong additional data: %v", err)
	}
	if _, err := s.Open(sealed, nil); !errors.Is(err, ErrOpen) {
		t.Errorf("missing additional data: %v", err)
	}
	for i := range raw {
		mod := bytes.Clone(raw)
		mod[i] ^= 0x01
		if _, err := s.Open(base64.StdEncoding.EncodeToString(mod), []byte("users/alice")); err == nil {
			t.Errorf("flipping byte %d went unnoticed", i)
		}
	}
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString(raw[:20]),
		base64.StdEncoding.EncodeToString(raw[:len(raw)-1])} {
		if _, err := s.Open(bad, []byte("users/alice")); err == nil {
			t.Errorf("%q opened", bad)
		}
	}
	other, _ := NewSealer(newKey(t))
	if _, err := other.Open(sealed, []byte("users/alice")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("other key: %v", err)
	}
}

func TestSealerRotation(t *testing.T) {
	k1, k2, k3 := newKey(t), newKey(t), newKey(t)
	s1, _ := NewSealer(k1)
	v1, _ := s1.Seal([]byte("one"), []byte("r1"))

	s2, err := NewSealer(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Open(v1, []byte("r1")); err != nil || string(got) != "one" {
		t.Fatalf("old value after rotation: %q, %v", got, err)
	}
	if !s2.NeedsRotation(v1) {
		t.Error("old value not flagged for rotation")
	}
	v2, _ := s2.Seal([]byte("two"), []byte("r2"))
	if s2.NeedsRotation(v2) {
		t.Error("new value flagged for rotation")
	}
	if _, err := s1.Open(v2, []byte("r2")); err == nil {
		t.Error("old sealer opened a value sealed with the new key")
	}
	// Several old keys, any order.
	s3, _ := NewSealer(k3, k1, k2)
	for v, want := range map[string]string{v1: "one", v2: "two"} {
		ad := []byte("r1")
		if want == "two" {
			ad = []byte("r2")
		}
		if got, err := s3.Open(v, ad); err != nil || string(got) != want {
			t.Errorf("s3.Open: %q, %v", got, err)
		}
	}
	// Retired key: value can no longer be opened.
	s4, _ := NewSealer(k3)
	if _, err := s4.Open(v1, []byte("r1")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("retired key: %v", err)
	}
}

func TestNewSealerErrors(t *testing.T) {
	k := newKey(t)
	if _, err := NewSealer(k[:16]); !errors.Is(err, ErrKeySize) {
		t.Errorf("16-byte key: %v", err)
	}
	if _, err := NewSealer(nil); !errors.Is(err, ErrKeySize) {
		t.Errorf("nil key: %v", err)
	}
	if _, err := NewSealer(k, make([]byte, 31)); !errors.Is(err, ErrKeySize) {
		t.Errorf("short old key: %v", err)
	}
	if _, err := NewSealer(k, bytes.Clone(k)); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate key: %v", err)
	}
	var zero Sealer
	if _, err := zero.Seal([]byte("x"), nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("zero Sealer Seal: %v", err)
	}
	if _, err := zero.Open("AAAA", nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("zero Sealer Open: %v", err)
	}
}
