package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/backup"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/oauth2"
	"github.com/plinthdev/plinth/ratelimit"
	"github.com/plinthdev/plinth/realtime"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/settings"
	"github.com/plinthdev/plinth/store"
	"github.com/plinthdev/plinth/totp"
	"github.com/plinthdev/plinth/ui"
)

const superusersID = auth.SuperusersID

// The default body limits of Config.
const (
	DefaultMaxBodyBytes       = 32 << 20
	DefaultMaxRecordBodyBytes = 1 << 20
	DefaultMaxAuthBodyBytes   = 16 << 10
	DefaultMaxAdminBodyBytes  = 8 << 20
)

// Config tunes the API.
type Config struct {
	// MaxBodyBytes caps a multipart body with file uploads: record writes
	// and batches (default 32 MiB, PocketBase's default body limit).
	MaxBodyBytes int64
	// MaxRecordBodyBytes caps the JSON body of a record create or update
	// (default 1 MiB), raised per collection by the size caps of its editor
	// and json fields up to MaxBodyBytes; a JSON batch may carry four.
	// Decoded JSON costs up to about 50 times its size in memory.
	MaxRecordBodyBytes int64
	// MaxAuthBodyBytes caps the body of every other endpoint that reads
	// one: auth flows, TOTP, API keys, file tokens (default 16 KiB).
	MaxAuthBodyBytes int64
	// MaxAdminBodyBytes caps the JSON bodies of superuser endpoints:
	// collections, their import and the settings (default 8 MiB).
	MaxAdminBodyBytes int64
	// MaxBatchRequests caps the requests of one batch (default 50).
	MaxBatchRequests int
	// BcryptCost is the cost of new password hashes (default 10).
	BcryptCost int
	// Pprof mounts net/http/pprof under /debug/pprof/ (off by default: it
	// exposes internals and costs CPU).
	Pprof bool
	// MetricsToken, when set, lets a scraper read GET /metrics with
	// `Authorization: Bearer <token>`; superusers can read it either way.
	MetricsToken string
	// Version is reported by /api/health to superusers.
	Version string
	// Sealer encrypts secrets at rest (TOTP secrets, the SMTP password).
	// Nil: a key that lives as long as the process.
	Sealer *totp.Sealer
	// RateLimitStore counts rate limits and failed logins (default: in
	// memory; a ratelimit.Redis shares them between instances).
	RateLimitStore ratelimit.Store
	// DisableRateLimits turns off request rate limits and failed-login
	// throttling whatever the settings say (tests, benchmarks).
	DisableRateLimits bool
	// Files stores the files of file fields (nil: uploads are refused and
	// file URLs answer 404). The server does not close it.
	Files files.Storage
	// Backups keeps the backup archives (PocketBase's backups.s3); nil
	// keeps them in Files. The server does not close it.
	Backups files.Storage
	// RealtimeBus carries realtime events between instances (nil: this
	// instance only).
	RealtimeBus realtime.Bus
	// RealtimeIdleTimeout closes an SSE stream on which nothing was sent
	// for this long (default 5m, as PocketBase; negative: never). The SDKs
	// reconnect and resubscribe.
	RealtimeIdleTimeout time.Duration
	// RecordHooks is told of every record read and write (nil: none).
	RecordHooks record.Hooks
	// AuthHooks is told of logins, token refreshes and password resets
	// (nil: none).
	AuthHooks authflow.Hooks
	// Logs keeps the request log served by /api/logs (nil: no log).
	Logs LogStore
	// PublicCache keeps guests' answers to public record reads in memory
	// until the next write (respcache.go). Only for an instance that is
	// its database's only writer: one instance on SQLite.
	PublicCache bool
}

// Server is Plinth's HTTP API.
type Server struct {
	cfg     Config
	store   *store.Store
	records *record.Service
	tokens  *auth.Tokens
	log     *slog.Logger
	metrics *metrics
	// backups keeps backup archives in the file storage (nil without one).
	backups *backup.Service
	// settingsCheck, when set, must pass for settings to be saved.
	settingsCheck func(*settings.Settings) error
	apiKeys       *apiKeys
	oauth2        *oauth2Providers
	// redirects delivers OAuth2 redirects to realtime clients (nil until
	// realtime is wired: the redirect endpoint then answers 400).
	redirects redirectSender
	handler   http.Handler
	// sys holds the settings, mail and rate-limit state (system.go).
	sys *system
	// files serves and stores the files of file fields (nil without a
	// storage; files.go).
	files *fileServer
	// broker and rt serve realtime (realtime.go).
	broker *realtime.Broker
	rt     *realtime.Handler
	// installer holds the one-time first-superuser token (installer.go).
	installer installer
	// mux routes built-in and custom routes (Handle).
	mux *http.ServeMux
	// cache serves repeated public reads (nil: off; respcache.go).
	cache *publicCache
}

