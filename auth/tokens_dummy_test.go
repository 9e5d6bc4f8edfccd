package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestDummyHashCost: the check for an unknown identity hashes at the cost
// it is given (the configured one), not at a fixed one, so that it takes
// as long as a real check.
func TestDummyHashCost(t *testing.T) {
	for _, tc := range []struct{ give, want int }{{4, 4}, {6, 6}, {0, bcrypt.DefaultCost}} {
		if got, err := bcrypt.Cost(dummyHash(tc.give)); err != nil || got != tc.want {
			t.Errorf("dummyHash(%d) has cost %d (%v), want %d", tc.give, got, err, tc.want)
		}
	}
	if CheckPassword("", "anything", 4) {
		t.Error("an empty hash matched")
	}
	h, err := HashPassword("right", 4)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, "right", 4) || CheckPassword(h, "wrong", 4) {
		t.Error("CheckPassword on a real hash")
	}
}
