// Package authflow is Plinth's auth flows as a Go service: password, OTP,
// OAuth2 and TOTP logins, multi-factor sessions, token refresh,
// verification, password reset, email change and impersonation. Every
// transport calls it (the REST API in package api is a thin layer over
// it; Go code, jobs and other transports call it directly): methods take a
// context, the caller (what rules see as @request.*), the auth collection
// and typed inputs, and return typed results and *Error values. It knows
// nothing of HTTP; the client's IP, which failed-login throttling counts
// by, is an input.
package authflow

import (
	"context"
	"log/slog"
	"net/mail"
	"sync"
	"time"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/oauth2"
	"github.com/plinthdev/plinth/ratelimit"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/settings"
	"github.com/plinthdev/plinth/store"
	"github.com/plinthdev/plinth/totp"
)

// Live is the part of the running server's settings the flows read at each
// call: they change at runtime (PATCH /api/settings, another instance).
type Live struct {
	// Settings are the settings in force (app name and URL, mail sender).
	Settings *settings.Settings
	// Sender delivers the flows' emails.
	Sender mailer.Sender
	// Logins throttles failed logins; nil when rate limits are off.
	Logins *ratelimit.FailedLogins
}

// Service runs the auth flows. Its fields are set once, before first use.
type Service struct {
	Store   *store.Store
	Tokens  *auth.Tokens
	Records *record.Service
	// Sealer seals TOTP secrets at rest.
	Sealer *totp.Sealer
	// Providers builds and caches the OAuth2 providers of the collections.
	Providers *Providers
	Log       *slog.Logger
	// Live returns the settings in force (required).
	Live func() Live
	// LimiterFailed is told when the failed-login limiter fails (Redis
	// down); the login goes ahead. Nil: the error is logged.
	LimiterFailed func(ctx context.Context, err error)
	// Hooks is told of logins, refreshes and password resets (nil: none).
	Hooks Hooks

	mail sync.WaitGroup
}

// Client is what the service knows of whoever is authenticating beyond
// the caller: the IP failed logins are counted by, and, for the second
// step of multi-factor authentication, the pending session's id.
type Client struct {
	IP    string
	MFAID string
	// UserAgent identifies the device, with IP, for new-device alerts.
	UserAgent string
}

// Result is a successful authentication: the record, its new auth token
// and, for some methods, extra data (OAuth2 profile, recovery codes left),
// which the REST API answers as "meta".
type Result struct {
	Record *schema.Record
	Token  string
	Meta   map[string]any
}

// Authentication methods, as recorded in _mfas and reported to hooks.
const (
	MethodPassword = "password"
	MethodOTP      = "otp"
	MethodOAuth2   = "oauth2"
	MethodTOTP     = "totp"
)

// System collections of the auth flows.
const (
	mfasCollection          = "_mfas"
	otpsCollection          = "_otps"
	totpsCollection         = "_totps"
	externalAuthsCollection = "_externalAuths"
	authOriginsCollection   = "_authOrigins"
)

// systemCollection returns a system collection that migrations create.
func (s *Service) systemCollection(name string) *schema.Collection {
	return s.Store.Schema().Lookup(name)
}

// Options returns c's auth options, or the defaults.
func Options(c *schema.Collection) *schema.AuthOptions {
	if c.Auth != nil {
		return c.Auth
	}
	return schema.DefaultAuthOptions()
}

// seconds converts a duration in seconds, def when it is not positive.
func seconds(n int64, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	return time.Duration(n) * time.Second
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Service) limiterFailed(ctx context.Context, err error) {
	if s.LimiterFailed != nil {
		s.LimiterFailed(ctx, err)
		return
	}
	s.logger().WarnContext(ctx, "rate limiter unavailable, logins are not throttled", "err", err)
}

// throttle returns a 429 *Error when identity from ip, or ip, has too
// many recent failed logins; nil otherwise (and when the limiter fails:
// the password hash still slows guessing).
func (s *Service) throttle(ctx context.Context, identity, ip string) error {
	l := s.Live().Logins
	if l == nil {
		return nil
	}
	wait, err := l.Check(ctx, identity, ip)
	if err != nil {
		s.limiterFailed(ctx, err)
		return nil
	}
	if wait > 0 {
		return &Error{Kind: TooManyAttempts, Message: "Too many failed attempts, try again later.", RetryAfter: wait}
	}
	return nil
}

// failed counts a failed attempt for identity and ip.
func (s *Service) failed(ctx context.Context, identity, ip string) {
	if l := s.Live().Logins; l != nil {
		if err := l.Fail(ctx, identity, ip); err != nil {
			s.limiterFailed(ctx, err)
		}
	}
}

// succeeded forgets identity's failures from ip.
func (s *Service) succeeded(ctx context.Context, identity, ip string) {
	if l := s.Live().Logins; l != nil {
		if err := l.Succeed(ctx, identity, ip); err != nil {
			s.limiterFailed(ctx, err)
		}
	}
}

// sendMail renders and sends one email in the background, after the
// flow's database work: the caller neither waits for the mail server nor
// learns whether an email went out. A failure is logged with the kind of
// email and the record id (never the token or code).
func (s *Service) sendMail(kind, recordID, to string, render func(app mailer.AppInfo) (mailer.Email, error)) {
	l := s.Live()
	s.mail.Add(1)
	go func() {
		defer s.mail.Done()
		email, err := render(l.Settings.App())
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), mailer.DefaultSMTPTimeout)
			defer cancel()
			err = l.Sender.Send(ctx, &mailer.Message{
				From: l.Settings.Sender(), To: []mail.Address{{Address: to}},
				Subject: email.Subject, Text: email.Text, HTML: email.HTML,
			})
		}
		if err != nil {
			s.logger().Error("mail: sending failed", "kind", kind, "record", recordID, "err", err)
		}
	}()
}

// Wait blocks until the emails being sent are done (or failed).
func (s *Service) Wait() { s.mail.Wait() }

// NewProviders returns an empty OAuth2 provider cache over reg.
func NewProviders(reg *oauth2.Registry) *Providers { return &Providers{registry: reg} }