// New builds the API server. reg receives the HTTP and database metrics.
func New(st *store.Store, tokens *auth.Tokens, log *slog.Logger, reg *prometheus.Registry, cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxRecordBodyBytes <= 0 {
		cfg.MaxRecordBodyBytes = DefaultMaxRecordBodyBytes
	}
	if cfg.MaxAuthBodyBytes <= 0 {
		cfg.MaxAuthBodyBytes = DefaultMaxAuthBodyBytes
	}
	if cfg.MaxAdminBodyBytes <= 0 {
		cfg.MaxAdminBodyBytes = DefaultMaxAdminBodyBytes
	}
	if cfg.MaxBatchRequests <= 0 {
		cfg.MaxBatchRequests = 50
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = 10
	}
	s := &Server{
		cfg:     cfg,
		store:   st,
		records: &record.Service{Store: st, BcryptCost: cfg.BcryptCost, Hooks: cfg.RecordHooks},
		tokens:  tokens,
		log:     log,
		metrics: newMetrics(reg, st),
		apiKeys: &apiKeys{store: st},
		oauth2:  &oauth2Providers{registry: oauth2.NewRegistry(nil)},
	}
	if cfg.PublicCache {
		s.cache = newPublicCache(reg, st.WriteGeneration)
	}
	s.initSystem()
	s.initFiles()
	if err := s.newRealtime(cfg.RealtimeBus); err != nil {
		log.Error("realtime disabled", "err", err)
	} else {
		reg.MustRegister(realtimeCollector{s.broker})
	}
	mux := http.NewServeMux()
	s.mux = mux
	s.routes(mux)
	routed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		notePattern(r)
	})
	s.handler = s.recoverPanics(s.observe(s.cors(s.loadAuth(s.rateLimit(routed)))))
	return s
}

// CloseRealtime ends realtime streams and stops the broker; call it when
// the HTTP server shuts down (http.Server.Shutdown does not end streams).
func (s *Server) CloseRealtime() error {
	if s.broker == nil {
		return nil
	}
	return s.broker.Close()
}

