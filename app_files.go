package plinth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/settings"
)

// s3CheckTimeout bounds the start-up check of the S3 bucket.
const s3CheckTimeout = 15 * time.Second

// settingsS3CheckTimeout bounds the check of a bucket named by a PATCH of
// the settings, which a superuser waits for.
const settingsS3CheckTimeout = 10 * time.Second

// sweepStartDelay is how long a serving instance waits before its first
// sweep, so that a process restarted in a loop does not list the whole
// storage each time.
const sweepStartDelay = time.Minute

// useS3 reports whether the configuration selects S3 storage.
func (c *Config) useS3() bool { return c.S3.Bucket != "" || c.S3.Endpoint != "" }

// fileStorage is the storage of file fields and of backup archives, and
// what decides them.
//
// Files: a bucket configured at start-up (Config.S3, PLINTH_S3_*,
// --s3-*) is used for the life of the process and settings.s3 is only
// stored. Otherwise settings.s3 decides at run time, as in PocketBase:
// enabled selects its bucket, with <DataDir>/storage kept as a fallback
// so that files uploaded before the switch stay readable; disabled selects
// <DataDir>/storage.
//
// Backups: backups.s3, when enabled, selects its bucket for the archives
// (under backup.Prefix), with the file storage kept as the fallback so
// that archives made before stay listed; disabled keeps them in the file
// storage, as before.
type fileStorage struct {
	// st is the Storage every part of the app holds for files: the
	// start-up bucket itself, else files.sw.
	st files.Storage
	// files switches between <DataDir>/storage and the bucket of
	// settings.s3; nil with a start-up bucket, which never changes.
	files *s3Switch
	// backups switches between st and the bucket of backups.s3.
	backups *s3Switch
	log     *slog.Logger
	// mu serialises checks against switches and the switches themselves.
	mu sync.Mutex
	// startupS3 is the settings.s3 last seen while a start-up bucket
	// takes precedence, to warn once per change.
	startupS3 settings.S3
}

// s3Switch is one storage that a bucket setting selects.
type s3Switch struct {
	// name is the setting, for logs.
	name string
	sw   *files.Switchable
	// base is the storage used while the setting is disabled, and the
	// fallback while it is enabled.
	base files.Storage
	// applied is the setting in force (the zero value for base).
	applied settings.S3
}

func newS3Switch(name string, base files.Storage) *s3Switch {
	return &s3Switch{name: name, sw: files.NewSwitchable(base, nil), base: base}
}

// openFileStorage opens the storage of file fields: the S3 bucket when one
// is configured (checked now, so that a wrong endpoint, bucket or key fails
// the start rather than the first upload), else <DataDir>/storage until
// the settings select a bucket (applySettings). Backup archives go to the
// same storage until backups.s3 selects a bucket.
func openFileStorage(ctx context.Context, cfg Config, log *slog.Logger) (*fileStorage, error) {
	if !cfg.useS3() {
		dir := filepath.Join(cfg.DataDir, "storage")
		st, err := files.NewLocal(dir)
		if err != nil {
			return nil, fmt.Errorf("file storage: %w", err)
		}
		log.Debug("file storage: local directory", "dir", dir)
		fs := &fileStorage{files: newS3Switch("s3", st), log: log}
		fs.st = fs.files.sw
		fs.backups = newS3Switch("backups.s3", fs.st)
		return fs, nil
	}
	st, err := files.NewS3(cfg.S3)
	if err != nil {
		return nil, fmt.Errorf("file storage: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, s3CheckTimeout)
	defer cancel()
	if err := st.Check(cctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("file storage: %w", err)
	}
	// The endpoint and bucket only: never the keys.
	log.Info("file storage: S3 (start-up configuration, which takes precedence over settings.s3)", "endpoint", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket, "prefix", cfg.S3.Prefix)
	return &fileStorage{st: st, backups: newS3Switch("backups.s3", st), log: log}, nil
}

// backupStorage is where backup archives are kept.
func (fs *fileStorage) backupStorage() files.Storage { return fs.backups.sw }

// close closes the storages, each once: the backups' bucket, then the
// file storage (the backups' base).
func (fs *fileStorage) close() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var errs []error
	if fs.backups.applied.Enabled {
		errs = append(errs, fs.backups.sw.Current().Close())
	}
	errs = append(errs, fs.st.Close())
	return errors.Join(errs...)
}

// wanted is the storage c selects: all disabled settings are the same
// base storage.
func wanted(c settings.S3) settings.S3 {
	if !c.Enabled {
		return settings.S3{}
	}
	return c
}

// newSettingsS3 opens the bucket of a bucket setting (no request is made).
// The bucket is addressed at its root, as PocketBase does; an endpoint
// without a scheme is reached over https.
func newSettingsS3(c settings.S3) (*files.S3, error) {
	return files.NewS3(files.S3Config{
		Endpoint: strings.TrimSpace(c.Endpoint), Bucket: strings.TrimSpace(c.Bucket), Region: strings.TrimSpace(c.Region),
		AccessKey: c.AccessKey, Secret: c.Secret, ForcePathStyle: c.ForcePathStyle, UseSSL: true,
	})
}

// checkSettings is part of the settings check (api.Server.SetSettingsCheck):
// a PATCH that selects a new bucket (s3 or backups.s3) is refused, as a
// field error, unless the bucket answers within settingsS3CheckTimeout, so
// that a typo cannot send the next uploads nowhere. Settings whose storage
// is already in force are not checked again, so an unrelated change is
// never held up by a bucket. settings.s3 is checked even while a start-up
// bucket takes precedence, since it is used as soon as that one is
// removed.
func (fs *fileStorage) checkSettings(set *settings.Settings) error {
	fs.mu.Lock()
	filesApplied, backupsApplied := fs.startupS3, fs.backups.applied
	if fs.files != nil {
		filesApplied = fs.files.applied
	}
	fs.mu.Unlock()
	errs := schema.Errors{}
	if e := checkS3(set.S3, filesApplied); len(e) > 0 {
		errs["s3"] = e
	}
	if e := checkS3(set.Backups.S3, backupsApplied); len(e) > 0 {
		errs["backups"] = schema.Errors{"s3": e}
	}
	return errs.OrNil()
}

// checkS3 checks that the bucket c selects answers, unless it is the one
// applied; the errors are those of c's fields.
func checkS3(c, applied settings.S3) schema.Errors {
	want := wanted(c)
	if !want.Enabled || want == applied {
		return nil
	}
	st, err := newSettingsS3(want)
	if err != nil {
		return schema.Errors{"endpoint": schema.ErrInvalid(strings.TrimPrefix(err.Error(), "files: "))}
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), settingsS3CheckTimeout)
	defer cancel()
	if err := st.Check(ctx); err != nil {
		return schema.Errors{"bucket": schema.NewFieldError("validation_s3_unreachable",
			"The bucket did not answer: "+strings.TrimPrefix(err.Error(), "files: "))}
	}
	return nil
}

