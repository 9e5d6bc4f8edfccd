package authflow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Multi-factor authentication, PocketBase's flow: when the collection has
// mfa.enabled (and mfa.rule, if set, holds for the record) or the record
// has a confirmed TOTP enrolment, the first successful method answers 401
// with {"mfaId": ...} and leaves a row in _mfas; a second call of another
// method with that mfaId (Client.MFAID), for the same record and within
// mfa.duration, completes the login and deletes the row.

// refFilter selects the rows of an auth system collection that belong to
// one record; the ids travel as bound values through @request.body.
const refFilter = "collectionRef = @request.body.refCollection && recordRef = @request.body.refRecord"

func refInfo(c *schema.Collection, id string, extra map[string]any) *filter.RequestInfo {
	body := map[string]any{"refCollection": c.ID, "refRecord": id}
	for k, v := range extra {
		body[k] = v
	}
	return &filter.RequestInfo{Body: body, Method: "GET", Context: "default"}
}

// purgeExpired deletes, in tx, the rows of sys that belong to the record
// and were created before cutoff, so that abandoned codes and sessions do
// not pile up.
func purgeExpired(ctx context.Context, tx *store.Tx, sys, c *schema.Collection, id string, cutoff time.Time) error {
	page, err := tx.List(ctx, store.ListQuery{
		Collection: sys, Filters: []string{refFilter, "created < @request.body.cutoff"},
		Request: refInfo(c, id, map[string]any{"cutoff": schema.FormatDate(cutoff)}), Page: 1, PerPage: 100, SkipTotal: true,
	})
	if err != nil {
		return err
	}
	for _, row := range page.Items {
		if err := tx.Delete(ctx, row); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// expired reports whether row was created more than d ago.
func expired(row *schema.Record, d time.Duration) bool {
	created, err := schema.ParseDate(row.GetString("created"))
	return err != nil || time.Since(created) > d
}

// mfaRequired tells whether rec must authenticate with two methods.
func (s *Service) mfaRequired(ctx context.Context, caller *record.Caller, c *schema.Collection, rec *schema.Record, opts *schema.AuthOptions) (bool, error) {
	if opts.MFA.Enabled {
		rule := strings.TrimSpace(opts.MFA.Rule)
		if rule == "" {
			return true, nil
		}
		_, err := s.Store.FindOne(ctx, c, rec.ID(), ruleInfo(caller, rec), rule)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	row, err := s.totpRow(ctx, c, rec.ID())
	return row != nil && row.Get("confirmed") == true, err
}

// checkMFA is complete's multi-factor gate. It returns nil when a token
// may be issued: MFA is not required, or mfaID names this record's
// pending session, opened by another method. Otherwise it opens a session
// and returns the Unauthenticated *Error carrying its id, or an Invalid one.
func (s *Service) checkMFA(ctx context.Context, caller *record.Caller, c *schema.Collection, rec *schema.Record, opts *schema.AuthOptions, method, mfaID string) error {
	required, err := s.mfaRequired(ctx, caller, c, rec, opts)
	if err != nil || !required {
		return err
	}
	mfas := s.systemCollection(mfasCollection)
	d := seconds(opts.MFA.Duration, 30*time.Minute)
	mfaID = strings.TrimSpace(mfaID)
	if mfaID == "" {
		now := time.Now()
		row := schema.NewRecord(mfas)
		schema.Prepare(row, true, now)
		row.Set("collectionRef", c.ID)
		row.Set("recordRef", rec.ID())
		row.Set("method", method)
		err := s.Store.Tx(ctx, func(tx *store.Tx) error {
			if err := purgeExpired(ctx, tx, mfas, c, rec.ID(), now.Add(-d)); err != nil {
				return err
			}
			return tx.Insert(ctx, row)
		})
		if err != nil {
			return err
		}
		return &Error{Kind: Unauthenticated, MFAID: row.ID(),
			Message: "Multi-factor authentication required: authenticate with another method, sending this mfaId."}
	}
	if !schema.ValidID(mfaID) {
		return InvalidMFA()
	}
	row, err := s.Store.FindFirstBy(ctx, mfas, "id", mfaID)
	if errors.Is(err, store.ErrNotFound) {
		return InvalidMFA()
	}
	if err != nil {
		return err
	}
	if row.GetString("collectionRef") != c.ID || row.GetString("recordRef") != rec.ID() || expired(row, d) {
		return InvalidMFA()
	}
	if row.GetString("method") == method {
		return fieldError("mfaId", "validation_mfa_same_method", "The second factor must be a different authentication method.")
	}
	// One use: of two concurrent completions only one deletes the row.
	err = s.Store.Tx(ctx, func(tx *store.Tx) error { return tx.Delete(ctx, row) })
	if errors.Is(err, store.ErrNotFound) {
		return InvalidMFA()
	}
	return err
}
