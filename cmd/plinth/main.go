// Command plinth runs the Plinth backend server and its admin commands.
//
//	plinth serve [--http 127.0.0.1:8090] [--dir ./plinth_data] [--db postgres://...]
//	plinth superuser upsert EMAIL PASS
//	plinth superuser delete EMAIL
//	plinth version
//
// Every flag can also be set through the environment as PLINTH_<NAME>
// (for example PLINTH_HTTP, PLINTH_DIR, PLINTH_DB_URL); flags win.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/api"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "plinth:", err)
		}
		os.Exit(1)
	}
}

const usage = `Usage:
  plinth serve [flags]                 start the server
  plinth superuser upsert EMAIL PASS   create or update a superuser
  plinth superuser delete EMAIL        delete a superuser
  plinth migrate up|down [N]|status|create NAME|collections
                                       manage the application's migrations
  plinth typegen [--out types.ts]      TypeScript types of the collections for the JS SDK
  plinth import pocketbase PB_DATA     move a stopped PocketBase's data in (collections,
                                       records with their password hashes, files)
  plinth backup ARCHIVE.zip            a portable archive, made while the server runs
  plinth restore ARCHIVE.zip           into a new --dir or an empty --db, SQLite or PostgreSQL
  plinth version                       print the version

Run 'plinth serve -h' for the flags; each can also be set as PLINTH_<NAME>.
`

