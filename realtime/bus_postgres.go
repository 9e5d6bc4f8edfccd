package realtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// notifyMaxPayload is PostgreSQL's NOTIFY payload limit with the default
// 8 KiB block size: the payload must be shorter than 8000 bytes.
const notifyMaxPayload = 7999

// PostgresConfig configures a PostgreSQL LISTEN/NOTIFY bus.
type PostgresConfig struct {
	// ConnString is the PostgreSQL URL or DSN. Its search_path decides the
	// schema of the outbox table. Required unless Pool is set.
	ConnString string
	// Pool, when set, runs NOTIFY and outbox queries (the bus then does not
	// close it), and its connection config is used for the dedicated
	// LISTEN connection. Default: a pool of at most 4 connections to
	// ConnString, closed with the bus.
	Pool *pgxpool.Pool
	// Channel is the NOTIFY channel. Instances that should see each other
	// use the same channel on the same database; tests use a unique one.
	// Default "plinth_realtime".
	Channel string
	// OutboxTable holds messages too large for NOTIFY: the notification
	// then carries only the row id. Created if missing. A dotted name is
	// schema-qualified. Default "_realtime_outbox".
	OutboxTable string
	// OutboxRetention is how long outbox rows are kept for receivers to
	// fetch. Default 5m.
	OutboxRetention time.Duration
	// SweepInterval is how often old outbox rows are deleted. Default 1m.
	SweepInterval time.Duration
	// HealthInterval: after this long without a notification the LISTEN
	// connection is pinged, so a dead connection is noticed and replaced.
	// Default 30s.
	HealthInterval time.Duration
	// MaxBackoff caps the wait between reconnection attempts (which starts
	// at 100ms and doubles). Default 10s.
	MaxBackoff time.Duration
	// Logger receives connection state changes. Default slog.Default().
	Logger *slog.Logger
}

// PostgresBus is a Bus on PostgreSQL LISTEN/NOTIFY, for deployments that
// already share one PostgreSQL database and want no other service. One
// dedicated connection LISTENs and is re-established with backoff when
// lost (notifications sent meanwhile are lost for this instance).
// Messages of 8000 bytes or more, or that are not valid text, go through
// an outbox table: the notification carries the row id and receivers read
// the row.
type PostgresBus struct {
	cfg      PostgresConfig
	log      *slog.Logger
	pool     *pgxpool.Pool
	ownPool  bool
	connCfg  *pgx.ConnConfig
	listenQ  string // LISTEN statement
	table    string // sanitized outbox table name
	insertQ  string
	selectQ  string
	deleteQ  string
	ctx      context.Context // ends with Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closeMux sync.Once
}

var _ ReadySubscriber = (*PostgresBus)(nil)

