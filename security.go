package plinth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/plinthdev/plinth/ratelimit"
	"github.com/plinthdev/plinth/store"
	"github.com/plinthdev/plinth/totp"
)

// encryptionKeyParam is the _params key of the generated encryption key.
const encryptionKeyParam = "encryption_key"

// parseEncryptionKey reads a 32-byte key written as 64 hex digits, as
// base64 (standard or URL alphabet, padded or not) or as 32 raw
// characters (PocketBase's PB_ENCRYPTION_KEY form).
func parseEncryptionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*totp.KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == totp.KeySize {
			return b, nil
		}
	}
	if len(s) == totp.KeySize {
		return []byte(s), nil
	}
	return nil, errors.New("the encryption key must be 32 bytes: 64 hex digits, base64 of 32 bytes, or 32 characters")
}

// openSealer builds the sealer of secrets at rest from the configured key.
// Without one, a key is generated once and kept in _params, with a
// warning: it then sits in the same database as what it protects. When a
// key is configured later, the stored one still opens older values.
func openSealer(ctx context.Context, st *store.Store, configured string, log *slog.Logger) (*totp.Sealer, error) {
	storedHex, err := st.Param(ctx, encryptionKeyParam)
	if err != nil {
		return nil, err
	}
	var stored []byte
	if storedHex != "" {
		if stored, err = hex.DecodeString(storedHex); err != nil || len(stored) != totp.KeySize {
			return nil, fmt.Errorf("the stored %s parameter is malformed", encryptionKeyParam)
		}
	}
	if configured != "" {
		key, err := parseEncryptionKey(configured)
		if err != nil {
			return nil, fmt.Errorf("PLINTH_ENCRYPTION_KEY: %w", err)
		}
		if stored == nil || string(stored) == string(key) {
			return totp.NewSealer(key)
		}
		return totp.NewSealer(key, stored)
	}
	if stored == nil {
		storedHex, err = st.EnsureParam(ctx, encryptionKeyParam, func() string {
			b := make([]byte, totp.KeySize)
			rand.Read(b)
			return hex.EncodeToString(b)
		})
		if err != nil {
			return nil, err
		}
		if stored, err = hex.DecodeString(storedHex); err != nil {
			return nil, err
		}
	}
	log.Warn("no encryption key configured (PLINTH_ENCRYPTION_KEY): TOTP secrets and the SMTP password are sealed with a key kept in the same database, which weakens their protection at rest")
	return totp.NewSealer(stored)
}

// openRateLimitStore returns the Redis store when url is set (its client
// must be closed with the app), else nil for the API's in-memory default.
func openRateLimitStore(url, prefix string) (ratelimit.Store, *redis.Client, error) {
	if url == "" {
		return nil, nil, nil
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, fmt.Errorf("PLINTH_REDIS_URL: %w", err)
	}
	client := redis.NewClient(opt)
	if prefix == "" {
		prefix = "plinth:rl:"
	}
	return ratelimit.NewRedis(client, prefix), client, nil
}
