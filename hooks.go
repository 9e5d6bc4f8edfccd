package plinth

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/plinthdev/plinth/api"
	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/hook"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// RecordEvent is what a record write hook receives.
type RecordEvent struct {
	// Context is the request's (or the Go caller's) context.
	Context context.Context
	// Action is "create", "update" or "delete".
	Action     string
	Collection *schema.Collection
	// Record is the record being written. A Before hook may change its
	// fields; the record is validated again before it is stored.
	Record *schema.Record
	// Original is the stored record before an update; nil otherwise.
	Original *schema.Record
	// Auth is the caller's auth record: nil for guests, API keys and Go
	// code acting as the system.
	Auth *schema.Record
	// Tx is the write's transaction in Before hooks, for reads and writes
	// that must commit or roll back with it; nil in After hooks.
	Tx *store.Tx
}

// RecordsReadEvent is what a read hook receives: the records a view or
// list is about to return, for enrichment.
type RecordsReadEvent struct {
	Context    context.Context
	Collection *schema.Collection
	Records    []*schema.Record
	Auth       *schema.Record
}

// HookError is how a Before hook refuses a write: the API answers with
// its Status (a 4xx) and Message in PocketBase's error shape, and the
// transaction rolls back. Refuse builds one.
type HookError = record.HookError

// Refuse returns the error a hook returns to refuse an operation with the
// given 4xx status and message.
func Refuse(status int, message string) error {
	return &record.HookError{Status: status, Message: message}
}

// BindOption adjusts how a hook handler is bound.
type BindOption func(*bindOptions)

type bindOptions struct {
	priority int
	id       string
}

// Priority orders a handler among the others of its hook: lower runs
// first; equal priorities run in binding order. The default is 0.
func Priority(p int) BindOption { return func(o *bindOptions) { o.priority = p } }

// ID names a handler, so that it can be unbound (or replaced by binding
// another with the same id). By default binding generates one.
func ID(id string) BindOption { return func(o *bindOptions) { o.id = id } }

// bindTo binds fn to k with opts and returns the handler's id. Without
// an ID option the id is random: ids a hook.Hook generates count per
// hook, so a Before and an After handler of one RecordHook could share
// one, and Unbind (which removes from both) would remove the other too.
func bindTo[T any](k *hook.Hook[T], fn func(T) error, opts []BindOption) string {
	o := bindOptions{id: "h" + schema.NewID()}
	for _, opt := range opts {
		opt(&o)
	}
	return k.Bind(hook.Handler[T]{ID: o.id, Priority: o.priority, Func: fn})
}

// RecordHook binds handlers to one write action, for some collections or
// all of them.
type RecordHook struct {
	before, after *hook.Hook[*RecordEvent]
	collections   []string
}

// Before binds fn to run inside the write's transaction, after the rules
// and validation passed and before the record is stored. Returning an
// error refuses the write (see Refuse); it returns the handler's id.
func (h RecordHook) Before(fn func(*RecordEvent) error, opts ...BindOption) string {
	return h.bind(h.before, fn, opts)
}

// After binds fn to run once the write has committed; it never runs for a
// write that rolled back. Its error is logged: the write stands.
func (h RecordHook) After(fn func(*RecordEvent) error, opts ...BindOption) string {
	return h.bind(h.after, fn, opts)
}

// Unbind removes the handlers with these ids, Before or After.
func (h RecordHook) Unbind(ids ...string) {
	h.before.Unbind(ids...)
	h.after.Unbind(ids...)
}

func (h RecordHook) bind(k *hook.Hook[*RecordEvent], fn func(*RecordEvent) error, opts []BindOption) string {
	if len(h.collections) > 0 {
		names, inner := h.collections, fn
		fn = func(e *RecordEvent) error {
			for _, n := range names {
				if n == e.Collection.Name || n == e.Collection.ID {
					return inner(e)
				}
			}
			return nil
		}
	}
	return bindTo(k, fn, opts)
}

