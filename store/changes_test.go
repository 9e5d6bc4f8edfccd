package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// TestOnCommit checks that committed writes are reported once, in order,
// and rolled-back writes never.
func TestOnCommit(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openStore(t, b, store.Config{})
		var mu sync.Mutex
		var got []string
		st.OnCommit(func(changes []store.Change) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range changes {
				got = append(got, c.Action+" "+c.Record.GetString("email"))
			}
		})
		users := st.Schema().Lookup("users")
		newUser := func(email string) *schema.Record {
			return newRecord(users, map[string]any{"email": email, "password": "x"})
		}
		ann := newUser("ann@example.com")
		if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, ann) }); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := st.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.Insert(ctx, newUser("ghost@example.com")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		err = st.Tx(ctx, func(tx *store.Tx) error {
			ann.Set("email", "ann2@example.com")
			if err := tx.Update(ctx, ann); err != nil {
				return err
			}
			return tx.Delete(ctx, ann)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"create ann@example.com", "update ann2@example.com", "delete ann2@example.com"}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != len(want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	})
}
