package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// openStore opens a store on b, closed when the test ends.
func openStore(t *testing.T, b testenv.Backend, cfg store.Config) *store.Store {
	t.Helper()
	cfg.Dir, cfg.URL = b.Dir, b.URL
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newRecord returns a new record of c with values set and system fields
// (id, created, updated) filled in.
func newRecord(c *schema.Collection, values map[string]any) *schema.Record {
	r := schema.NewRecord(c)
	for k, v := range values {
		r.Set(k, v)
	}
	schema.Prepare(r, true, time.Now())
	return r
}