// ReadHook binds handlers that enrich the records of views and lists.
type ReadHook struct {
	k           *hook.Hook[*RecordsReadEvent]
	collections []string
}

// Bind binds fn; an error fails the read. It returns the handler's id.
func (h ReadHook) Bind(fn func(*RecordsReadEvent) error) string {
	names := h.collections
	return h.k.BindFunc(func(e *RecordsReadEvent) error {
		if len(names) == 0 {
			return fn(e)
		}
		for _, n := range names {
			if n == e.Collection.Name || n == e.Collection.ID {
				return fn(e)
			}
		}
		return nil
	})
}

// Unbind removes the handlers with these ids.
func (h ReadHook) Unbind(ids ...string) { h.k.Unbind(ids...) }

// OnRecordCreate is the hook of record creates in the named collections
// (by name or id; none: every collection), from every transport: REST,
// batch and Go code through Records.
func (a *App) OnRecordCreate(collections ...string) RecordHook {
	return RecordHook{a.hooks.beforeCreate, a.hooks.afterCreate, collections}
}

// OnRecordUpdate is OnRecordCreate for updates.
func (a *App) OnRecordUpdate(collections ...string) RecordHook {
	return RecordHook{a.hooks.beforeUpdate, a.hooks.afterUpdate, collections}
}

// OnRecordDelete is OnRecordCreate for deletes (cascaded deletes of
// related records are part of the write, not events of their own).
func (a *App) OnRecordDelete(collections ...string) RecordHook {
	return RecordHook{a.hooks.beforeDelete, a.hooks.afterDelete, collections}
}

// OnRecordsRead is the hook of the records that views and lists return
// (REST and Go code), after the rules chose them: for enrichment.
func (a *App) OnRecordsRead(collections ...string) ReadHook {
	return ReadHook{a.hooks.read, collections}
}

// Records is the record service every transport uses: Go code reads and
// writes through it with a context and a caller (record.SystemCaller for
// the application itself), and hooks fire as for REST requests.
func (a *App) Records() *record.Service { return a.srv.Records() }

// Handle mounts a custom route next to the built-in ones, behind the same
// middleware (auth, CORS, rate limits, metrics, panic recovery).
func (a *App) Handle(pattern string, h http.Handler) { a.srv.Handle(pattern, h) }

// HandleFunc mounts a custom route whose handler returns an error: an
// *APIError or HookError is answered as it says, in PocketBase's shape;
// any other error is a logged 500.
func (a *App) HandleFunc(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	a.srv.HandleFunc(pattern, h)
}

// RequireRule wraps h so that only callers whose own auth record satisfies
// rule reach it (superusers always do); see api.Server.RequireRule.
func (a *App) RequireRule(rule string, h http.Handler) http.Handler {
	return a.srv.RequireRule(rule, h)
}

// Caller is the request's caller as the record service sees it.
func (a *App) Caller(r *http.Request) *record.Caller { return a.srv.Caller(r) }

// APIError is an error a custom route returns to answer with a status,
// message and data in PocketBase's shape.
type APIError = api.Error

// Route helpers for custom routes.
var (
	// RequireAuth lets only authenticated callers through (of the named
	// auth collections, when any are given).
	RequireAuth = api.RequireAuth
	// RequireSuperuser lets only superusers through.
	RequireSuperuser = api.RequireSuperuser
	// AuthRecord returns the request's authenticated record, or nil.
	AuthRecord = api.AuthRecord
	// WriteError answers with a PocketBase-shaped error.
	WriteError = api.WriteError
)

// appHooks holds the App's hooks and implements record.Hooks for the
// record service.
type appHooks struct {
	log                                      *slog.Logger
	beforeCreate, beforeUpdate, beforeDelete *hook.Hook[*RecordEvent]
	afterCreate, afterUpdate, afterDelete    *hook.Hook[*RecordEvent]
	read                                     *hook.Hook[*RecordsReadEvent]
	beforeCollection, afterCollection        *hook.Hook[*CollectionEvent]
	beforeLogin, afterLogin                  *hook.Hook[*AuthEvent]
	beforeRefresh, afterRefresh              *hook.Hook[*AuthEvent]
	beforeReset, afterReset                  *hook.Hook[*AuthEvent]
}

