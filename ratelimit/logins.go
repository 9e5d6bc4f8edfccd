package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// LoginLimits are the budgets of [FailedLogins].
type LoginLimits struct {
	// PerIdentityIP is how many failed logins one identity (e-mail or
	// username) may have from one IP per Window. Failures from other IPs
	// do not count against it, so nobody can lock an account's owner out
	// by failing on purpose from elsewhere.
	PerIdentityIP int
	// PerIP is how many failed logins one IP may have per Window, whatever
	// the identities it tries.
	PerIP int
	// Window is the sliding window both budgets are counted over.
	Window time.Duration
}

// DefaultLoginLimits returns 5 failures per identity and IP and 20 per IP
// in 15 minutes: enough for a person who mistypes, and under 2000 guesses
// a day from one IP however many accounts it tries. An attacker with many
// IPs gets 5 guesses per account per IP per window; the password hash
// (and a long password) is what stands against that, as in PocketBase,
// which has no per-account lockout at all.
func DefaultLoginLimits() LoginLimits {
	return LoginLimits{PerIdentityIP: 5, PerIP: 20, Window: 15 * time.Minute}
}

// FailedLogins throttles password guessing. Call Check before verifying a
// password and refuse the attempt while it returns a positive retryAfter;
// call Fail after a wrong password and Succeed after a right one.
//
// Only failures count, so a user who logs in often is never throttled.
// Failures are counted per identity and IP, and per IP: an identity is
// never throttled as such, only from the IPs that failed on it, so an
// attacker cannot lock its owner (a superuser included) out. Succeed
// clears the identity's count from that IP but not the IP's, so an
// attacker who owns one account cannot use it to reset the budget of the
// IP it guesses other accounts from. Identities are trimmed and
// lowercased, then hashed with the IP using SHA-256 before they become
// keys ("login:idip:<hex>"); IPs are used as given ("login:ip:<ip>"). An
// empty identity or IP is not counted.
type FailedLogins struct {
	store  Store
	limits LoginLimits
}

// NewFailedLogins returns a FailedLogins counting in store. Zero fields of
// limits take their [DefaultLoginLimits] value.
func NewFailedLogins(store Store, limits LoginLimits) *FailedLogins {
	d := DefaultLoginLimits()
	if limits.PerIdentityIP <= 0 {
		limits.PerIdentityIP = d.PerIdentityIP
	}
	if limits.PerIP <= 0 {
		limits.PerIP = d.PerIP
	}
	if limits.Window <= 0 {
		limits.Window = d.Window
	}
	return &FailedLogins{store: store, limits: limits}
}

// identityKey is the key of an identity's failures from ip.
func identityKey(identity, ip string) string {
	h := sha256.New()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(identity))))
	h.Write([]byte{0})
	h.Write([]byte(ip))
	return "login:idip:" + hex.EncodeToString(h.Sum(nil))
}

func ipKey(ip string) string { return "login:ip:" + ip }

// keys returns the keys and budgets that apply to an attempt.
func (f *FailedLogins) keys(identity, ip string) (keys []string, maxes []int) {
	if strings.TrimSpace(identity) != "" && ip != "" {
		keys, maxes = append(keys, identityKey(identity, ip)), append(maxes, f.limits.PerIdentityIP)
	}
	if ip != "" {
		keys, maxes = append(keys, ipKey(ip)), append(maxes, f.limits.PerIP)
	}
	return keys, maxes
}

// Check returns how long the attempt must wait, 0 when it may go ahead.
// It counts nothing. On error the caller chooses; failing open (logging and
// going ahead) keeps logins working while Redis is down, and the password
// hash still makes each guess slow.
func (f *FailedLogins) Check(ctx context.Context, identity, ip string) (retryAfter time.Duration, err error) {
	keys, maxes := f.keys(identity, ip)
	for i, k := range keys {
		ok, retry, err := f.store.Peek(ctx, k, maxes[i], f.limits.Window)
		if err != nil {
			return 0, err
		}
		if !ok && retry > retryAfter {
			retryAfter = retry
		}
	}
	return retryAfter, nil
}

// Fail counts a failed attempt against the identity and the IP.
func (f *FailedLogins) Fail(ctx context.Context, identity, ip string) error {
	keys, maxes := f.keys(identity, ip)
	for i, k := range keys {
		if _, _, err := f.store.Allow(ctx, k, maxes[i], f.limits.Window); err != nil {
			return err
		}
	}
	return nil
}

// Succeed forgets the identity's failures from ip after a successful
// login from there.
func (f *FailedLogins) Succeed(ctx context.Context, identity, ip string) error {
	if strings.TrimSpace(identity) == "" || ip == "" {
		return nil
	}
	return f.store.Reset(ctx, identityKey(identity, ip))
}
