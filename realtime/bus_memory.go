package realtime

import (
	"context"
	"fmt"
	"sync"
)

// MemoryBus is an in-process Bus: every broker subscribed to the same
// MemoryBus receives what any of them publishes. A single instance needs
// no bus at all (leave Config.Bus nil); MemoryBus is for running several
// brokers in one process, as tests and embedders do.
type MemoryBus struct {
	mu     sync.Mutex
	subs   map[*memorySub]struct{}
	closed bool
	done   chan struct{}
}

type memorySub struct{ ch chan []byte }

var _ ReadySubscriber = (*MemoryBus)(nil)

// NewMemoryBus returns an empty in-process bus.
func NewMemoryBus() *MemoryBus {
	return &MemoryBus{subs: make(map[*memorySub]struct{}), done: make(chan struct{})}
}

// Publish hands a copy of msg to every subscriber, waiting (until ctx is
// done) while a subscriber's backlog of 1024 messages is full.
func (m *MemoryBus) Publish(ctx context.Context, msg []byte) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrBusClosed
	}
	subs := make([]*memorySub, 0, len(m.subs))
	for s := range m.subs {
		subs = append(subs, s)
	}
	m.mu.Unlock()
	cp := append([]byte(nil), msg...)
	for _, s := range subs {
		select {
		case s.ch <- cp:
		case <-ctx.Done():
			return fmt.Errorf("realtime: memory bus publish: %w", ctx.Err())
		case <-m.done:
			return ErrBusClosed
		}
	}
	return nil
}

// Subscribe calls handle for each message until ctx is done or the bus is
// closed.
func (m *MemoryBus) Subscribe(ctx context.Context, handle func(msg []byte)) error {
	return m.SubscribeReady(ctx, handle, func() {})
}

// SubscribeReady is Subscribe, calling ready once the subscription is
// registered.
func (m *MemoryBus) SubscribeReady(ctx context.Context, handle func(msg []byte), ready func()) error {
	s := &memorySub{ch: make(chan []byte, 1024)}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrBusClosed
	}
	m.subs[s] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.subs, s)
		m.mu.Unlock()
	}()
	ready()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.done:
			return ErrBusClosed
		case msg := <-s.ch:
			handle(msg)
		}
	}
}

// Close stops every subscription; later Publish calls fail.
func (m *MemoryBus) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.done)
	}
	return nil
}
