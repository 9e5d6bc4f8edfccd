package plinth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthdev/plinth/api"
	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/gql"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/logs"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/migrate"
	"github.com/plinthdev/plinth/openapi"
	"github.com/plinthdev/plinth/realtime"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/settings"
	"github.com/plinthdev/plinth/store"
	"github.com/plinthdev/plinth/webhooks"
)

// Version is the release of this build (set with -ldflags "-X").
var Version = "0.1.0-dev"

// Config is everything an App needs. Zero values mean the documented defaults.
type Config struct {
	// HTTPAddr is the listen address (default 127.0.0.1:8090).
	HTTPAddr string
	// HTTPS, with Domains, serves over TLS with ACME certificates (see
	// App.ServeHTTPS); HTTPAddr then answers challenges and redirects.
	HTTPS HTTPSConfig
	// DataDir holds the SQLite database (default ./plinth_data).
	DataDir string
	// DatabaseURL selects PostgreSQL (postgres://...); empty means SQLite.
	DatabaseURL string
	// SQLiteSync is SQLite's synchronous mode, NORMAL (default) or FULL.
	SQLiteSync string
	// QueryTimeout interrupts a record read or write transaction that runs
	// longer, in the database itself (default 10s; negative: never).
	QueryTimeout time.Duration
	// OTLPEndpoint turns OpenTelemetry tracing on: the base URL of an OTLP
	// collector over HTTP (as OTEL_EXPORTER_OTLP_ENDPOINT, which the CLI
	// reads). A span per request, with the database work under it; the
	// trace id is in the request log and the X-Trace-Id response header.
	OTLPEndpoint string
	// MigrationsDir holds the application's migration files (default: a
	// "migrations" directory next to DataDir). See package migrate.
	MigrationsDir string
	// Migrations are Go migrations, run in name order among the files.
	Migrations []migrate.Go
	// Automigrate makes StartMigrations write a migration file for every
	// collection change (serve's default: on when MigrationsDir exists).
	Automigrate bool
	// MaxBodyBytes caps a multipart body with file uploads (default 32 MiB).
	MaxBodyBytes int64
	// MaxRecordBodyBytes caps the JSON body of a record write (default
	// 1 MiB, raised per collection by its editor and json fields' caps).
	MaxRecordBodyBytes int64
	// MaxAuthBodyBytes caps the bodies of auth flows and the other small
	// endpoints (default 16 KiB).
	MaxAuthBodyBytes int64
	// MaxAdminBodyBytes caps collection, import and settings bodies
	// (default 8 MiB).
	MaxAdminBodyBytes int64
	// BcryptCost is the cost of new password hashes (default 10).
	BcryptCost int
	// Pprof exposes /debug/pprof/ (default off).
	Pprof bool
	// MetricsToken is a bearer secret that opens GET /metrics to a
	// scraper (empty: superusers only).
	MetricsToken string
	// ShutdownTimeout bounds the graceful shutdown (default 10s).
	ShutdownTimeout time.Duration
	// S3 stores the files of file fields in an S3-compatible bucket when
	// its Bucket or Endpoint is set (checked at start); otherwise they live
	// under <DataDir>/storage. See docs/files.md.
	S3 files.S3Config
	// FileSweepInterval is the pause between sweeps that delete stored
	// files no record references (default 6 h; negative: no sweeps).
	FileSweepInterval time.Duration
	// FileSweepGrace is the age below which a file is never swept
	// (default 1 h); it must exceed the longest transaction writing files.
	FileSweepGrace time.Duration
	// EncryptionKey seals secrets at rest (TOTP secrets, the SMTP
	// password): 32 bytes as 64 hex digits, base64, or 32 characters.
	// Empty: a key generated once and kept in the database, with a logged
	// warning (it then sits next to what it protects).
	EncryptionKey string
	// RedisURL (redis://...) shares rate limits and failed-login counts
	// between instances; empty keeps them in memory (default).
	RedisURL string
	// RedisPrefix starts every rate-limit key in Redis (default "plinth:rl:").
	RedisPrefix string
	// DisableRateLimits turns off request rate limits and failed-login
	// throttling, whatever the settings say (tests and benchmarks only).
	DisableRateLimits bool
	// DisablePublicCache stops keeping guests' answers to public record
	// reads, and the totals of filtered lists, in memory until the next
	// write. Both are only ever on for SQLite, where this process is the
	// database's only writer; turn them off when something else writes to
	// data.db while Plinth runs.
	DisablePublicCache bool
	// NATSURL (nats://...) carries realtime events between instances.
	// Empty: PostgreSQL LISTEN/NOTIFY on PostgreSQL, none on SQLite.
	NATSURL string
	// NATSSubject prefixes the NATS subjects (default "plinth"); instances
	// of one app share it.
	NATSSubject string
	// JobsRescueAfter is how long a job may run before it is taken for
	// one of a crashed instance and retried (PostgreSQL; default 5m).
	JobsRescueAfter time.Duration
	// RealtimeIdleTimeout closes a realtime SSE stream on which nothing was
	// sent for this long (default 5m; negative: never); clients reconnect.
	RealtimeIdleTimeout time.Duration
}

