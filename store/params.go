package store

import (
	"context"
	"fmt"
)

// SetParam stores value under key in _params, replacing any previous value.
func (s *Store) SetParam(ctx context.Context, key, value string) error {
	q := `INSERT INTO _params (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	if _, err := s.write.ExecContext(ctx, s.rebind(q), key, value); err != nil {
		return fmt.Errorf("store param %s: %w", key, err)
	}
	return nil
}
