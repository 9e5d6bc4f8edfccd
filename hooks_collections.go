package plinth

import (
	"context"

	"github.com/plinthdev/plinth/hook"
	"github.com/plinthdev/plinth/schema"
)

// CollectionEvent is what a collection hook receives.
type CollectionEvent struct {
	Context context.Context
	// Action is "create", "update" or "delete".
	Action string
	// Old is the stored definition before an update or delete; nil for a
	// create.
	Old *schema.Collection
	// Collection is the new definition; nil for a delete. A Before hook
	// may change it: it is validated after the hooks ran.
	Collection *schema.Collection
}

// CollectionHook binds handlers to collection changes.
type CollectionHook struct {
	before, after *hook.Hook[*CollectionEvent]
}

// Before binds fn to run before every collection change, inside its
// transaction, whatever makes it (API, dashboard, import, migration, Go
// code). Returning an error refuses the change (see Refuse).
func (h CollectionHook) Before(fn func(*CollectionEvent) error, opts ...BindOption) string {
	return bindTo(h.before, fn, opts)
}

// After binds fn to run after a collection change made through the API,
// the dashboard or Go code has committed (not after migrations, which
// replay changes already made). Its error is logged.
func (h CollectionHook) After(fn func(*CollectionEvent) error, opts ...BindOption) string {
	return bindTo(h.after, fn, opts)
}

// Unbind removes the handlers with these ids.
func (h CollectionHook) Unbind(ids ...string) {
	h.before.Unbind(ids...)
	h.after.Unbind(ids...)
}

// OnCollectionChange is the hook of collection creates, updates and
// deletes.
func (a *App) OnCollectionChange() CollectionHook {
	return CollectionHook{a.hooks.beforeCollection, a.hooks.afterCollection}
}

func collectionEvent(ctx context.Context, old, c *schema.Collection) *CollectionEvent {
	e := &CollectionEvent{Context: ctx, Old: old, Collection: c, Action: "update"}
	switch {
	case old == nil:
		e.Action = "create"
	case c == nil:
		e.Action = "delete"
	}
	return e
}

// bindCollectionHooks connects the collection hooks to the store.
func (a *App) bindCollectionHooks() {
	h := a.hooks
	a.store.BeforeCollectionChange(func(ctx context.Context, old, c *schema.Collection) error {
		if h.beforeCollection.Len() == 0 {
			return nil
		}
		return h.beforeCollection.Trigger(collectionEvent(ctx, old, c))
	})
	a.store.OnCollectionChange(func(ctx context.Context, old, c *schema.Collection) {
		if h.afterCollection.Len() == 0 {
			return
		}
		if err := h.afterCollection.Trigger(collectionEvent(ctx, old, c)); err != nil {
			a.log.ErrorContext(ctx, "after-collection-change hook failed", "err", err)
		}
	})
}