func newAppHooks(log *slog.Logger) *appHooks {
	return &appHooks{log: log,
		beforeCreate: &hook.Hook[*RecordEvent]{}, beforeUpdate: &hook.Hook[*RecordEvent]{}, beforeDelete: &hook.Hook[*RecordEvent]{},
		afterCreate: &hook.Hook[*RecordEvent]{}, afterUpdate: &hook.Hook[*RecordEvent]{}, afterDelete: &hook.Hook[*RecordEvent]{},
		read:             &hook.Hook[*RecordsReadEvent]{},
		beforeCollection: &hook.Hook[*CollectionEvent]{}, afterCollection: &hook.Hook[*CollectionEvent]{},
		beforeLogin: &hook.Hook[*AuthEvent]{}, afterLogin: &hook.Hook[*AuthEvent]{},
		beforeRefresh: &hook.Hook[*AuthEvent]{}, afterRefresh: &hook.Hook[*AuthEvent]{},
		beforeReset: &hook.Hook[*AuthEvent]{}, afterReset: &hook.Hook[*AuthEvent]{},
	}
}

var _ record.Hooks = (*appHooks)(nil)

func (h *appHooks) pair(action string) (before, after *hook.Hook[*RecordEvent]) {
	switch action {
	case store.ActionCreate:
		return h.beforeCreate, h.afterCreate
	case store.ActionUpdate:
		return h.beforeUpdate, h.afterUpdate
	}
	return h.beforeDelete, h.afterDelete
}

func event(ctx context.Context, tx *store.Tx, e *record.WriteEvent) *RecordEvent {
	ev := &RecordEvent{Context: ctx, Action: e.Action, Collection: e.Collection, Record: e.Record, Original: e.Original, Tx: tx}
	if e.Caller != nil {
		ev.Auth = e.Caller.Auth
	}
	return ev
}

// BeforeWrite implements record.Hooks.
func (h *appHooks) BeforeWrite(ctx context.Context, tx *store.Tx, e *record.WriteEvent) error {
	before, _ := h.pair(e.Action)
	if before.Len() == 0 {
		return nil
	}
	return before.Trigger(event(ctx, tx, e))
}

// AfterWrite implements record.Hooks.
func (h *appHooks) AfterWrite(ctx context.Context, e *record.WriteEvent) {
	_, after := h.pair(e.Action)
	if after.Len() == 0 {
		return
	}
	if err := after.Trigger(event(ctx, nil, e)); err != nil {
		h.log.ErrorContext(ctx, "after-write hook failed", "action", e.Action, "collection", e.Collection.Name, "record", e.Record.ID(), "err", err)
	}
}

// HasReadHooks reports whether any OnRecordsRead handler is bound: the
// API then serves no read from its public cache, since a handler may
// change an answer per caller.
func (h *appHooks) HasReadHooks() bool { return h.read.Len() > 0 }

// AfterRead implements record.Hooks.
func (h *appHooks) AfterRead(ctx context.Context, caller *record.Caller, c *schema.Collection, records []*schema.Record) error {
	if h.read.Len() == 0 {
		return nil
	}
	e := &RecordsReadEvent{Context: ctx, Collection: c, Records: records}
	if caller != nil {
		e.Auth = caller.Auth
	}
	return h.read.Trigger(e)
}

// AuthEvent is what an auth event hook receives: a login (by password,
// OTP, OAuth2 or TOTP; impersonation is not one), a token refresh or a
// confirmed password reset.
type AuthEvent struct {
	// Context is the request's (or the Go caller's) context.
	Context    context.Context
	Collection *schema.Collection
	// Record is the auth record that logs in, refreshes its token or gets
	// a new password.
	Record *schema.Record
	// Method is a login's method ("password", "otp", "oauth2", "totp":
	// the last one when multi-factor auth took two); empty otherwise.
	Method string
	// ClientIP is the client's address as the server saw it.
	ClientIP string
}

