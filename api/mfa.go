package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Multi-factor authentication, PocketBase's flow: when the collection has
// mfa.enabled (and mfa.rule, if set, holds for the record) or the record
// has a confirmed TOTP enrolment, the first successful method answers 401
// with {"mfaId": ...} and leaves a row in _mfas; a second call of another
// method with that mfaId in its body, for the same record and within
// mfa.duration, completes the login and deletes the row.

// System collections of the auth flows.
const (
	mfasCollection  = "_mfas"
	otpsCollection  = "_otps"
	totpsCollection = "_totps"
)

// systemCollection returns a system collection that migrations create.
func (s *Server) systemCollection(name string) *schema.Collection {
	return s.store.Schema().Lookup(name)
}

// refFilter selects the rows of an auth system collection that belong to
// one record; the ids travel as bound values through @request.body.
const refFilter = "collectionRef = @request.body.refCollection && recordRef = @request.body.refRecord"

func refInfo(c *schema.Collection, id string, extra map[string]any) *filter.RequestInfo {
	body := map[string]any{"refCollection": c.ID, "refRecord": id}
	for k, v := range extra {
		body[k] = v
	}
	return &filter.RequestInfo{Body: body, Method: http.MethodGet, Context: "default"}
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
func (s *Server) mfaRequired(r *http.Request, c *schema.Collection, rec *schema.Record, opts *schema.AuthOptions, body map[string]any) (bool, error) {
	if opts.MFA.Enabled {
		rule := strings.TrimSpace(opts.MFA.Rule)
		if rule == "" {
			return true, nil
		}
		info := &filter.RequestInfo{Auth: rec, Body: body, Method: r.Method, Context: "default"}
		_, err := s.store.FindOne(r.Context(), c, rec.ID(), info, rule)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	row, err := s.totpRow(r.Context(), c, rec.ID())
	return row != nil && row.Get("confirmed") == true, err
}

// requestMFAID is the mfaId of a second-factor request: from the body, or
// from the query string, where the JS SDK puts it when it is passed as an
// option (authWithOTP(otpId, code, {mfaId})).
func requestMFAID(r *http.Request, body map[string]any) string {
	if id := strings.TrimSpace(bodyString(body, "mfaId")); id != "" {
		return id
	}
	return strings.TrimSpace(r.URL.Query().Get("mfaId"))
}

// invalidMFA answers an mfaId that is unknown, expired or another record's.
func invalidMFA() *Error {
	return &Error{Status: http.StatusBadRequest, Message: "Invalid or expired MFA session.",
		Data: schema.Errors{"mfaId": schema.NewFieldError("validation_invalid_mfa", "Invalid or expired MFA session.")}}
}

// checkMFA is completeAuth's multi-factor gate. It returns nil when a token
// may be issued: MFA is not required, or body's mfaId names this record's
// pending session, opened by another method. Otherwise it opens a session
// and returns the 401 carrying its id, or a 400.
func (s *Server) checkMFA(r *http.Request, c *schema.Collection, rec *schema.Record, opts *schema.AuthOptions, method string, body map[string]any) error {
	required, err := s.mfaRequired(r, c, rec, opts, body)
	if err != nil || !required {
		return err
	}
	ctx := r.Context()
	mfas := s.systemCollection(mfasCollection)
	d := seconds(opts.MFA.Duration, 30*time.Minute)
	mfaID := requestMFAID(r, body)
	if mfaID == "" {
		now := time.Now()
		row := schema.NewRecord(mfas)
		schema.Prepare(row, true, now)
		row.Set("collectionRef", c.ID)
		row.Set("recordRef", rec.ID())
		row.Set("method", method)
		err := s.store.Tx(ctx, func(tx *store.Tx) error {
			if err := purgeExpired(ctx, tx, mfas, c, rec.ID(), now.Add(-d)); err != nil {
				return err
			}
			return tx.Insert(ctx, row)
		})
		if err != nil {
			return err
		}
		return &Error{Status: http.StatusUnauthorized, MFAID: row.ID(),
			Message: "Multi-factor authentication required: authenticate with another method, sending this mfaId."}
	}
	if !schema.ValidID(mfaID) {
		return invalidMFA()
	}
	row, err := s.store.FindFirstBy(ctx, mfas, "id", mfaID)
	if errors.Is(err, store.ErrNotFound) {
		return invalidMFA()
	}
	if err != nil {
		return err
	}
	if row.GetString("collectionRef") != c.ID || row.GetString("recordRef") != rec.ID() || expired(row, d) {
		return invalidMFA()
	}
	if row.GetString("method") == method {
		return &Error{Status: http.StatusBadRequest, Message: "The second factor must be a different authentication method.",
			Data: schema.Errors{"mfaId": schema.NewFieldError("validation_mfa_same_method", "The second factor must be a different authentication method.")}}
	}
	// One use: of two concurrent completions only one deletes the row.
	err = s.store.Tx(ctx, func(tx *store.Tx) error { return tx.Delete(ctx, row) })
	if errors.Is(err, store.ErrNotFound) {
		return invalidMFA()
	}
	return err
}
