package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

var (
	// ErrSuperusersOnly is returned when a collection's rule is null and the
	// caller is not a superuser.
	ErrSuperusersOnly = errors.New("only superusers can perform this action")
	// ErrRuleFailed is returned when a would-be record fails the create rule.
	ErrRuleFailed = errors.New("the record does not satisfy the collection's rule")
	// ErrOutOfScope is returned when an API key's scopes do not grant the
	// action on the collection.
	ErrOutOfScope = errors.New("the API key's scopes do not allow this action")
)

// Caller is who makes a request and what the request carries, for rules.
type Caller struct {
	// Auth is the authenticated record, or nil.
	Auth *schema.Record
	// Request is what rules see as @request.*.
	Request *filter.RequestInfo
	// Key is the API key of a server caller, or nil. A key bypasses the
	// rules of the collection × action pairs its scopes grant and is
	// refused everything else.
	Key *auth.APIKey
	// Uploads are the files the request uploaded; the body names each
	// under its field key (see planFiles). Nil for requests without files.
	Uploads []*files.Upload
	// System marks Go code acting on its own behalf (SystemCaller).
	System bool
}

// IsSuperuser reports whether the caller is a superuser.
func (c *Caller) IsSuperuser() bool {
	return c != nil && (c.System || c.Auth != nil && c.Auth.Collection.ID == auth.SuperusersID)
}

// SystemCaller is Go code acting on its own behalf: like a superuser, it
// passes every rule and sees every field.
func SystemCaller() *Caller {
	return &Caller{System: true, Request: &filter.RequestInfo{Context: "system"}}
}

// Service performs record operations for callers.
type Service struct {
	Store *store.Store
	// BcryptCost is the cost for new password hashes (0: bcrypt's default).
	BcryptCost int
	// Files stores the files of file fields; it is used to delete files
	// after writes that carry no files.Changes (see WithFileChanges). Nil
	// leaves such files to the sweeper.
	Files files.Storage
	// Log receives file cleanup failures (nil: slog.Default()).
	Log *slog.Logger
	// Hooks is told of reads and writes (nil: none).
	Hooks Hooks
	// onBcrypt, when set (by tests), is called before every bcrypt hash or
	// comparison the service makes.
	onBcrypt func()
}

// rule returns the filters a caller must pass for one rule: none for
// superusers, API keys in scope and empty rules, ErrSuperusersOnly for null
// rules, ErrOutOfScope for API keys out of scope.
func rule(caller *Caller, c *schema.Collection, action string, r *string) ([]string, error) {
	if caller.IsSuperuser() {
		return nil, nil
	}
	if caller.Key != nil {
		if caller.Key.Allows(c.ID, c.Name, action) {
			return nil, nil
		}
		return nil, ErrOutOfScope
	}
	if r == nil {
		return nil, ErrSuperusersOnly
	}
	if strings.TrimSpace(*r) == "" {
		return nil, nil
	}
	return []string{*r}, nil
}

// MayAttempt reports, before a request's body is read, whether any rule
// could let the caller perform action on c: ErrSuperusersOnly for a null
// rule (the caller is no superuser), ErrOutOfScope for an API key out of
// scope, nil when the rule decides once the record is known.
func MayAttempt(caller *Caller, c *schema.Collection, action string) error {
	var r *string
	switch action {
	case auth.ActionList:
		r = c.ListRule
	case auth.ActionView:
		r = c.ViewRule
	case auth.ActionCreate:
		r = c.CreateRule
	case auth.ActionUpdate:
		r = c.UpdateRule
	case auth.ActionDelete:
		r = c.DeleteRule
	default:
		return nil
	}
	_, err := rule(caller, c, action, r)
	return err
}