func (c *Config) defaults() {
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8090"
	}
	if c.DataDir == "" {
		c.DataDir = "plinth_data"
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = 10
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
}

// App is a configured Plinth instance.
type App struct {
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	tokens  *auth.Tokens
	handler http.Handler
	// tracing is OpenTelemetry (nil when off).
	tracing *tracing
	files   files.Storage
	srv     *api.Server
	redis   io.Closer
	bus     realtime.Bus
	hooks   *appHooks
	// jobs and webhooks run from New to Close (app_jobs.go).
	jobs     *jobs.Queue
	webhooks *webhooks.Service
	// migrations runs the application's migrations (migrations.go).
	migrations *migrate.Runner
	// logs keeps the request and application log; stopPrune ends its
	// retention loop.
	logs      *logs.Store
	stopPrune context.CancelFunc
	// fileStore decides the storage of files and backups from the
	// settings (app_files.go).
	fileStore *fileStorage
}

// New opens the database (migrating it) and builds the HTTP API.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	cfg.defaults()
	if cfg.BcryptCost < 4 || cfg.BcryptCost > 31 {
		return nil, fmt.Errorf("bcrypt cost %d out of range 4..31", cfg.BcryptCost)
	}
	if log == nil {
		log = slog.Default()
	}
	tr, err := openTracing(ctx, cfg.OTLPEndpoint)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			tr.shutdown(context.Background()) // New failed: stop the exporter
		}
	}()
	st, err := store.Open(ctx, store.Config{Dir: cfg.DataDir, URL: cfg.DatabaseURL, SQLiteSync: cfg.SQLiteSync, QueryTimeout: cfg.QueryTimeout, Tracer: tr.tracer(),
		CacheTotals: !cfg.DisablePublicCache})
	if err != nil {
		return nil, err
	}
	secret, err := st.EnsureParam(ctx, "token_secret", func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return hex.EncodeToString(b)
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	tokens := auth.NewTokens([]byte(secret), st)
	sealer, err := openSealer(ctx, st, cfg.EncryptionKey, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	limits, redisClient, err := openRateLimitStore(cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		st.Close()
		return nil, err
	}
	bus, err := openRealtimeBus(ctx, cfg, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	fileStore, err := openFileStorage(ctx, cfg, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	logStore, err := openLogs(ctx, cfg, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	// The application's own log (info and up) lands next to the requests.
	log = slog.New(logs.NewHandler(log.Handler(), logStore, slog.LevelInfo))
	hooks := newAppHooks(log)
	reg := prometheus.NewRegistry()
	api.RegisterRuntime(reg)
	srv := api.New(st, tokens, log, reg, api.Config{
		MaxBodyBytes: cfg.MaxBodyBytes, BcryptCost: cfg.BcryptCost, Pprof: cfg.Pprof, Version: Version,
		MetricsToken:       cfg.MetricsToken,
		MaxRecordBodyBytes: cfg.MaxRecordBodyBytes, MaxAuthBodyBytes: cfg.MaxAuthBodyBytes, MaxAdminBodyBytes: cfg.MaxAdminBodyBytes,
		Files: fileStore.st, Backups: fileStore.backupStorage(),
		Sealer: sealer, RateLimitStore: limits, DisableRateLimits: cfg.DisableRateLimits,
		RealtimeBus: bus, RealtimeIdleTimeout: cfg.RealtimeIdleTimeout,
		RecordHooks: hooks, AuthHooks: hooks, Logs: logStore,
		PublicCache: cfg.DatabaseURL == "" && !cfg.DisablePublicCache,
	})
	// GraphQL is a second transport over the same services and callers.
	srv.Handle("/api/graphql", gql.New(gql.Config{Server: srv, Store: st, Settings: srv.Settings, Log: log}))
	srv.SetSettingsCheck(func(set *settings.Settings) error {
		if err := checkBackupSchedule(set); err != nil {
			return err
		}
		return fileStore.checkSettings(set)
	})
	// settings.s3 and backups.s3 switch the storages of files and backups
	// on every instance (app_files.go); its log lines go to the app's log.
	fileStore.log = log
	srv.OnSettingsApplied(fileStore.applySettings)
	srv.Handle("GET /api/openapi.json", openapi.Handler(st, Version))
	docs := openapi.DocsHandler()
	srv.Handle("GET /api/docs", docs)
	srv.Handle("GET /api/docs/redoc.standalone.js", docs)
	a := &App{cfg: cfg, log: log, store: st, tokens: tokens, handler: tr.wrap(srv), srv: srv, bus: bus, hooks: hooks, tracing: tr}
	if a.jobs, a.webhooks, err = openJobs(ctx, cfg, st, log, reg, srv, sealer); err != nil {
		logStore.Close()
		st.Close()
		return nil, err
	}
	a.logs = logStore
	// Log retention is the cron __pbLogsCleanup__ (app_jobs.go).
	a.stopPrune = func() {}
	a.migrations = newMigrations(a)
	a.bindCollectionHooks()
	a.files = fileStore.st
	a.fileStore = fileStore
	if redisClient != nil {
		a.redis = redisClient
	}
	started = true // from here on, Close stops the exporter
	if err := srv.LoadSettings(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Handler is the HTTP API, for tests and for mounting in another server.
func (a *App) Handler() http.Handler { return a.handler }

// Store is the database layer, for Go code that embeds Plinth.
func (a *App) Store() *store.Store { return a.store }

// Close waits briefly for emails still being sent, then closes the Redis
// client (if any) and the database.
func (a *App) Close() error {
	a.closeJobs()
	a.srv.CloseRealtime()
	if a.bus != nil {
		a.bus.Close()
	}
	a.srv.Close(5 * time.Second)
	if a.redis != nil {
		a.redis.Close()
	}
	a.closeFiles()
	a.stopPrune()
	a.logs.Close()
	if err := a.tracing.shutdown(context.Background()); err != nil {
		a.log.Warn("tracing: flush on close", "err", err)
	}
	return a.store.Close()
}

// DevMailbox holds the emails sent while SMTP is not enabled in the
// settings (the last 100), for tests and development.
func (a *App) DevMailbox() *mailer.DevMailbox { return a.srv.DevMailbox() }

// Settings returns the settings in force, secrets blanked (GET
// /api/settings for Go code).
func (a *App) Settings() *settings.Settings { return a.srv.Settings() }

// PatchSettings applies a JSON patch to the settings, validated (a
// schema.Errors names bad fields), stored and live at once (PATCH
// /api/settings for Go code).
func (a *App) PatchSettings(ctx context.Context, patch []byte) (*settings.Settings, error) {
	return a.srv.PatchSettings(ctx, patch)
}

// Serve listens on the configured address until ctx is done, then stops
// accepting connections, lets in-flight requests finish (up to
// ShutdownTimeout) and returns. The caller closes the App afterwards.
func (a *App) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return a.ServeListener(ctx, ln)
}

// busReadyTimeout bounds how long ServeListener waits for the realtime bus
// subscription before serving.
const busReadyTimeout = 10 * time.Second

// ServeListener is Serve on an existing listener.
func (a *App) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Shutdown waits for handlers to return; realtime streams only do
	// when the broker ends them.
	srv.RegisterOnShutdown(func() { a.srv.CloseRealtime() })
	// Serving before the bus subscription is live would let a load
	// balancer send this instance subscription requests and events it
	// cannot receive yet. A bus that stays down degrades cross-instance
	// realtime, not the API, so the wait is bounded.
	rctx, cancel := context.WithTimeout(ctx, busReadyTimeout)
	if err := a.srv.WaitRealtimeReady(rctx); err != nil && ctx.Err() == nil {
		a.log.Warn("realtime bus not ready; serving anyway, events from other instances may be missed until it is", "waited", busReadyTimeout, "err", err)
	}
	cancel()
	a.log.Info("server started", "addr", "http://"+ln.Addr().String(), "database", a.store.Dialect().Name(), "version", Version)
	if err := a.StartJobs(ctx); err != nil {
		return err
	}
	defer a.startSweeper(ctx)()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: waiting for in-flight requests", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.log.Info("server stopped")
	return nil
}

// UpsertSuperuser creates the superuser with email or sets its password.
func (a *App) UpsertSuperuser(ctx context.Context, email, password string) error {
	c := a.store.Schema().Lookup(auth.SuperusersID)
	email = strings.TrimSpace(email)
	svc := &record.Service{Store: a.store, BcryptCost: a.cfg.BcryptCost}
	su := &record.Caller{Auth: schema.NewRecord(c)} // acts as a superuser
	return a.store.Tx(ctx, func(tx *store.Tx) error {
		existing, err := a.store.FindFirstBy(ctx, c, "email", email)
		body := map[string]any{"password": password, "passwordConfirm": password}
		if errors.Is(err, store.ErrNotFound) {
			body["email"] = email
			body["verified"] = true
			_, err = svc.Create(ctx, tx, su, c, body)
			return err
		}
		if err != nil {
			return err
		}
		_, err = svc.Update(ctx, tx, su, c, existing.ID(), body)
		return err
	})
}

// DeleteSuperuser deletes the superuser with email.
func (a *App) DeleteSuperuser(ctx context.Context, email string) error {
	c := a.store.Schema().Lookup(auth.SuperusersID)
	existing, err := a.store.FindFirstBy(ctx, c, "email", strings.TrimSpace(email))
	if err != nil {
		return fmt.Errorf("superuser %s: %w", email, err)
	}
	return a.store.Tx(ctx, func(tx *store.Tx) error { return tx.Delete(ctx, existing) })
}
