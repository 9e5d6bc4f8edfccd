package record

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// TestHashAheadKeepsBcryptOutOfTx checks the structure that keeps bcrypt
// from holding the (SQLite: only) writer: with HashAhead run first, a
// sign-up and a password change (old password checked) run no bcrypt
// inside their transactions, and still store a working hash. Without
// HashAhead the work happens in the transaction, as it used to.
func TestHashAheadKeepsBcryptOutOfTx(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st, err := store.Open(ctx, store.Config{Dir: b.Dir, URL: b.URL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		var inTx atomic.Bool
		var before, inside atomic.Int32
		svc := &Service{Store: st, BcryptCost: 4, onBcrypt: func() {
			if inTx.Load() {
				inside.Add(1)
			} else {
				before.Add(1)
			}
		}}
		users := st.Schema().Lookup("users")
		guest := &Caller{Request: &filter.RequestInfo{Method: "POST", Context: "default"}}
		write := func(ctx context.Context, fn func(ctx context.Context, tx *store.Tx) error) error {
			return st.Tx(ctx, func(tx *store.Tx) error {
				inTx.Store(true)
				defer inTx.Store(false)
				return fn(ctx, tx)
			})
		}
		counts := func(what string, wantBefore, wantInside int32) {
			t.Helper()
			if b, i := before.Swap(0), inside.Swap(0); b != wantBefore || i != wantInside {
				t.Errorf("%s: %d bcrypt calls before the transaction, %d inside; want %d and %d", what, b, i, wantBefore, wantInside)
			}
		}

		body := map[string]any{"email": "ann@example.com", "password": "first-password", "passwordConfirm": "first-password"}
		var ann *schema.Record
		err = write(svc.HashAhead(ctx, guest, users, "", body), func(ctx context.Context, tx *store.Tx) error {
			ann, err = svc.Create(ctx, tx, guest, users, body)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		counts("sign-up", 1, 0)
		if !auth.CheckPassword(ann.GetString("password"), "first-password", 4) {
			t.Fatal("the hash made ahead does not match the password")
		}

		// The owner changes the password: old one compared, new one hashed,
		// both before the transaction.
		owner := &Caller{Auth: ann, Request: &filter.RequestInfo{Auth: ann, Method: "PATCH", Context: "default"}}
		change := map[string]any{"oldPassword": "first-password", "password": "second-password", "passwordConfirm": "second-password"}
		var updated *schema.Record
		err = write(svc.HashAhead(ctx, owner, users, ann.ID(), change), func(ctx context.Context, tx *store.Tx) error {
			updated, err = svc.Update(ctx, tx, owner, users, ann.ID(), change)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		counts("password change", 2, 0)
		if !auth.CheckPassword(updated.GetString("password"), "second-password", 4) || updated.GetString("tokenKey") == ann.GetString("tokenKey") {
			t.Fatal("password change: new hash or token key rotation missing")
		}

		// A wrong old password is refused as before, without bcrypt in the tx.
		wrong := map[string]any{"oldPassword": "not-it", "password": "third-password", "passwordConfirm": "third-password"}
		owner.Auth, owner.Request.Auth = updated, updated
		err = write(svc.HashAhead(ctx, owner, users, ann.ID(), wrong), func(ctx context.Context, tx *store.Tx) error {
			_, err := svc.Update(ctx, tx, owner, users, ann.ID(), wrong)
			return err
		})
		if errs, ok := err.(schema.Errors); !ok || errs["oldPassword"] == nil {
			t.Fatalf("wrong old password: %v", err)
		}
		counts("wrong old password", 2, 0)

		// Someone who may not update the record makes the server hash
		// nothing: the write fails in the transaction as before.
		stranger := &Caller{Request: &filter.RequestInfo{Method: "PATCH", Context: "default"}}
		_ = write(svc.HashAhead(ctx, stranger, users, ann.ID(), change), func(ctx context.Context, tx *store.Tx) error {
			_, err := svc.Update(ctx, tx, stranger, users, ann.ID(), change)
			return err
		})
		counts("stranger", 0, 0)

		// A mismatched confirmation is reported, nothing hashed.
		bad := map[string]any{"email": "bob@example.com", "password": "bob-password", "passwordConfirm": "other"}
		err = write(svc.HashAhead(ctx, guest, users, "", bad), func(ctx context.Context, tx *store.Tx) error {
			_, err := svc.Create(ctx, tx, guest, users, bad)
			return err
		})
		if errs, ok := err.(schema.Errors); !ok || errs["passwordConfirm"] == nil {
			t.Fatalf("mismatched confirmation: %v", err)
		}
		counts("mismatch", 0, 0)

		// Without HashAhead the result is the same, at the old cost.
		body = map[string]any{"email": "cid@example.com", "password": "cid-password", "passwordConfirm": "cid-password"}
		err = write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := svc.Create(ctx, tx, guest, users, body)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		counts("without HashAhead", 0, 1)
	})
}

// TestPasswordCost: the cost of new hashes, and of the dummy check for an
// unknown identity, is the password field's own, else --bcrypt-cost.
func TestPasswordCost(t *testing.T) {
	c := &schema.Collection{ID: "c1", Name: "c", Type: schema.TypeAuth, Fields: []*schema.Field{
		{Name: "password", Type: "password", Options: &schema.PasswordOptions{}},
		{Name: "pin", Type: "password", Options: &schema.PasswordOptions{Cost: 6}},
	}}
	svc := &Service{BcryptCost: 12}
	for name, want := range map[string]int{"password": 12, "pin": 6, "missing": 12} {
		if got := svc.PasswordCost(c, name); got != want {
			t.Errorf("PasswordCost(%s) = %d, want %d", name, got, want)
		}
	}
}
