package plinth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/store"
)

func TestParseEncryptionKey(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{0xab}, 32)
	for _, in := range []string{
		hex.EncodeToString(key),
		base64.StdEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		"  " + hex.EncodeToString(key) + "\n",
	} {
		got, err := parseEncryptionKey(in)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("parseEncryptionKey(%q) = %x, %v", in, got, err)
		}
	}
	if got, err := parseEncryptionKey(strings.Repeat("k", 32)); err != nil || string(got) != strings.Repeat("k", 32) {
		t.Errorf("32 characters: %q %v", got, err)
	}
	for _, bad := range []string{"", "short", hex.EncodeToString(key[:20]), strings.Repeat("k", 33)} {
		if _, err := parseEncryptionKey(bad); err == nil {
			t.Errorf("parseEncryptionKey(%q) accepted", bad)
		}
	}
}

// TestOpenSealer: without a configured key one is generated once, kept and
// warned about; a key configured later still opens what the stored one
// sealed.
func TestOpenSealer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Dir: testenv.New(t, "sqlite").Dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	gen, err := openSealer(ctx, st, "", log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "weakens their protection at rest") {
		t.Errorf("no warning logged: %s", logs.String())
	}
	sealed, err := gen.Seal([]byte("secret"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := openSealer(ctx, st, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := again.Open(sealed, []byte("ad")); err != nil || string(pt) != "secret" {
		t.Fatalf("the generated key is not kept: %q %v", pt, err)
	}
	logs.Reset()
	configured, err := openSealer(ctx, st, hex.EncodeToString(bytes.Repeat([]byte{1}, 32)), log)
	if err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("warning with a configured key: %s", logs.String())
	}
	if pt, err := configured.Open(sealed, []byte("ad")); err != nil || string(pt) != "secret" {
		t.Fatalf("a configured key must still open values sealed with the stored one: %v", err)
	}
	if s2, _ := configured.Seal([]byte("x"), nil); !configured.NeedsRotation(sealed) || configured.NeedsRotation(s2) {
		t.Error("new values must be sealed with the configured key")
	}
	if _, err := openSealer(ctx, st, "bad", log); err == nil {
		t.Error("a malformed key must be refused")
	}
}
