package logs

import (
	"context"
	"log/slog"
)

// Handler is a slog.Handler that passes every record to another handler
// and also keeps those at or above a level in a Store, as entries of type
// "app": the application's log lands next to the request log.
type Handler struct {
	next  slog.Handler
	store *Store
	level slog.Leveler
	attrs []slog.Attr
	group string
}

// NewHandler tees next's records at or above level into store.
func NewHandler(next slog.Handler, store *Store, level slog.Leveler) *Handler {
	return &Handler{next: next, store: store, level: level}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l) || l >= h.level.Level()
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= h.level.Level() {
		data := map[string]any{"type": "app"}
		add := func(a slog.Attr) bool {
			key := a.Key
			if h.group != "" {
				key = h.group + "." + key
			}
			data[key] = a.Value.Resolve().Any()
			if err, ok := data[key].(error); ok {
				data[key] = err.Error()
			}
			return true
		}
		for _, a := range h.attrs {
			add(a)
		}
		r.Attrs(add)
		h.store.Add(Entry{Level: int(r.Level), Message: r.Message, Data: data})
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
