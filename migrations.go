package plinth

import (
	"context"
	"path/filepath"

	"github.com/plinthdev/plinth/migrate"
	"github.com/plinthdev/plinth/schema"
)

// Migrations is the runner of the application's migrations: the files of
// Config.MigrationsDir and the Go migrations of Config.Migrations.
func (a *App) Migrations() *migrate.Runner { return a.migrations }

func newMigrations(a *App) *migrate.Runner {
	dir := a.cfg.MigrationsDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(filepath.Clean(a.cfg.DataDir)), "migrations")
	}
	return &migrate.Runner{Store: a.store, Dir: dir, Go: a.cfg.Migrations}
}

// StartMigrations is what `serve` does before it listens: it applies the
// pending migrations and, with Config.Automigrate, writes a migration file
// for every later collection change made through the API, the dashboard or
// Go code (and records it as applied here), so that a fresh database and
// `plinth migrate up` reproduce the schema.
func (a *App) StartMigrations(ctx context.Context) ([]string, error) {
	applied, err := a.migrations.Up(ctx)
	if err != nil {
		return applied, err
	}
	if a.cfg.Automigrate {
		a.store.OnCollectionChange(func(ctx context.Context, old, c *schema.Collection) {
			path, err := a.migrations.Record(ctx, old, c)
			if err != nil {
				a.log.ErrorContext(ctx, "automigrate: cannot write the migration", "err", err)
				return
			}
			a.log.InfoContext(ctx, "automigrate: wrote "+path)
		})
	}
	return applied, nil
}