// applySettings makes the storages set selects current
// (api.Server.OnSettingsApplied): at start-up, after a PATCH, and when
// another instance sharing the database changed the settings. Calls that
// started before finish on the storage they started on; files are not
// moved. The buckets were checked by the instance that saved the
// settings, so they are not checked again here; a bucket that cannot even
// be opened (which validation rules out) leaves its storage as it is.
func (fs *fileStorage) applySettings(set *settings.Settings) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.files != nil {
		fs.files.apply(set.S3, fs.log)
	} else if want := wanted(set.S3); want != fs.startupS3 {
		fs.startupS3 = want
		if want.Enabled {
			fs.log.Warn("file storage: settings.s3 is stored but not used: the S3 bucket configured at start-up takes precedence")
		}
	}
	fs.backups.apply(set.Backups.S3, fs.log)
}

// apply switches to the storage c selects, if it is not in force.
func (w *s3Switch) apply(c settings.S3, log *slog.Logger) {
	want := wanted(c)
	if want == w.applied {
		return
	}
	var released []files.Storage
	if !want.Enabled {
		released = w.sw.Switch(w.base, nil)
		log.Info("storage: "+w.name+" disabled; what was stored in its bucket is not moved back", "setting", w.name)
	} else {
		st, err := newSettingsS3(want)
		if err != nil {
			log.Error("storage: cannot open the bucket of "+w.name+"; the storage is unchanged", "err", err)
			return
		}
		released = w.sw.Switch(st, w.base)
		// The endpoint and bucket only: never the keys.
		log.Info("storage: "+w.name+" enabled; what was stored before stays readable from the previous storage", "endpoint", want.Endpoint, "bucket", want.Bucket)
	}
	w.applied = want
	for _, st := range released {
		// Only the buckets of settings are released (base is kept), and
		// closing one only drops its idle connections, so calls still
		// running on it finish.
		if err := st.Close(); err != nil {
			log.Warn("storage: close the previous bucket of "+w.name, "err", err)
		}
	}
}

// Files is the storage of file fields, for Go code that embeds Plinth.
func (a *App) Files() files.Storage { return a.files }

// startSweeper runs the sweeper of unreferenced files (see files.Sweeper)
// in the background while the app serves, unless FileSweepInterval is
// negative. The returned func stops it and waits for it to return.
func (a *App) startSweeper(ctx context.Context) (stop func()) {
	// The default schedule is the cron __plinthFileSweep__ (app_jobs.go);
	// an interval of the App's own runs here.
	if a.files == nil || a.cfg.FileSweepInterval <= 0 {
		return func() {}
	}
	svc := &record.Service{Store: a.store}
	sw := &files.Sweeper{
		Storage:    a.files,
		Referenced: svc.FileReferenced,
		Grace:      a.cfg.FileSweepGrace,
		Interval:   a.cfg.FileSweepInterval,
		Logger:     a.log,
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			return
		case <-time.After(sweepStartDelay):
		}
		_ = sw.Run(ctx) // returns ctx's error when stopped
	}()
	return func() {
		cancel()
		<-done
	}
}

// closeFiles closes the file and backups storages.
func (a *App) closeFiles() {
	if a.fileStore == nil {
		return
	}
	if err := a.fileStore.close(); err != nil {
		a.log.Warn("file storage: close", "err", err)
	}
}