// client is how the caller's own filters and sorts are policed (see
// filter.Client): through a relation it reads the rows its list rule (or
// API key scope) lets it list, and the emails its manage rule lets it see.
func client(caller *Caller) *filter.Client {
	if caller.IsSuperuser() {
		return &filter.Client{Superuser: true}
	}
	return &filter.Client{
		Rule: func(c *schema.Collection) (string, bool) {
			filters, err := rule(caller, c, auth.ActionList, c.ListRule)
			if err != nil {
				return "", false
			}
			return strings.Join(filters, ""), true
		},
		Manage: func(c *schema.Collection) (string, bool) {
			if caller.Key != nil || c.Auth == nil || c.Auth.ManageRule == nil {
				return "", false
			}
			if strings.TrimSpace(*c.Auth.ManageRule) == "" {
				return "", true
			}
			return *c.Auth.ManageRule, true
		},
	}
}

// visibleInput drops, for non-superusers, body keys of hidden fields other
// than passwords: only superusers may set hidden values.
func visibleInput(caller *Caller, c *schema.Collection, body map[string]any) map[string]any {
	if caller.IsSuperuser() {
		return body
	}
	var out map[string]any
	for k := range body {
		name, _ := schema.SplitModifier(k)
		if f := c.Field(name); f != nil && f.Hidden && f.Type != "password" && !f.System {
			if out == nil {
				out = make(map[string]any, len(body))
				for k2, v2 := range body {
					out[k2] = v2
				}
			}
			delete(out, k)
		}
	}
	if out == nil {
		return body
	}
	return out
}

// ListParams are the list query parameters.
type ListParams struct {
	Filter    string
	Sort      string
	Page      int
	PerPage   int
	SkipTotal bool
	// Offset, when positive, skips that many records instead of the pages
	// before Page.
	Offset int
}

// List returns one page of c's records that the caller may list.
func (s *Service) List(ctx context.Context, caller *Caller, c *schema.Collection, p ListParams) (*store.Page, error) {
	filters, err := rule(caller, c, auth.ActionList, c.ListRule)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.List(ctx, store.ListQuery{
		Collection: c, Filters: filters, Filter: p.Filter, Client: client(caller),
		Request: caller.Request, Sort: p.Sort,
		Page: p.Page, PerPage: p.PerPage, Offset: p.Offset, SkipTotal: p.SkipTotal,
	})
	if err != nil {
		return nil, err
	}
	return page, s.afterRead(ctx, caller, c, page.Items)
}

// View returns the record if the caller may view it, else store.ErrNotFound.
func (s *Service) View(ctx context.Context, caller *Caller, c *schema.Collection, id string) (*schema.Record, error) {
	filters, err := rule(caller, c, auth.ActionView, c.ViewRule)
	if err != nil {
		return nil, err
	}
	if !schema.ValidID(id) {
		return nil, store.ErrNotFound
	}
	r, err := s.Store.FindOne(ctx, c, id, caller.Request, filters...)
	if err != nil {
		return nil, err
	}
	return r, s.afterRead(ctx, caller, c, []*schema.Record{r})
}

