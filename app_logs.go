package plinth

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/plinthdev/plinth/logs"
	"github.com/plinthdev/plinth/store"
)

// openLogs opens the request and application log: an auxiliary SQLite
// file next to data.db, or the table _logs on PostgreSQL.
func openLogs(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger) (*logs.Store, error) {
	lc := logs.Config{Log: log}
	if pool := st.PostgresPool(); pool != nil {
		// The log shares the record pool: it may use two connections at
		// most and keeps none idle, so it never starves record work or
		// the realtime bus's NOTIFY of connections.
		db := stdlib.OpenDBFromPool(pool)
		db.SetMaxOpenConns(2)
		db.SetMaxIdleConns(0)
		return logs.OpenPostgres(ctx, db, lc)
	}
	return logs.OpenSQLite(ctx, cfg.DataDir, lc)
}

// Logs is the request and application log that GET /api/logs serves.
func (a *App) Logs() *logs.Store { return a.logs }