// AuthHook binds handlers to one auth event, for some auth collections
// or all of them.
type AuthHook struct {
	before, after *hook.Hook[*AuthEvent]
	collections   []string
}

// Before binds fn to run before the event takes effect: before a login's
// or refresh's token is issued (after the credentials, the authRule and
// any second factor passed), before a reset password is stored.
// Returning an error refuses it (see Refuse: the API answers with its
// 4xx). It returns the handler's id.
func (h AuthHook) Before(fn func(*AuthEvent) error, opts ...BindOption) string {
	return bindTo(h.before, h.filter(fn), opts)
}

// After binds fn to run once the event took effect; its error is logged.
func (h AuthHook) After(fn func(*AuthEvent) error, opts ...BindOption) string {
	return bindTo(h.after, h.filter(fn), opts)
}

// Unbind removes the handlers with these ids, Before or After.
func (h AuthHook) Unbind(ids ...string) {
	h.before.Unbind(ids...)
	h.after.Unbind(ids...)
}

func (h AuthHook) filter(fn func(*AuthEvent) error) func(*AuthEvent) error {
	if len(h.collections) == 0 {
		return fn
	}
	names := h.collections
	return func(e *AuthEvent) error {
		for _, n := range names {
			if n == e.Collection.Name || n == e.Collection.ID {
				return fn(e)
			}
		}
		return nil
	}
}

// OnAuthLogin is the hook of successful logins to the named auth
// collections (none: all), from every transport (REST or Go code through
// Auth). Sign-ups are record creates: see OnRecordCreate.
func (a *App) OnAuthLogin(collections ...string) AuthHook {
	return AuthHook{a.hooks.beforeLogin, a.hooks.afterLogin, collections}
}

// OnAuthRefresh is OnAuthLogin for auth token refreshes.
func (a *App) OnAuthRefresh(collections ...string) AuthHook {
	return AuthHook{a.hooks.beforeRefresh, a.hooks.afterRefresh, collections}
}

// OnPasswordReset is OnAuthLogin for confirmed password resets.
func (a *App) OnPasswordReset(collections ...string) AuthHook {
	return AuthHook{a.hooks.beforeReset, a.hooks.afterReset, collections}
}

// Auth is the auth flow service every transport uses: Go code logs in,
// refreshes tokens and runs the emailed flows through it, and the auth
// hooks fire as for REST requests.
func (a *App) Auth() *authflow.Service { return a.srv.Auth() }

var _ authflow.Hooks = (*appHooks)(nil)

func (h *appHooks) authPair(kind string) (before, after *hook.Hook[*AuthEvent]) {
	switch kind {
	case authflow.EventLogin:
		return h.beforeLogin, h.afterLogin
	case authflow.EventRefresh:
		return h.beforeRefresh, h.afterRefresh
	}
	return h.beforeReset, h.afterReset
}

func authEvent(ctx context.Context, e *authflow.Event) *AuthEvent {
	return &AuthEvent{Context: ctx, Collection: e.Collection, Record: e.Record, Method: e.Method, ClientIP: e.ClientIP}
}

// BeforeAuth implements authflow.Hooks.
func (h *appHooks) BeforeAuth(ctx context.Context, e *authflow.Event) error {
	before, _ := h.authPair(e.Kind)
	if before.Len() == 0 {
		return nil
	}
	return before.Trigger(authEvent(ctx, e))
}

// AfterAuth implements authflow.Hooks.
func (h *appHooks) AfterAuth(ctx context.Context, e *authflow.Event) {
	_, after := h.authPair(e.Kind)
	if after.Len() == 0 {
		return
	}
	if err := after.Trigger(authEvent(ctx, e)); err != nil {
		h.log.ErrorContext(ctx, "after-auth hook failed", "event", e.Kind, "collection", e.Collection.Name, "record", e.Record.ID(), "err", err)
	}
}
