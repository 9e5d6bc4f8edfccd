package plinth

import (
	"context"
	"time"

	"github.com/plinthdev/plinth/backup"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/settings"
)

// autoBackupPrefix starts the names of scheduled backups, which alone
// cronMaxKeep prunes.
const autoBackupPrefix = "auto_"

// checkBackupSchedule refuses settings whose backups.cron does not parse.
func checkBackupSchedule(s *settings.Settings) error {
	if s.Backups.Cron == "" {
		return nil
	}
	if _, err := jobs.ParseSchedule(s.Backups.Cron); err != nil {
		return schema.Errors{"backups": schema.Errors{"cron": schema.NewFieldError("validation_invalid_cron", err.Error())}}
	}
	return nil
}

// scheduledBackup runs every minute on the cron scheduler (so once per
// minute across instances) and makes a backup when the settings'
// backups.cron names this minute, keeping the cronMaxKeep newest
// scheduled ones. A schedule change applies at the next minute, with no
// cron to re-register.
func (a *App) scheduledBackup(ctx context.Context) error {
	b := a.srv.Settings().Backups
	if b.Cron == "" {
		return nil
	}
	sched, err := jobs.ParseSchedule(b.Cron)
	if err != nil {
		return err
	}
	now := time.Now()
	if !sched.Matches(now) {
		return nil
	}
	svc := &backup.Service{Store: a.store, Files: a.files, Archives: a.fileStore.backupStorage(), Version: Version}
	name, err := svc.Create(ctx, autoBackupPrefix+backup.DefaultName(now))
	if err != nil {
		return err
	}
	a.log.Info("scheduled backup made", "name", name)
	return svc.Prune(ctx, autoBackupPrefix, max(b.CronMaxKeep, 1))
}
