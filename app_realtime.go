package plinth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"

	"github.com/plinthdev/plinth/realtime"
	"github.com/plinthdev/plinth/store"
)

// openRealtimeBus picks how realtime events reach other instances: NATS
// when a URL is configured, else PostgreSQL LISTEN/NOTIFY on PostgreSQL,
// else nothing (SQLite is one instance). It returns nil, nil for none.
func openRealtimeBus(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger) (realtime.Bus, error) {
	switch {
	case cfg.NATSURL != "":
		prefix := cfg.NATSSubject
		if prefix == "" {
			prefix = "plinth"
		}
		bus, err := realtime.NewNATSBus(realtime.NATSConfig{URL: cfg.NATSURL, SubjectPrefix: prefix, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("realtime bus on NATS: %w", err)
		}
		log.Info("realtime bus: NATS", "subject", prefix+".realtime")
		return bus, nil
	case cfg.DatabaseURL != "":
		// One channel per database URL: instances of one app share it, and
		// apps in other schemas of the same database (tests) never hear
		// each other.
		sum := sha256.Sum256([]byte(cfg.DatabaseURL))
		channel := "plinth_rt_" + hex.EncodeToString(sum[:6])
		bus, err := realtime.NewPostgresBus(ctx, realtime.PostgresConfig{Pool: st.PostgresPool(), Channel: channel, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("realtime bus on PostgreSQL: %w", err)
		}
		log.Info("realtime bus: PostgreSQL LISTEN/NOTIFY", "channel", channel)
		return bus, nil
	}
	return nil, nil
}
