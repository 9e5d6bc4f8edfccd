package authflow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

func isBlank(v string) bool { return strings.TrimSpace(v) == "" }

// ruleInfo is what an auth collection's authRule and mfa.rule see: the
// record authenticating as @request.auth, the caller's body and method.
func ruleInfo(caller *record.Caller, rec *schema.Record) *filter.RequestInfo {
	info := &filter.RequestInfo{Auth: rec, Method: "POST", Context: "default"}
	if caller != nil && caller.Request != nil {
		info.Body = caller.Request.Body
		if caller.Request.Method != "" {
			info.Method = caller.Request.Method
		}
	}
	return info
}

// PasswordLogin authenticates with an identity (one of the collection's
// identity fields, email by default) and a password.
func (s *Service) PasswordLogin(ctx context.Context, caller *record.Caller, c *schema.Collection, identity, password string, client Client) (*Result, error) {
	opts := Options(c)
	if !opts.PasswordAuth.Enabled {
		return nil, forbidden("Password authentication is not enabled for this collection.")
	}
	errs := schema.Errors{}
	if isBlank(identity) {
		errs.Add("identity", schema.ErrRequired())
	}
	if password == "" {
		errs.Add("password", schema.ErrRequired())
	}
	if len(errs) > 0 {
		return nil, &Error{Kind: Invalid, Message: "Failed to authenticate.", Data: errs}
	}
	// Failed logins are throttled per identity (in this collection) and per IP.
	throttleID := "password:" + c.ID + ":" + identity
	if err := s.throttle(ctx, throttleID, client.IP); err != nil {
		return nil, err
	}
	rec, err := s.findByIdentity(ctx, c, opts.PasswordAuth.IdentityFields, identity)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash := ""
	if rec != nil {
		hash = rec.GetString("password")
	}
	if !auth.CheckPassword(hash, password, s.Records.PasswordCost(c, "password")) {
		s.failed(ctx, throttleID, client.IP)
		return nil, invalid("Failed to authenticate.", nil)
	}
	s.succeeded(ctx, throttleID, client.IP)
	return s.complete(ctx, caller, c, rec, MethodPassword, client, nil)
}

// findByIdentity looks a record up by each identity field in turn.
func (s *Service) findByIdentity(ctx context.Context, c *schema.Collection, fields []string, identity string) (*schema.Record, error) {
	if len(fields) == 0 {
		fields = []string{"email"}
	}
	for _, name := range fields {
		rec, err := s.Store.FindFirstBy(ctx, c, name, identity)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		return rec, err
	}
	return nil, store.ErrNotFound
}

// complete finishes a successful authentication by one method: the
// collection's authRule must hold for the record, multi-factor auth may
// ask for a second method (an Unauthenticated *Error with MFAID), the
// login hooks may refuse, and then a token is issued.
func (s *Service) complete(ctx context.Context, caller *record.Caller, c *schema.Collection, rec *schema.Record, method string, client Client, meta map[string]any) (*Result, error) {
	opts := Options(c)
	if err := s.checkAuthRule(ctx, caller, c, rec, opts); err != nil {
		return nil, err
	}
	if err := s.checkMFA(ctx, caller, c, rec, opts, method, client.MFAID); err != nil {
		return nil, err
	}
	e := &Event{Kind: EventLogin, Collection: c, Record: rec, Method: method, ClientIP: client.IP}
	if err := s.before(ctx, e); err != nil {
		return nil, err
	}
	res, err := s.issue(rec, opts, meta)
	if err != nil {
		return nil, err
	}
	s.noteOrigin(ctx, c, rec, method, client)
	s.after(ctx, e)
	return res, nil
}

// checkAuthRule refuses (403) unless the collection's authRule holds for
// rec now: at every authentication and at every token refresh, so that a
// record that stops passing it (banned, unverified, whatever the rule
// says) cannot keep itself signed in by refreshing.
func (s *Service) checkAuthRule(ctx context.Context, caller *record.Caller, c *schema.Collection, rec *schema.Record, opts *schema.AuthOptions) error {
	if opts.AuthRule == nil {
		return forbidden("The collection is not configured to allow authentication.")
	}
	if rule := strings.TrimSpace(*opts.AuthRule); rule != "" {
		_, err := s.Store.FindOne(ctx, c, rec.ID(), ruleInfo(caller, rec), rule)
		if errors.Is(err, store.ErrNotFound) {
			return forbidden("The authorized record is not allowed to authenticate.")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// issue makes a refreshable auth token for rec.
func (s *Service) issue(rec *schema.Record, opts *schema.AuthOptions, meta map[string]any) (*Result, error) {
	token, err := s.Tokens.Issue(rec, auth.TypeAuth, seconds(opts.AuthToken.Duration, 7*24*time.Hour), true)
	if err != nil {
		return nil, err
	}
	return &Result{Record: rec, Token: token, Meta: meta}, nil
}

// Refresh issues a new auth token for the caller's record, whose current
// token's claims (as auth.Tokens.Verify returned them) are given:
// impersonation tokens are not refreshable.
func (s *Service) Refresh(ctx context.Context, caller *record.Caller, c *schema.Collection, claims *auth.Claims, clientIP string) (*Result, error) {
	var rec *schema.Record
	if caller != nil {
		rec = caller.Auth
	}
	if err := selfAuth(rec, c); err != nil {
		return nil, err
	}
	if claims == nil || !claims.Refreshable || claims.Type != auth.TypeAuth {
		return nil, forbidden("The current auth token is not refreshable.")
	}
	opts := Options(c)
	if err := s.checkAuthRule(ctx, caller, c, rec, opts); err != nil {
		return nil, err
	}
	e := &Event{Kind: EventRefresh, Collection: c, Record: rec, ClientIP: clientIP}
	if err := s.before(ctx, e); err != nil {
		return nil, err
	}
	res, err := s.issue(rec, opts, nil)
	if err != nil {
		return nil, err
	}
	s.after(ctx, e)
	return res, nil
}