// Create validates body into a new record of c and inserts it in tx. The
// create rule is checked against the would-be record inside tx, so a record
// that fails it is never visible to anyone.
// Rules read body as @request.body when the caller carries none (Go
// callers such as a custom route's).
func (s *Service) Create(ctx context.Context, tx *store.Tx, caller *Caller, c *schema.Collection, body map[string]any) (*schema.Record, error) {
	caller = withBody(caller, body)
	if c.IsView() {
		return nil, errReadOnly
	}
	caller = withResolvedModifiers(caller, schema.NewRecord(c))
	filters, err := rule(caller, c, auth.ActionCreate, c.CreateRule)
	if err != nil {
		return nil, err
	}
	r := schema.NewRecord(c)
	errs := schema.Apply(r, visibleInput(caller, c, body), true)
	if id := r.ID(); id != "" && !schema.ValidID(id) {
		errs.Add("id", schema.NewFieldError("validation_invalid_id", "Invalid id: use 1-100 characters of a-z, 0-9 and _."))
	}
	schema.Prepare(r, true, time.Now())
	if c.IsAuth() {
		s.checkPasswordConfirm(r, body, errs)
	}
	fp := planFiles(caller, nil, r, errs)
	for k, v := range schema.Validate(r) {
		if _, seen := errs[k]; !seen {
			errs[k] = v
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if err := s.beforeWrite(ctx, tx, &WriteEvent{Action: store.ActionCreate, Collection: c, Record: r, Caller: caller}); err != nil {
		return nil, err
	}
	if err := s.hashPasswords(ctx, r); err != nil {
		return nil, err
	}
	if err := s.storeFiles(ctx, tx, r, fp); err != nil {
		return nil, err
	}
	if err := tx.Insert(ctx, r); err != nil {
		return nil, s.createRefused(ctx, caller, r, filters, err)
	}
	// On PostgreSQL the insert travels with the next statement, so its
	// unique clash may surface from either of these.
	if err := s.checkProtected(ctx, tx, caller, c, nil, r, body); err != nil {
		return nil, s.createRefused(ctx, caller, r, filters, err)
	}
	if len(filters) > 0 {
		ok, err := tx.Matches(ctx, c, r.ID(), caller.Request, filters...)
		if err != nil {
			return nil, s.createRefused(ctx, caller, r, filters, err)
		}
		if !ok {
			return nil, ErrRuleFailed
		}
	}
	return r, nil
}

// createRefused is the error of an insert that failed. A unique clash is
// found by the insert, before the create rule can be checked against the
// new row; answered as is, it would tell a caller the rule refuses that
// some value exists where the caller cannot see it ("this user applied to
// this job"). So the rule decides first, on the record as it would have
// been (outside the failed transaction, which PostgreSQL has aborted).
func (s *Service) createRefused(ctx context.Context, caller *Caller, r *schema.Record, filters []string, err error) error {
	var errs schema.Errors
	if len(filters) == 0 || !errors.As(err, &errs) || !hasCode(errs, "validation_not_unique") {
		return err
	}
	ok, merr := s.Store.MatchesRecord(ctx, r, caller.Request, filters...)
	if merr != nil {
		return merr
	}
	if !ok {
		return ErrRuleFailed
	}
	return err
}

func hasCode(errs schema.Errors, code string) bool {
	for _, e := range errs {
		if fe, ok := e.(*schema.FieldError); ok && fe.Code == code {
			return true
		}
	}
	return false
}

// Update applies body to the record with id, if the caller may update it.
// As in Create, rules read body as @request.body when the caller carries
// none.
func (s *Service) Update(ctx context.Context, tx *store.Tx, caller *Caller, c *schema.Collection, id string, body map[string]any) (*schema.Record, error) {
	caller = withBody(caller, body)
	if caller != nil && caller.Request != nil && hasModifier(caller.Request.Body) && !c.IsView() && schema.ValidID(id) {
		// The rule reads the body with its modifiers resolved against
		// the stored record, which is read first for that alone.
		stored, err := tx.FindOne(ctx, c, id, nil)
		if err != nil {
			return nil, err
		}
		caller = withResolvedModifiers(caller, stored)
	}
	current, err := s.findWritable(ctx, tx, caller, c, auth.ActionUpdate, c.UpdateRule, id)
	if err != nil {
		return nil, err
	}
	r := current.Clone()
	errs := schema.Apply(r, visibleInput(caller, c, body), false)
	schema.Prepare(r, false, time.Now())
	if c.IsAuth() {
		if _, ok := r.PlainPassword("password"); ok {
			s.checkPasswordConfirm(r, body, errs)
		}
	}
	fp := planFiles(caller, current, r, errs)
	for k, v := range schema.Validate(r) {
		if _, seen := errs[k]; !seen {
			errs[k] = v
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if err := s.checkProtected(ctx, tx, caller, c, current, r, body); err != nil {
		return nil, err
	}
	if c.IsAuth() {
		_, pwChanged := r.PlainPassword("password")
		if pwChanged || r.GetString("email") != current.GetString("email") {
			// A new token key invalidates every token issued before.
			if f := c.Field("tokenKey"); f != nil {
				r.Set("tokenKey", f.Options.(*schema.TextOptions).Generate())
			}
		}
	}
	if err := s.beforeWrite(ctx, tx, &WriteEvent{Action: store.ActionUpdate, Collection: c, Record: r, Original: current, Caller: caller}); err != nil {
		return nil, err
	}
	if err := s.hashPasswords(ctx, r); err != nil {
		return nil, err
	}
	if err := s.storeFiles(ctx, tx, r, fp); err != nil {
		return nil, err
	}
	tx.NoteOriginal(current)
	if err := tx.Update(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Delete removes the record with id if the caller may delete it.
func (s *Service) Delete(ctx context.Context, tx *store.Tx, caller *Caller, c *schema.Collection, id string) (*schema.Record, error) {
	r, err := s.findWritable(ctx, tx, caller, c, auth.ActionDelete, c.DeleteRule, id)
	if err != nil {
		return nil, err
	}
	if err := s.beforeWrite(ctx, tx, &WriteEvent{Action: store.ActionDelete, Collection: c, Record: r, Caller: caller}); err != nil {
		return nil, err
	}
	return r, tx.Delete(ctx, r)
}

// errReadOnly is returned for writes to view collections.
var errReadOnly = schema.Errors{"collection": schema.NewFieldError("validation_view_read_only", "View collections are read only.")}

// Updatable reports whether the record with id exists and the caller may
// update it (its update rule lets the caller see it). It answers false,
// not an error, when the record is missing, hidden or the rule is closed to
// the caller, so that a batch upsert can treat all of these as a create
// and reveal nothing about a record the caller may not see.
func (s *Service) Updatable(ctx context.Context, tx *store.Tx, caller *Caller, c *schema.Collection, id string) (bool, error) {
	_, err := s.findWritable(ctx, tx, caller, c, auth.ActionUpdate, c.UpdateRule, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrSuperusersOnly), errors.Is(err, ErrOutOfScope):
		return false, nil
	}
	return false, err
}

// findWritable loads the record with id for an update or delete: the
// collection must be writable and the rule must let the caller see it.
func (s *Service) findWritable(ctx context.Context, tx *store.Tx, caller *Caller, c *schema.Collection, action string, ruleSrc *string, id string) (*schema.Record, error) {
	if c.IsView() {
		return nil, errReadOnly
	}
	filters, err := rule(caller, c, action, ruleSrc)
	if err != nil {
		return nil, err
	}
	if !schema.ValidID(id) {
		return nil, store.ErrNotFound
	}
	return tx.FindOne(ctx, c, id, caller.Request, filters...)
}

func (s *Service) checkPasswordConfirm(r *schema.Record, body map[string]any, errs schema.Errors) {
	plain, ok := r.PlainPassword("password")
	if !ok {
		return
	}
	if confirm, _ := body["passwordConfirm"].(string); confirm != plain {
		errs.Add("passwordConfirm", schema.NewFieldError("validation_values_mismatch", "Values don't match."))
	}
}

// hashPasswords replaces plain passwords set by Apply with bcrypt hashes,
// those HashAhead prepared in ctx when it did (see passwords.go).
func (s *Service) hashPasswords(ctx context.Context, r *schema.Record) error {
	p := preparedFrom(ctx)
	for _, f := range r.Collection.Fields {
		plain, ok := r.PlainPassword(f.Name)
		if !ok {
			continue
		}
		h, ok := p.takeHash(hashKey{r.Collection.ID, f.Name, plain})
		if !ok {
			var err error
			if h, err = s.hashPassword(plain, s.passwordCost(f)); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		r.Set(f.Name, h)
	}
	r.ClearPlainPasswords()
	return nil
}
