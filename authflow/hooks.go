package authflow

import (
	"context"

	"github.com/plinthdev/plinth/schema"
)

// Events the service reports to Hooks.
const (
	// EventLogin is a successful authentication by password, OTP, OAuth2
	// or TOTP, when the token is about to be issued (after the second
	// factor, when one is required). Impersonation is not a login.
	EventLogin = "login"
	// EventRefresh is a token refresh.
	EventRefresh = "refresh"
	// EventPasswordReset is a confirmed password reset.
	EventPasswordReset = "passwordReset"
)

// Event is what Hooks receive.
type Event struct {
	// Kind is EventLogin, EventRefresh or EventPasswordReset.
	Kind       string
	Collection *schema.Collection
	Record     *schema.Record
	// Method is the login's last method (MethodPassword, ...); empty for
	// other events.
	Method string
	// ClientIP is the client's address as the transport saw it.
	ClientIP string
}

// Hooks is what the service tells of auth events (package plinth binds
// the application's handlers to it).
type Hooks interface {
	// BeforeAuth runs before the event takes effect: before the token is
	// issued, before the new password is stored. An error refuses it (a
	// *record.HookError carries its 4xx status).
	BeforeAuth(ctx context.Context, e *Event) error
	// AfterAuth runs once it took effect; it cannot undo it.
	AfterAuth(ctx context.Context, e *Event)
}

func (s *Service) before(ctx context.Context, e *Event) error {
	if s.Hooks == nil {
		return nil
	}
	return s.Hooks.BeforeAuth(ctx, e)
}

func (s *Service) after(ctx context.Context, e *Event) {
	if s.Hooks != nil {
		s.Hooks.AfterAuth(ctx, e)
	}
}