// NewPostgresBus connects, creates the outbox table if needed and starts
// the outbox sweeper.
func NewPostgresBus(ctx context.Context, cfg PostgresConfig) (*PostgresBus, error) {
	if cfg.Channel == "" {
		cfg.Channel = "plinth_realtime"
	}
	if cfg.OutboxTable == "" {
		cfg.OutboxTable = "_realtime_outbox"
	}
	if cfg.OutboxRetention <= 0 {
		cfg.OutboxRetention = 5 * time.Minute
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 30 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &PostgresBus{cfg: cfg, log: cfg.Logger.With("component", "realtime", "bus", "postgres")}

	if cfg.Pool != nil {
		b.pool = cfg.Pool
		b.connCfg = cfg.Pool.Config().ConnConfig.Copy()
	} else {
		if cfg.ConnString == "" {
			return nil, errors.New("realtime: PostgresConfig needs ConnString or Pool")
		}
		pcfg, err := pgxpool.ParseConfig(cfg.ConnString)
		if err != nil {
			return nil, fmt.Errorf("realtime: parse PostgreSQL connection string: %w", err)
		}
		pcfg.MaxConns = 4
		b.connCfg = pcfg.ConnConfig.Copy()
		if b.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
			return nil, fmt.Errorf("realtime: PostgreSQL pool: %w", err)
		}
		b.ownPool = true
	}

	b.listenQ = "LISTEN " + pgx.Identifier{cfg.Channel}.Sanitize()
	b.table = pgx.Identifier(strings.Split(cfg.OutboxTable, ".")).Sanitize()
	// Insert and notify in one statement: the notification is delivered
	// at commit, when the row is visible to the receivers.
	b.insertQ = "WITH ins AS (INSERT INTO " + b.table + " (payload) VALUES ($2) RETURNING id) " +
		"SELECT pg_notify($1, 'o' || id::text) FROM ins"
	b.selectQ = "SELECT payload FROM " + b.table + " WHERE id = $1"
	b.deleteQ = "DELETE FROM " + b.table + " WHERE created < now() - make_interval(secs => $1)"

	if err := b.createOutbox(ctx); err != nil {
		if b.ownPool {
			b.pool.Close()
		}
		return nil, err
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.wg.Go(b.sweeper)
	return b, nil
}

// createOutbox creates the outbox table under an advisory lock, because
// concurrent CREATE TABLE IF NOT EXISTS from instances starting together
// can still collide on the catalog.
func (b *PostgresBus) createOutbox(ctx context.Context) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("realtime: create outbox: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	stmts := []string{
		"SELECT pg_advisory_xact_lock(hashtext('plinth_realtime_outbox'))",
		"CREATE TABLE IF NOT EXISTS " + b.table + " (id BIGSERIAL PRIMARY KEY, payload BYTEA NOT NULL, created TIMESTAMPTZ NOT NULL DEFAULT now())",
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("realtime: create outbox %s: %w", b.table, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("realtime: create outbox: %w", err)
	}
	return nil
}

// Channel is the NOTIFY channel of the bus.
func (b *PostgresBus) Channel() string { return b.cfg.Channel }

// Publish sends msg with NOTIFY, or through the outbox when it is too
// large for a notification or not valid text.
func (b *PostgresBus) Publish(ctx context.Context, msg []byte) error {
	if b.ctx.Err() != nil {
		return ErrBusClosed
	}
	if notifiable(msg) {
		_, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", b.cfg.Channel, "m"+string(msg))
		var pgErr *pgconn.PgError
		if err == nil {
			return nil
		}
		// 22023 "payload string too long": the server counts differently
		// (another encoding or block size); the outbox has no such limit.
		if !errors.As(err, &pgErr) || pgErr.Code != "22023" {
			return fmt.Errorf("realtime: NOTIFY: %w", err)
		}
	}
	if _, err := b.pool.Exec(ctx, b.insertQ, b.cfg.Channel, msg); err != nil {
		return fmt.Errorf("realtime: outbox insert: %w", err)
	}
	return nil
}

// PublishBatch sends msgs in order, all the ones that fit a notification
// in one statement: under a write load the bus sender has a backlog, and
// one NOTIFY round trip per message cannot keep up with the writes that
// produce them. Messages for the outbox go one by one, in their place.
func (b *PostgresBus) PublishBatch(ctx context.Context, msgs [][]byte) error {
	if b.ctx.Err() != nil {
		return ErrBusClosed
	}
	var run []string
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		var err error
		if len(run) == 1 {
			_, err = b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", b.cfg.Channel, run[0])
		} else {
			// A function scan of unnest yields the elements in order, so
			// the notifications are queued (and delivered) in order.
			_, err = b.pool.Exec(ctx, "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", b.cfg.Channel, run)
		}
		sent := run
		run = run[:0]
		var pgErr *pgconn.PgError
		if err != nil && len(sent) > 1 && errors.As(err, &pgErr) && pgErr.Code == "22023" {
			// One payload was too long for this server: Publish sends
			// each one again, that one through the outbox.
			for _, m := range sent {
				if err := b.Publish(ctx, []byte(m[1:])); err != nil {
					return err
				}
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("realtime: NOTIFY: %w", err)
		}
		return nil
	}
	for _, msg := range msgs {
		if notifiable(msg) {
			run = append(run, "m"+string(msg))
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := b.Publish(ctx, msg); err != nil {
			return err
		}
	}
	return flush()
}

// notifiable reports whether msg can travel as a NOTIFY payload.
func notifiable(msg []byte) bool {
	return len(msg)+1 <= notifyMaxPayload && utf8.Valid(msg) && bytes.IndexByte(msg, 0) < 0
}

// Subscribe calls handle for each message until ctx is done or the bus is
// closed, reconnecting as needed.
func (b *PostgresBus) Subscribe(ctx context.Context, handle func(msg []byte)) error {
	return b.SubscribeReady(ctx, handle, func() {})
}

// SubscribeReady is Subscribe, calling ready each time LISTEN is in
// effect on a (re)connected session.
func (b *PostgresBus) SubscribeReady(ctx context.Context, handle func(msg []byte), ready func()) error {
	if b.ctx.Err() != nil {
		return ErrBusClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(b.ctx, cancel)
	defer stop()

	backoff := 100 * time.Millisecond
	for {
		listened, err := b.listen(ctx, handle, ready)
		if b.ctx.Err() != nil {
			return ErrBusClosed
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if listened {
			backoff = 100 * time.Millisecond
		}
		b.log.Warn("realtime: PostgreSQL LISTEN connection lost, reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			if b.ctx.Err() != nil {
				return ErrBusClosed
			}
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, b.cfg.MaxBackoff)
	}
}

// listen runs one LISTEN session until it fails; listened reports whether
// LISTEN took effect (to reset the backoff).
func (b *PostgresBus) listen(ctx context.Context, handle func([]byte), ready func()) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, b.connCfg.Copy())
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, b.listenQ); err != nil {
		return false, fmt.Errorf("%s: %w", b.listenQ, err)
	}
	ready()
	for {
		wctx, cancel := context.WithTimeout(ctx, b.cfg.HealthInterval)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			if !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err) {
				return true, err
			}
			// Quiet for HealthInterval: make sure the session is alive.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, fmt.Errorf("health check: %w", err)
			}
			continue
		}
		b.deliver(ctx, n.Payload, handle)
	}
}