// WaitRealtimeReady waits until the realtime bus subscription is live, so
// that a subscription POST relayed by another instance, or an event
// written there, reaches this one. It returns at once without a bus.
func (s *Server) WaitRealtimeReady(ctx context.Context) error {
	if s.broker == nil {
		return nil
	}
	return s.broker.WaitReady(ctx)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routes lists every endpoint in one place.
func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /api/health", s.handle(s.health))
	mux.Handle("HEAD /api/health", s.handle(s.health))
	mux.Handle("GET /metrics", s.metricsHandler())
	s.backupRoutes(mux)

	mux.Handle("GET /api/collections", s.superusersOnly(s.listCollections))
	mux.Handle("POST /api/collections", s.withBodyLimits(s.adminLimits, s.superusersOnly(s.createCollection)))
	mux.Handle("PUT /api/collections/import", s.withBodyLimits(s.adminLimits, s.superusersOnly(s.importCollections)))
	mux.Handle("GET /api/collections/meta/scaffolds", s.superusersOnly(s.collectionScaffolds))
	mux.Handle("GET /api/collections/meta/oauth2-providers", s.superusersOnly(s.oauth2ProviderList))
	mux.Handle("POST /api/collections/meta/dry-run-view", s.superusersOnly(s.dryRunView))
	mux.Handle("GET /api/collections/{collection}", s.superusersOnly(s.viewCollection))
	mux.Handle("PATCH /api/collections/{collection}", s.withBodyLimits(s.adminLimits, s.superusersOnly(s.updateCollection)))
	mux.Handle("DELETE /api/collections/{collection}", s.superusersOnly(s.deleteCollection))
	mux.Handle("DELETE /api/collections/{collection}/truncate", s.superusersOnly(s.truncateCollection))

	mux.Handle("GET /api/collections/{collection}/records", s.handle(s.listRecords))
	mux.Handle("POST /api/collections/{collection}/records", s.withBodyLimits(s.recordLimits, s.handle(s.createRecord)))
	mux.Handle("GET /api/collections/{collection}/records/{id}", s.handle(s.viewRecord))
	mux.Handle("PATCH /api/collections/{collection}/records/{id}", s.withBodyLimits(s.recordLimits, s.handle(s.updateRecord)))
	mux.Handle("DELETE /api/collections/{collection}/records/{id}", s.handle(s.deleteRecord))
	mux.Handle("POST /api/batch", s.withBodyLimits(s.batchLimits, s.handle(s.batch)))
	mux.Handle("GET /api/files/{collection}/{recordId}/{filename}", s.handle(s.serveFile)) // and HEAD
	mux.Handle("POST /api/files/token", s.handle(s.fileToken))

	mux.Handle("GET /api/collections/{collection}/auth-methods", s.handle(s.authMethods))
	mux.Handle("POST /api/collections/{collection}/auth-with-password", s.handle(s.authWithPassword))
	mux.Handle("POST /api/collections/{collection}/auth-refresh", s.handle(s.authRefresh))
	mux.Handle("POST /api/collections/{collection}/request-verification", s.handle(s.requestVerification))
	mux.Handle("POST /api/collections/{collection}/confirm-verification", s.handle(s.confirmVerification))
	mux.Handle("POST /api/collections/{collection}/request-password-reset", s.handle(s.requestPasswordReset))
	mux.Handle("POST /api/collections/{collection}/confirm-password-reset", s.handle(s.confirmPasswordReset))
	mux.Handle("POST /api/collections/{collection}/request-email-change", s.handle(s.requestEmailChange))
	mux.Handle("POST /api/collections/{collection}/confirm-email-change", s.handle(s.confirmEmailChange))
	mux.Handle("POST /api/collections/{collection}/request-otp", s.handle(s.requestOTP))
	mux.Handle("POST /api/collections/{collection}/auth-with-otp", s.handle(s.authWithOTP))
	mux.Handle("POST /api/collections/{collection}/impersonate/{id}", s.superusersOnly(s.impersonate))
	mux.Handle("POST /api/collections/{collection}/totp/enroll", s.handle(s.enrollTOTP))
	mux.Handle("POST /api/collections/{collection}/totp/confirm", s.handle(s.confirmTOTP))
	mux.Handle("DELETE /api/collections/{collection}/totp", s.handle(s.deleteTOTP))
	mux.Handle("POST /api/collections/{collection}/auth-with-totp", s.handle(s.authWithTOTP))

	mux.Handle("GET /api/settings", s.superusersOnly(s.getSettings))
	mux.Handle("PATCH /api/settings", s.withBodyLimits(s.adminLimits, s.superusersOnly(s.patchSettings)))
	mux.Handle("POST /api/settings/test/email", s.superusersOnly(s.testEmail))
	mux.Handle("POST /api/settings/test/s3", s.withBodyLimits(s.adminLimits, s.superusersOnly(s.testStorage)))
	mux.Handle("GET /api/dev/mails", s.superusersOnly(s.listDevMails))
	mux.Handle("GET /api/dev/mails/{id}", s.superusersOnly(s.viewDevMail))

	mux.Handle("POST /api/collections/{collection}/auth-with-oauth2", s.handle(s.authWithOAuth2))
	mux.Handle("GET /api/oauth2-redirect", s.handle(s.oauth2Redirect))
	mux.Handle("POST /api/oauth2-redirect", s.withBodyLimits(s.authLimits, s.handle(s.oauth2Redirect)))
	if s.rt != nil {
		mux.HandleFunc("GET /api/realtime", s.rt.ServeSSE)
		mux.Handle("POST /api/realtime", http.HandlerFunc(s.realtimeSubscribe))
		mux.HandleFunc("GET /api/realtime/ws", s.rt.ServeWS)
	}
	mux.Handle("GET /api/logs", s.superusersOnly(s.listLogs))
	mux.Handle("GET /api/logs/stats", s.superusersOnly(s.logStats))
	mux.Handle("GET /api/logs/{id}", s.superusersOnly(s.viewLog))
	mux.Handle("GET /api/api-keys", s.superusersOnly(s.listAPIKeys))
	mux.Handle("POST /api/api-keys", s.superusersOnly(s.createAPIKey))
	mux.Handle("DELETE /api/api-keys/{id}", s.superusersOnly(s.deleteAPIKey))

	if s.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("POST /api/installer", s.handle(s.install))
	mux.Handle("/api/", s.handle(func(http.ResponseWriter, *http.Request) error { return notFound() }))
	// The admin dashboard (package ui, built into the binary).
	mux.Handle("GET /_/", ui.Handler("/_/"))
	mux.Handle("GET /_", http.RedirectHandler("/_/", http.StatusFound))
	mux.Handle("GET /{$}", http.RedirectHandler("/_/", http.StatusFound))
}

// superusersOnly wraps a handler that only superusers may call.
func (s *Server) superusersOnly(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		rec := authRecord(r)
		if rec == nil {
			return unauthorized("The request requires valid superuser authorization token to be set.")
		}
		if !isSuperuser(rec) {
			return forbidden("The authorized record is not allowed to perform this action.")
		}
		return h(w, r)
	})
}
