package plinth

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/plinthdev/plinth/migrate"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// CollectionsMigration is a Go migration (for Config.Migrations) that
// creates the collections defs describe, in order, each in the JSON shape
// the collections API takes ({"name": "todos", "fields": [...], ...}).
// A collection whose name already exists is left as it is, so that the
// migration is idempotent, as Go migrations must be. Down deletes the
// collections in reverse order.
//
// Give a collection an explicit "id" when another one's relation field
// points at it ("collectionId"): ids are what relations store.
func CollectionsMigration(name string, defs ...string) migrate.Go {
	return migrate.Go{
		Name: name,
		Up: func(ctx context.Context, st *store.Store) error {
			for i, def := range defs {
				c := &schema.Collection{}
				if err := json.Unmarshal([]byte(def), c); err != nil {
					return fmt.Errorf("collection %d of %s: %w", i+1, name, err)
				}
				if st.Schema().Lookup(c.Name) != nil {
					continue
				}
				if _, err := st.SaveCollection(ctx, c); err != nil {
					return fmt.Errorf("collection %q: %w", c.Name, err)
				}
			}
			return nil
		},
		Down: func(ctx context.Context, st *store.Store) error {
			for i := len(defs) - 1; i >= 0; i-- {
				var c struct {
					Name string `json:"name"`
				}
				if err := json.Unmarshal([]byte(defs[i]), &c); err != nil {
					return fmt.Errorf("collection %d of %s: %w", i+1, name, err)
				}
				existing := st.Schema().Lookup(c.Name)
				if existing == nil {
					continue
				}
				if err := st.DeleteCollection(ctx, existing); err != nil {
					return fmt.Errorf("collection %q: %w", c.Name, err)
				}
			}
			return nil
		},
	}
}
