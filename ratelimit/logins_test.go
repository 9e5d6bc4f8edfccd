package ratelimit

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// testFailedLogins runs the FailedLogins scenario on a store; advance moves
// its clock.
func testFailedLogins(t *testing.T, s Store, advance func(time.Duration)) {
	ctx := context.Background()
	f := NewFailedLogins(s, LoginLimits{PerIdentityIP: 3, PerIP: 5, Window: time.Minute})
	check := func(identity, ip string) time.Duration {
		t.Helper()
		d, err := f.Check(ctx, identity, ip)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	fail := func(identity, ip string) {
		t.Helper()
		if err := f.Fail(ctx, identity, ip); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if d := check("Alice@Example.com", "1.1.1.1"); d != 0 {
			t.Fatalf("throttled early: %v", d)
		}
		fail("Alice@Example.com", "1.1.1.1")
	}
	// Identities are case- and space-insensitive, from the IP that failed.
	if d := check(" alice@example.COM ", "1.1.1.1"); d <= 0 {
		t.Fatal("identity not throttled from 1.1.1.1 after 3 failures")
	}
	// From another IP the owner is not locked out.
	if d := check("alice@example.com", "2.2.2.2"); d != 0 {
		t.Fatalf("identity throttled from another IP: %v", d)
	}
	if d := check("bob@example.com", "2.2.2.2"); d != 0 {
		t.Fatalf("other identity throttled: %v", d)
	}
	// A success from elsewhere does not clear 1.1.1.1's count; one from
	// there does, but not the IP's own.
	if err := f.Succeed(ctx, "ALICE@example.com", "2.2.2.2"); err != nil {
		t.Fatal(err)
	}
	if d := check("alice@example.com", "1.1.1.1"); d <= 0 {
		t.Fatal("a success from another IP cleared 1.1.1.1's failures")
	}
	if err := f.Succeed(ctx, "ALICE@example.com", "1.1.1.1"); err != nil {
		t.Fatal(err)
	}
	if d := check("alice@example.com", "1.1.1.1"); d != 0 {
		t.Fatalf("still throttled after success: %v", d)
	}
	// The IP has 3 failures; 2 more on other identities exhaust it.
	fail("carol@example.com", "1.1.1.1")
	fail("dave@example.com", "1.1.1.1")
	d := check("erin@example.com", "1.1.1.1")
	if d <= 0 {
		t.Fatal("IP not throttled after 5 failures")
	}
	if d := check("erin@example.com", "3.3.3.3"); d != 0 {
		t.Fatalf("other IP throttled: %v", d)
	}
	advance(d)
	if d := check("erin@example.com", "1.1.1.1"); d != 0 {
		t.Fatalf("still throttled after retryAfter: %v", d)
	}
	// Empty parts are not counted.
	for range 10 {
		fail("", "")
	}
	if d := check("", ""); d != 0 {
		t.Fatalf("empty identity/ip throttled: %v", d)
	}
}

func TestFailedLoginsMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		testFailedLogins(t, NewMemory(), time.Sleep)
	})
}

func TestIdentityKeyHashed(t *testing.T) {
	k := identityKey(" Alice@Example.com", "1.2.3.4")
	if strings.Contains(strings.ToLower(k), "alice") || strings.Contains(k, "1.2.3.4") ||
		k != identityKey("alice@example.com", "1.2.3.4") || k == identityKey("alice@example.com", "1.2.3.5") ||
		len(k) != len("login:idip:")+64 {
		t.Fatalf("identityKey = %q", k)
	}
}

func TestLoginLimitsDefaults(t *testing.T) {
	f := NewFailedLogins(NewMemory(), LoginLimits{})
	if f.limits != DefaultLoginLimits() {
		t.Fatalf("limits = %+v", f.limits)
	}
}
