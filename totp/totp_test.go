package totp

import (
	"encoding/base32"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B and RFC 4226
// Appendix D, base32-encoded.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

func TestRFC6238Vectors(t *testing.T) {
	key, err := decodeSecret(rfcSecret)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 6238 Appendix B, SHA-1 rows (8 digits).
	vectors := []struct {
		unix int64
		code string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, v := range vectors {
		tm := time.Unix(v.unix, 0)
		s, err := timeStep(tm)
		if err != nil {
			t.Fatal(err)
		}
		if got := hotp(key, uint64(s), 8); got != v.code {
			t.Errorf("hotp8(%d) = %s, want %s", v.unix, got, v.code)
		}
		// The 6-digit code is the same truncated value modulo 10^6.
		want6 := v.code[2:]
		got, err := Code(rfcSecret, tm)
		if err != nil || got != want6 {
			t.Errorf("Code(%d) = %q, %v; want %s", v.unix, got, err, want6)
		}
		if st, ok := Verify(rfcSecret, want6, tm, 0); !ok || st != s {
			t.Errorf("Verify(%d) = %d, %v; want %d, true", v.unix, st, ok, s)
		}
	}
}

func TestRFC4226Vectors(t *testing.T) {
	key, _ := decodeSecret(rfcSecret)
	want := []string{"755224", "287082", "359152", "969429", "338314",
		"254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := hotp(key, uint64(i), 6); got != w {
			t.Errorf("hotp(%d) = %s, want %s", i, got, w)
		}
	}
}

func TestGenerate(t *testing.T) {
	k, err := Generate("Plinth Cloud & Co", "alice+x@example.com")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(k.Secret)
	if err != nil || len(raw) != SecretSize || strings.Contains(k.Secret, "=") {
		t.Fatalf("secret %q: %d bytes, %v", k.Secret, len(raw), err)
	}
	u, err := url.Parse(k.URI)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		t.Errorf("URI %s: scheme/host", k.URI)
	}
	if u.Path != "/Plinth Cloud & Co:alice+x@example.com" {
		t.Errorf("label %q", u.Path)
	}
	if strings.Contains(k.URI, " ") || strings.Contains(k.URI, "+") {
		t.Errorf("URI not fully escaped: %s", k.URI)
	}
	q := u.Query()
	for name, want := range map[string]string{"secret": k.Secret, "issuer": "Plinth Cloud & Co",
		"algorithm": "SHA1", "digits": "6", "period": "30"} {
		if got := q.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !strings.HasPrefix(k.URI, "otpauth://totp/Plinth%20Cloud%20%26%20Co:alice%2Bx%40example.com?secret=") {
		t.Errorf("URI %s", k.URI)
	}
	// The generated secret works with Code and Verify.
	now := time.Unix(1_700_000_000, 0)
	c, err := Code(k.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Verify(k.Secret, c, now, 0); !ok {
		t.Error("generated secret does not verify")
	}

	k2, _ := Generate("x", "y")
	if k2.Secret == k.Secret {
		t.Error("secrets repeat")
	}
	for _, bad := range [][2]string{{"", "a"}, {"a", ""}, {"a:b", "c"}, {"a", "b:c"}} {
		if _, err := Generate(bad[0], bad[1]); err == nil {
			t.Errorf("Generate(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestVerifySkew(t *testing.T) {
	now := time.Unix(1_700_000_015, 0) // mid-step
	s, _ := timeStep(now)
	for _, d := range []int64{-2, -1, 0, 1, 2} {
		c, err := Code(rfcSecret, now.Add(time.Duration(d)*Period))
		if err != nil {
			t.Fatal(err)
		}
		st, ok := Verify(rfcSecret, c, now, 0)
		wantOK := d >= -1 && d <= 1
		if ok != wantOK || (ok && st != s+d) {
			t.Errorf("offset %d steps: Verify = %d, %v; want ok=%v step %d", d, st, ok, wantOK, s+d)
		}
	}
	// Spaces and lower-case, padded secrets are tolerated.
	c, _ := Code(rfcSecret, now)
	if _, ok := Verify(strings.ToLower(rfcSecret)+"====", c[:3]+" "+c[3:], now, 0); !ok {
		t.Error("formatted input rejected")
	}
}

func TestVerifyReplay(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	c, _ := Code(rfcSecret, now)
	st, ok := Verify(rfcSecret, c, now, 0)
	if !ok {
		t.Fatal("first use rejected")
	}
	if _, ok := Verify(rfcSecret, c, now, st); ok {
		t.Error("same code accepted twice")
	}
	if _, ok := Verify(rfcSecret, c, now.Add(Period), st); ok {
		t.Error("same code replayed in the next step")
	}
	// An older code still inside the skew window is refused too.
	prev, _ := Code(rfcSecret, now.Add(-Period))
	if _, ok := Verify(rfcSecret, prev, now, st); ok {
		t.Error("earlier step accepted after a later one")
	}
	// The next step's code is fine.
	next, _ := Code(rfcSecret, now.Add(Period))
	if st2, ok := Verify(rfcSecret, next, now.Add(Period), st); !ok || st2 != st+1 {
		t.Errorf("next code: %d, %v", st2, ok)
	}
}

func TestVerifyMalformed(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good, _ := Code(rfcSecret, now)
	cases := []struct{ secret, code string }{
		{rfcSecret, ""},
		{rfcSecret, "12345"},
		{rfcSecret, "1234567"},
		{rfcSecret, "12a456"},
		{rfcSecret, "-12345"},
		{rfcSecret, "١٢٣٤٥٦"},
		{"", good},
		{"not base32!", good},
		{"GEZDGNBV", good}, // 5 bytes: too short
		{strings.Repeat("A", 1000), good},
	}
	for _, c := range cases {
		if _, ok := Verify(c.secret, c.code, now, 0); ok {
			t.Errorf("Verify(%q, %q) accepted", c.secret, c.code)
		}
	}
	if _, ok := Verify(rfcSecret, good, time.Unix(-100, 0), -10); ok {
		t.Error("pre-epoch time accepted")
	}
	if _, err := Code(rfcSecret, time.Unix(-1, 0)); err == nil {
		t.Error("Code accepted pre-epoch time")
	}
	if _, err := Code("@@", now); err == nil {
		t.Error("Code accepted bad secret")
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(rfcSecret, "287082", int64(59), int64(0))
	f.Add("", "", int64(0), int64(-1))
	f.Add("gezdgnbvgy3tqojqgezdgnbvgy3tqojq====", "123 456", int64(-1), int64(1<<62))
	f.Add(rfcSecret, "999999", int64(1<<62), int64(-1<<63))
	f.Fuzz(func(t *testing.T, secret, code string, unix, last int64) {
		tm := time.Unix(unix, 0)
		st, ok := Verify(secret, code, tm, last)
		if !ok {
			return
		}
		if st <= last {
			t.Fatalf("accepted step %d <= lastUsedStep %d", st, last)
		}
		now, err := timeStep(tm)
		if err != nil || st < now-Skew || st > now+Skew {
			t.Fatalf("accepted step %d outside window of %d (%v)", st, now, err)
		}
		c, err := Code(secret, time.Unix(st*periodSeconds, 0))
		if err != nil || c != strings.ReplaceAll(code, " ", "") {
			t.Fatalf("accepted %q but step %d has code %q (%v)", code, st, c, err)
		}
	})
}
