package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// NATSConfig configures a NATS bus.
type NATSConfig struct {
	// URL of the NATS server(s), comma-separated. Default nats.DefaultURL
	// (nats://127.0.0.1:4222). Ignored when Conn is set.
	URL string
	// SubjectPrefix namespaces the bus: messages go on
	// SubjectPrefix + ".realtime". Instances that should see each other
	// use the same prefix; tests use a unique one. Default "plinth".
	SubjectPrefix string
	// Options are added to the bus's own (name, reconnect forever, logging
	// handlers), for credentials or TLS. Add nats.RetryOnFailedConnect(true)
	// to start even while NATS is down.
	Options []nats.Option
	// Conn, when set, is used instead of dialing; the bus then does not
	// close it.
	Conn *nats.Conn
	// Logger receives connection state changes. Default slog.Default().
	Logger *slog.Logger
}

// NATSBus is a Bus on NATS core publish/subscribe: at most once delivery,
// no persistence, which is all realtime needs. nats.go reconnects by itself
// and restores the subscription; messages published while an instance is
// disconnected are lost for it.
type NATSBus struct {
	nc      *nats.Conn
	own     bool
	subject string

	closeOnce sync.Once
	closed    chan struct{}
}

var _ ReadySubscriber = (*NATSBus)(nil)

// NewNATSBus connects to NATS (unless cfg.Conn is given). It fails when
// the server cannot be reached, unless nats.RetryOnFailedConnect(true) is
// among the options.
func NewNATSBus(cfg NATSConfig) (*NATSBus, error) {
	if cfg.SubjectPrefix == "" {
		cfg.SubjectPrefix = "plinth"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "realtime", "bus", "nats")
	b := &NATSBus{subject: cfg.SubjectPrefix + ".realtime", closed: make(chan struct{})}
	if cfg.Conn != nil {
		b.nc = cfg.Conn
		return b, nil
	}
	url := cfg.URL
	if url == "" {
		url = nats.DefaultURL
	}
	opts := append([]nats.Option{
		nats.Name("plinth-realtime"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("realtime: NATS disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("realtime: NATS reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("realtime: NATS error", "err", err)
		}),
	}, cfg.Options...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("realtime: connect to NATS: %w", err)
	}
	b.nc, b.own = nc, true
	return b, nil
}

// Subject is the NATS subject the bus publishes on.
func (b *NATSBus) Subject() string { return b.subject }

// Publish sends msg. nats.go buffers it and writes it in the background
// (also while reconnecting, up to its reconnect buffer), so this does not
// wait for the network. Messages over the server's max_payload (1 MiB by
// default) fail.
func (b *NATSBus) Publish(ctx context.Context, msg []byte) error {
	if b.isClosed() {
		return ErrBusClosed
	}
	if err := b.nc.Publish(b.subject, msg); err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return ErrBusClosed
		}
		return fmt.Errorf("realtime: NATS publish: %w", err)
	}
	return nil
}

// Subscribe calls handle for each message until ctx is done or the bus is
// closed.
func (b *NATSBus) Subscribe(ctx context.Context, handle func(msg []byte)) error {
	return b.SubscribeReady(ctx, handle, func() {})
}

// SubscribeReady is Subscribe, calling ready once the server has
// registered the subscription.
func (b *NATSBus) SubscribeReady(ctx context.Context, handle func(msg []byte), ready func()) error {
	if b.isClosed() {
		return ErrBusClosed
	}
	// nats.go calls the handler from one goroutine per subscription, in
	// order, as the Bus contract requires.
	sub, err := b.nc.Subscribe(b.subject, func(m *nats.Msg) { handle(m.Data) })
	if err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return ErrBusClosed
		}
		return fmt.Errorf("realtime: NATS subscribe: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	// A flush round trip guarantees the server has the subscription, so
	// messages published from now on reach it.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = b.nc.FlushWithContext(fctx) // needs a deadline
	cancel()
	if err != nil {
		return fmt.Errorf("realtime: NATS subscribe: %w", err)
	}
	ready()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-b.closed:
		return ErrBusClosed
	}
}

func (b *NATSBus) isClosed() bool {
	select {
	case <-b.closed:
		return true
	default:
		return false
	}
}

// Close ends subscriptions and, when the bus dialed it, flushes and closes
// the connection.
func (b *NATSBus) Close() error {
	b.closeOnce.Do(func() {
		close(b.closed)
		if b.own {
			_ = b.nc.FlushTimeout(time.Second)
			b.nc.Close()
		}
	})
	return nil
}