// run is the whole program, testable without a process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "serve":
		cfg, log, _, err := parseFlags("serve", args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		if err := resolveAutomigrate(&cfg, automigrateMode(args[1:], getenv)); err != nil {
			return err
		}
		app, err := plinth.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer app.Close()
		applied, err := app.StartMigrations(ctx)
		for _, n := range applied {
			log.Info("applied migration " + n)
		}
		if err != nil {
			return err
		}
		if len(cfg.HTTPS.Domains) > 0 {
			return serveHTTPS(ctx, app, cfg, flagGiven(args[1:], getenv, "http"), stdout)
		}
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		if err := printURLs(ctx, app, ln.Addr(), stdout); err != nil {
			ln.Close()
			return err
		}
		return app.ServeListener(ctx, ln)
	case "superuser":
		if len(args) < 2 {
			fmt.Fprint(stderr, usage)
			return errors.New("superuser: missing upsert or delete")
		}
		cfg, log, rest, err := parseFlags("superuser "+args[1], args[2:], getenv, stderr)
		if err != nil {
			return err
		}
		app, err := plinth.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer app.Close()
		switch {
		case args[1] == "upsert" && len(rest) == 2:
			if err := app.UpsertSuperuser(ctx, rest[0], rest[1]); err != nil {
				return fmt.Errorf("superuser upsert: %w", err)
			}
			fmt.Fprintf(stdout, "Successfully saved superuser %q.\n", rest[0])
		case args[1] == "delete" && len(rest) == 1:
			if err := app.DeleteSuperuser(ctx, rest[0]); err != nil {
				return fmt.Errorf("superuser delete: %w", err)
			}
			fmt.Fprintf(stdout, "Successfully deleted superuser %q.\n", rest[0])
		default:
			fmt.Fprint(stderr, usage)
			return errors.New("superuser: expected 'upsert EMAIL PASS' or 'delete EMAIL'")
		}
		return nil
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "typegen":
		return runTypegen(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return runImport(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return runRestore(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "plinth", plinth.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// parseFlags reads the shared flags, with PLINTH_* environment defaults,
// and returns the positional arguments left over. Flags may come before or
// after the positional arguments.
func parseFlags(name string, args []string, getenv func(string) string, stderr io.Writer) (plinth.Config, *slog.Logger, []string, error) {
	env := func(key, def string) string {
		if v := getenv("PLINTH_" + key); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg plinth.Config
	fs.StringVar(&cfg.HTTPAddr, "http", env("HTTP", "127.0.0.1:8090"), "listen address (PLINTH_HTTP)")
	fs.StringVar(&cfg.DataDir, "dir", env("DIR", "plinth_data"), "data directory for the SQLite database (PLINTH_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "db", env("DB_URL", ""), "PostgreSQL URL postgres://...; empty uses SQLite (PLINTH_DB_URL)")
	fs.StringVar(&cfg.SQLiteSync, "sqlite-sync", env("SQLITE_SYNC", "NORMAL"), "SQLite synchronous mode: NORMAL or FULL (PLINTH_SQLITE_SYNC)")
	maxBody := fs.Int64("max-body", envInt(env("MAX_BODY", ""), 32<<20), "maximum multipart body with file uploads, in bytes (PLINTH_MAX_BODY)")
	fs.Int64Var(&cfg.MaxRecordBodyBytes, "max-record-body", envInt(env("MAX_RECORD_BODY", ""), 1<<20), "maximum JSON body of a record write, in bytes, raised per collection by its editor and json fields (PLINTH_MAX_RECORD_BODY)")
	fs.Int64Var(&cfg.MaxAuthBodyBytes, "max-auth-body", envInt(env("MAX_AUTH_BODY", ""), 16<<10), "maximum body of auth flows and other small endpoints, in bytes (PLINTH_MAX_AUTH_BODY)")
	fs.Int64Var(&cfg.MaxAdminBodyBytes, "max-admin-body", envInt(env("MAX_ADMIN_BODY", ""), 8<<20), "maximum body of collection, import and settings requests, in bytes (PLINTH_MAX_ADMIN_BODY)")
	cost := fs.Int("bcrypt-cost", int(envInt(env("BCRYPT_COST", ""), 10)), "bcrypt cost of new password hashes (PLINTH_BCRYPT_COST)")
	logFormat := fs.String("log-format", env("LOG_FORMAT", "text"), "log format: text or json (PLINTH_LOG_FORMAT)")
	logLevel := fs.String("log-level", env("LOG_LEVEL", "info"), "log level: debug, info, warn, error (PLINTH_LOG_LEVEL)")
	pprofOn := fs.Bool("pprof", env("PPROF", "") == "1" || env("PPROF", "") == "true", "expose /debug/pprof/ (PLINTH_PPROF=1)")
	// The OpenTelemetry variable is read as the SDKs read it.
	otlp := env("OTLP_ENDPOINT", getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	fs.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", otlp, "OpenTelemetry: base URL of an OTLP/HTTP collector (http://host:4318); traces are off when empty (PLINTH_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)")
	fs.StringVar(&cfg.MetricsToken, "metrics-token", env("METRICS_TOKEN", ""), "bearer secret that lets a scraper read /metrics (superusers always can); prefer the env var (PLINTH_METRICS_TOKEN)")
	s3Secret := s3Flags(fs, &cfg, env)
	acmeCA := httpsFlags(fs, &cfg, env)
	fs.StringVar(&cfg.EncryptionKey, "encryption-key", env("ENCRYPTION_KEY", ""), "32-byte key sealing secrets at rest: 64 hex digits, base64 or 32 characters; prefer the env var (PLINTH_ENCRYPTION_KEY)")
	fs.StringVar(&cfg.RedisURL, "redis", env("REDIS_URL", ""), "redis://... to share rate limits between instances; empty keeps them in memory (PLINTH_REDIS_URL)")
	fs.StringVar(&cfg.RedisPrefix, "redis-prefix", env("REDIS_PREFIX", "plinth:rl:"), "prefix of the rate-limit keys in Redis (PLINTH_REDIS_PREFIX)")
	fs.StringVar(&cfg.NATSURL, "nats", env("NATS_URL", ""), "nats://... carries realtime events between instances; empty uses PostgreSQL LISTEN/NOTIFY on PostgreSQL (PLINTH_NATS_URL)")
	fs.StringVar(&cfg.NATSSubject, "nats-subject", env("NATS_SUBJECT", "plinth"), "NATS subject prefix shared by the instances of one app (PLINTH_NATS_SUBJECT)")
	idleTimeout, err := envDuration(env("REALTIME_IDLE_TIMEOUT", ""), 5*time.Minute)
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("invalid PLINTH_REALTIME_IDLE_TIMEOUT: %w", err)
	}
	queryTimeout, err := envDuration(env("QUERY_TIMEOUT", ""), 10*time.Second)
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("invalid PLINTH_QUERY_TIMEOUT: %w", err)
	}
	jobsRescue, err := envDuration(env("JOBS_RESCUE_AFTER", ""), 5*time.Minute)
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("invalid PLINTH_JOBS_RESCUE_AFTER: %w", err)
	}
	fs.DurationVar(&cfg.JobsRescueAfter, "jobs-rescue-after", jobsRescue, "PostgreSQL: retry a job still running after this long, taking its instance for crashed; must exceed every job's timeout (PLINTH_JOBS_RESCUE_AFTER)")
	fs.DurationVar(&cfg.QueryTimeout, "query-timeout", queryTimeout, "interrupt a record read or write transaction that runs longer (negative: never) (PLINTH_QUERY_TIMEOUT)")
	fs.DurationVar(&cfg.RealtimeIdleTimeout, "realtime-idle-timeout", idleTimeout, "close a realtime SSE stream idle for this long (negative: never); clients reconnect (PLINTH_REALTIME_IDLE_TIMEOUT)")
	fs.StringVar(&cfg.MigrationsDir, "migrations-dir", env("MIGRATIONS_DIR", ""), "directory of the application's migration files; default: migrations next to --dir (PLINTH_MIGRATIONS_DIR)")
	fs.String("automigrate", env("AUTOMIGRATE", "auto"), "serve: write a migration file for every collection change: auto (on when the migrations directory exists), on or off (PLINTH_AUTOMIGRATE)")
	rateLimits := fs.String("rate-limits", env("RATE_LIMITS", "on"), "on, or off to disable rate limits and failed-login throttling (tests, benchmarks) (PLINTH_RATE_LIMITS)")
	publicCache := fs.String("public-cache", env("PUBLIC_CACHE", "on"), "on, or off to stop keeping guests' public record reads and the totals of filtered lists in memory until the next write (off when something else writes to data.db); it is always off on PostgreSQL (PLINTH_PUBLIC_CACHE)")
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return cfg, nil, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	cfg.MaxBodyBytes, cfg.BcryptCost, cfg.Pprof = *maxBody, *cost, *pprofOn
	cfg.S3.Secret = s3Secret()
	if err := acmeCA(); err != nil {
		return cfg, nil, nil, err
	}
	switch strings.ToLower(*rateLimits) {
	case "on", "true", "1":
	case "off", "false", "0":
		cfg.DisableRateLimits = true
	default:
		return cfg, nil, nil, fmt.Errorf("invalid --rate-limits %q: use on or off", *rateLimits)
	}
	switch strings.ToLower(*publicCache) {
	case "on", "true", "1":
	case "off", "false", "0":
		cfg.DisablePublicCache = true
	default:
		return cfg, nil, nil, fmt.Errorf("invalid --public-cache %q: use on or off", *publicCache)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, nil, nil, fmt.Errorf("invalid --log-level %q", *logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(*logFormat) {
	case "text":
		h = slog.NewTextHandler(stderr, opts)
	case "json":
		h = slog.NewJSONHandler(stderr, opts)
	default:
		return cfg, nil, nil, fmt.Errorf("invalid --log-format %q: use text or json", *logFormat)
	}
	return cfg, slog.New(h), rest, nil
}

func envInt(s string, def int64) int64 {
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return def
	}
	return n
}

// s3Flags declares the flags of the S3 file storage (docs/files.md). The
// returned func gives the secret: the flag, else PLINTH_S3_SECRET, which
// is not used as the flag's default so that -h never prints it.
func s3Flags(fs *flag.FlagSet, cfg *plinth.Config, env func(key, def string) string) (secret func() string) {
	fs.StringVar(&cfg.S3.Endpoint, "s3-endpoint", env("S3_ENDPOINT", ""), "S3-compatible endpoint for uploaded files, host[:port] or http(s)://host[:port]; empty keeps files under <dir>/storage (PLINTH_S3_ENDPOINT)")
	fs.StringVar(&cfg.S3.Bucket, "s3-bucket", env("S3_BUCKET", ""), "S3 bucket for uploaded files; it must exist (PLINTH_S3_BUCKET)")
	fs.StringVar(&cfg.S3.Region, "s3-region", env("S3_REGION", ""), "S3 region, e.g. us-east-1; empty asks the service (PLINTH_S3_REGION)")
	fs.StringVar(&cfg.S3.AccessKey, "s3-access-key", env("S3_ACCESS_KEY", ""), "S3 access key (PLINTH_S3_ACCESS_KEY)")
	flagSecret := fs.String("s3-secret", "", "S3 secret key; prefer the env var (PLINTH_S3_SECRET)")
	fs.BoolVar(&cfg.S3.ForcePathStyle, "s3-force-path-style", envBool(env("S3_FORCE_PATH_STYLE", "")), "address the bucket as host/bucket/key, for MinIO and most self-hosted services (PLINTH_S3_FORCE_PATH_STYLE=true)")
	fs.StringVar(&cfg.S3.Prefix, "s3-prefix", env("S3_PREFIX", ""), "key prefix inside the bucket, to share it between applications (PLINTH_S3_PREFIX)")
	return func() string {
		if *flagSecret != "" {
			return *flagSecret
		}
		return env("S3_SECRET", "")
	}
}

// envBool reads a boolean environment value: 1, true, yes or on.
func envBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// envDuration parses a duration from the environment; empty is def.
func envDuration(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	return time.ParseDuration(s)
}

// printURLs prints where the API and the dashboard answer and, on an
// instance with no superuser yet, the one-time installer link that
// creates the first one in the browser.
func printURLs(ctx context.Context, app *plinth.App, addr net.Addr, stdout io.Writer) error {
	return printURLsAt(ctx, app, "http://"+browsableHost(addr), stdout)
}

// printURLsAt is printURLs for the base URL base.
func printURLsAt(ctx context.Context, app *plinth.App, base string, stdout io.Writer) error {
	fmt.Fprintf(stdout, "Plinth %s\n  REST API:  %s/api/\n  Dashboard: %s/_/\n", plinth.Version, base, base)
	token, err := app.InstallerToken(ctx)
	if err != nil {
		return fmt.Errorf("installer link: %w", err)
	}
	if token != "" {
		fmt.Fprintf(stdout, "\nNo superuser yet. Open this link within %s to create the first one (it works once):\n  %s/_/#/install/%s\n(or run: plinth superuser upsert EMAIL PASS)\n\n",
			api.InstallerTokenTTL, base, token)
	}
	return nil
}

// browsableHost is the listen address as a browser can open it: an
// unspecified IP (0.0.0.0, ::) becomes 127.0.0.1.
func browsableHost(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
