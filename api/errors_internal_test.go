package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/plinthdev/plinth/store"
)

// TestRetryableWriteErrors: the store's write failures that a retry cures
// (a shared SQLite commit rolled back by another member's statement, a
// related record created between an insert and its check) reach the
// client as such, wrapped however deep, never as a 500.
func TestRetryableWriteErrors(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
	}{
		{fmt.Errorf("%w: release savepoint: gone", store.ErrBatchAborted), http.StatusServiceUnavailable},
		{fmt.Errorf("create: %w", fmt.Errorf("insert into posts: %w", store.ErrRelationsChanged)), http.StatusConflict},
	} {
		if got := toError(c.err); got.Status != c.status {
			t.Errorf("%v: status %d, want %d", c.err, got.Status, c.status)
		}
	}
}
