// Package hook is an ordered list of handlers of one event type, with
// priorities and unbinding. It does no I/O; the plinth package builds its
// record, auth and collection hooks from it.
package hook

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Handler is one bound function of a Hook.
type Handler[T any] struct {
	// ID identifies the handler for Unbind; Bind fills it in when empty.
	ID string
	// Priority orders the handlers: lower runs first; equal priorities run
	// in the order they were bound.
	Priority int
	// Func handles the event; an error stops the handlers after it.
	Func func(T) error
}

// Hook is a list of handlers. The zero value is ready to use; it is safe
// for concurrent use, and a trigger sees the handlers bound when it began.
type Hook[T any] struct {
	mu       sync.Mutex
	handlers atomic.Pointer[[]*Handler[T]] // sorted, replaced on change
	seq      int
}

// Bind adds h and returns its id.
func (k *Hook[T]) Bind(h Handler[T]) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seq++
	if h.ID == "" {
		h.ID = "h" + strconv.Itoa(k.seq)
	}
	var list []*Handler[T]
	if cur := k.handlers.Load(); cur != nil {
		list = slices.Clone(*cur)
	}
	list = slices.DeleteFunc(list, func(x *Handler[T]) bool { return x.ID == h.ID })
	// After every handler of lower or equal priority: equal priorities
	// keep their binding order.
	i := len(list)
	for j, x := range list {
		if x.Priority > h.Priority {
			i = j
			break
		}
	}
	list = slices.Insert(list, i, &h)
	k.handlers.Store(&list)
	return h.ID
}

// BindFunc binds fn with priority 0 and returns its id.
func (k *Hook[T]) BindFunc(fn func(T) error) string { return k.Bind(Handler[T]{Func: fn}) }

// Unbind removes the handlers with the given ids.
func (k *Hook[T]) Unbind(ids ...string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	cur := k.handlers.Load()
	if cur == nil {
		return
	}
	list := slices.DeleteFunc(slices.Clone(*cur), func(x *Handler[T]) bool { return slices.Contains(ids, x.ID) })
	k.handlers.Store(&list)
}

// Len is the number of bound handlers.
func (k *Hook[T]) Len() int {
	if cur := k.handlers.Load(); cur != nil {
		return len(*cur)
	}
	return 0
}

// Trigger calls the handlers in order with e and returns the first error.
func (k *Hook[T]) Trigger(e T) error {
	cur := k.handlers.Load()
	if cur == nil {
		return nil
	}
	for _, h := range *cur {
		if err := h.Func(e); err != nil {
			return err
		}
	}
	return nil
}