// deliver decodes one notification: "m" + message, or "o" + outbox id.
func (b *PostgresBus) deliver(ctx context.Context, payload string, handle func([]byte)) {
	if payload == "" {
		return
	}
	switch payload[0] {
	case 'm':
		handle([]byte(payload[1:]))
	case 'o':
		id, err := strconv.ParseInt(payload[1:], 10, 64)
		if err != nil {
			b.log.Warn("realtime: bad outbox notification", "payload", payload)
			return
		}
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var msg []byte
		if err := b.pool.QueryRow(qctx, b.selectQ, id).Scan(&msg); err != nil {
			b.log.Warn("realtime: outbox row unavailable", "id", id, "err", err)
			return
		}
		handle(msg)
	}
}

// sweeper deletes outbox rows older than OutboxRetention. Every instance
// sweeps; the deletes are idempotent.
func (b *PostgresBus) sweeper() {
	t := time.NewTicker(b.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			if err := b.Sweep(b.ctx); err != nil && b.ctx.Err() == nil {
				b.log.Warn("realtime: outbox sweep failed", "err", err)
			}
		}
	}
}

// Sweep deletes outbox rows older than OutboxRetention now; the bus also
// does it every SweepInterval.
func (b *PostgresBus) Sweep(ctx context.Context) error {
	if _, err := b.pool.Exec(ctx, b.deleteQ, b.cfg.OutboxRetention.Seconds()); err != nil {
		return fmt.Errorf("realtime: outbox sweep: %w", err)
	}
	return nil
}

// Close stops subscriptions and the sweeper and, when the bus created it,
// closes the pool. The outbox table is left in place.
func (b *PostgresBus) Close() error {
	b.closeMux.Do(func() {
		b.cancel()
		b.wg.Wait()
		if b.ownPool {
			b.pool.Close()
		}
	})
	return nil
}
