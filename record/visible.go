package record

import (
	"context"
	"errors"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/schema"
)

// Visible reports whether caller may see r through its collection's list
// rule (list) or view rule, and through the client's own filter, if any.
// r is a snapshot that need not be in the database any more: realtime asks
// after a write, delete included, what each subscriber may see.
func (s *Service) Visible(ctx context.Context, caller *Caller, r *schema.Record, list bool, clientFilter string) (bool, error) {
	c := r.Collection
	action, ruleSrc := auth.ActionView, c.ViewRule
	if list {
		action, ruleSrc = auth.ActionList, c.ListRule
	}
	filters, err := rule(caller, c, action, ruleSrc)
	if errors.Is(err, ErrSuperusersOnly) || errors.Is(err, ErrOutOfScope) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if len(filters) == 0 && clientFilter == "" {
		return true, nil
	}
	return s.Store.MatchesRecordFor(ctx, r, caller.Request, client(caller), clientFilter, filters...)
}
