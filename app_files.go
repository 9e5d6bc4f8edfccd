package plinth

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/record"
)

// s3CheckTimeout bounds the start-up check of the S3 bucket.
const s3CheckTimeout = 15 * time.Second

// sweepStartDelay is how long a serving instance waits before its first
// sweep, so that a process restarted in a loop does not list the whole
// storage each time.
const sweepStartDelay = time.Minute

// useS3 reports whether the configuration selects S3 storage.
func (c *Config) useS3() bool { return c.S3.Bucket != "" || c.S3.Endpoint != "" }

// openFileStorage opens the storage of file fields: the S3 bucket when one
// is configured (checked now, so that a wrong endpoint, bucket or key fails
// the start rather than the first upload), else <DataDir>/storage.
func openFileStorage(ctx context.Context, cfg Config, log *slog.Logger) (files.Storage, error) {
	if !cfg.useS3() {
		dir := filepath.Join(cfg.DataDir, "storage")
		st, err := files.NewLocal(dir)
		if err != nil {
			return nil, fmt.Errorf("file storage: %w", err)
		}
		log.Debug("file storage: local directory", "dir", dir)
		return st, nil
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
	log.Info("file storage: S3", "endpoint", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket, "prefix", cfg.S3.Prefix)
	return st, nil
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

// closeFiles closes the file storage.
func (a *App) closeFiles() {
	if a.files == nil {
		return
	}
	if err := a.files.Close(); err != nil {
		a.log.Warn("file storage: close", "err", err)
	}
}
