package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/ratelimit"
	"github.com/plinthdev/plinth/settings"
	"github.com/plinthdev/plinth/totp"
)

// settingsParam is the _params key of the stored settings.
const settingsParam = "settings"

// settingsTTL is how long an instance trusts its cached settings before
// reading them again (in the background), so that a change made through
// another instance sharing the database takes effect within it.
const settingsTTL = 10 * time.Second

// sealedPrefix marks a sealed secret inside the stored settings.
const sealedPrefix = "sealed:"

// system is the state behind the auth flows, settings, mail and rate
// limits: the live settings and what is built from them.
type system struct {
	live       atomic.Pointer[liveSettings]
	refreshing atomic.Bool
	devMail    *mailer.DevMailbox
	sealer     *totp.Sealer
	limiter    ratelimit.Store
	noLimits   bool
	inner      http.Handler // the handler behind the rate limiter
	bg         sync.WaitGroup
	lastRLWarn atomic.Int64
	// auth runs the auth flows (package authflow).
	auth *authflow.Service
	// mailQueue, when set (SetMailQueue), carries SMTP emails of the auth
	// flows through the job queue.
	mailQueue func(ctx context.Context, m *mailer.Message) error
	// onApplied, when set (OnSettingsApplied), learns of settings made
	// live.
	onApplied func(*settings.Settings)
}

// liveSettings are the settings in force and the objects built from them.
type liveSettings struct {
	s       *settings.Settings
	stored  string // the stored JSON, to notice changes
	at      time.Time
	sender  mailer.Sender
	limited http.Handler            // inner behind the rate limiter; nil when off
	logins  *ratelimit.FailedLogins // nil when rate limits are off by config
	// proxy decides client IPs (clientIP); excluded are the client IPs
	// rate limits skip.
	proxy    *ratelimit.TrustedProxy
	excluded []netip.Prefix
	// superuserIPs, when set, are where superuser tokens are accepted from.
	superuserIPs []netip.Prefix
}

// initSystem prepares the settings-driven state with the defaults; the
// stored settings are read by LoadSettings.
func (s *Server) initSystem() {
	sys := &system{devMail: mailer.NewDevMailbox(s.log, 0), sealer: s.cfg.Sealer, limiter: s.cfg.RateLimitStore, noLimits: s.cfg.DisableRateLimits}
	if sys.limiter == nil {
		sys.limiter = ratelimit.NewMemory()
	}
	if sys.sealer == nil {
		// Embedders that pass no sealer get a key that lives as long as
		// the process: TOTP enrolments do not survive a restart.
		key := make([]byte, totp.KeySize)
		rand.Read(key)
		sys.sealer, _ = totp.NewSealer(key)
		s.log.Warn("no encryption key configured: TOTP secrets are sealed with a key that is lost on restart")
	}
	s.sys = sys
	sys.auth = &authflow.Service{
		Store: s.store, Tokens: s.tokens, Records: s.records, Sealer: sys.sealer,
		Providers: authflow.NewProviders(s.oauth2.registry), Log: s.log, Hooks: s.cfg.AuthHooks,
		Live: func() authflow.Live {
			l := s.currentSettings()
			return authflow.Live{Settings: l.s, Sender: s.queuedSender(l), Logins: l.logins}
		},
		LimiterFailed: s.limiterFailed,
	}
	s.store.BeforeCollectionChange(authflow.CheckTemplates)
	def := settings.Defaults()
	if s.cfg.MaxBatchRequests > 0 {
		def.Batch.MaxRequests = s.cfg.MaxBatchRequests
	}
	s.sys.live.Store(s.buildLive(def, ""))
}

// LoadSettings reads the stored settings, storing the defaults on first
// start. plinth.New calls it before serving.
func (s *Server) LoadSettings(ctx context.Context) error {
	stored, err := s.store.Param(ctx, settingsParam)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	if stored == "" {
		return s.saveSettings(ctx, s.currentSettings().s)
	}
	return s.applyStored(stored, nil)
}

// applyStored makes the stored settings JSON live: unconditionally when
// prev is nil, else only if prev is still the live settings.
func (s *Server) applyStored(stored string, prev *liveSettings) error {
	set, err := settings.Parse([]byte(stored))
	if err != nil {
		return err
	}
	for _, sec := range settingsSecrets(set) {
		if !strings.HasPrefix(*sec.value, sealedPrefix) {
			continue
		}
		plain, err := s.sys.sealer.Open(strings.TrimPrefix(*sec.value, sealedPrefix), []byte(sec.aad))
		if err != nil {
			// Start anyway: a superuser can set the secret again.
			s.log.Error("settings: cannot open the stored "+sec.name+" (was the encryption key changed?); set it again", "err", err)
		}
		*sec.value = string(plain)
	}
	next := s.buildLive(set, stored)
	if prev == nil {
		s.sys.live.Store(next)
	} else if !s.sys.live.CompareAndSwap(prev, next) {
		return nil
	}
	s.settingsApplied(set)
	return nil
}

// settingsSecret is a secret of the settings, stored sealed: its
// additional data binds the sealed value to its place.
type settingsSecret struct {
	name, aad string
	value     *string
}

// settingsSecrets are the secrets of set that are stored sealed and never
// returned.
func settingsSecrets(set *settings.Settings) []settingsSecret {
	return []settingsSecret{
		{"SMTP password", "settings/smtp.password", &set.SMTP.Password},
		{"S3 secret", "settings/s3.secret", &set.S3.Secret},
		{"backups S3 secret", "settings/backups.s3.secret", &set.Backups.S3.Secret},
	}
}

// settingsApplied runs the hook of OnSettingsApplied.
func (s *Server) settingsApplied(set *settings.Settings) {
	if s.sys.onApplied != nil {
		s.sys.onApplied(set.Clone())
	}
}

// OnSettingsApplied sets fn to run each time settings become live: when
// they are loaded, saved, or read again after another instance sharing
// the database changed them (within settingsTTL). fn gets the settings
// with their secrets in clear, for what other packages build from them
// (the file storage); it runs on the goroutine that applied them, so it
// must be quick. Call it before LoadSettings.
func (s *Server) OnSettingsApplied(fn func(*settings.Settings)) { s.sys.onApplied = fn }

// saveSettings stores set (its secrets sealed) and makes it live.
func (s *Server) saveSettings(ctx context.Context, set *settings.Settings) error {
	toStore := set.Clone()
	for _, sec := range settingsSecrets(toStore) {
		if *sec.value == "" {
			continue
		}
		sealed, err := s.sys.sealer.Seal([]byte(*sec.value), []byte(sec.aad))
		if err != nil {
			return err
		}
		*sec.value = sealedPrefix + sealed
	}
	data, err := json.Marshal(toStore)
	if err != nil {
		return err
	}
	if err := s.store.SetParam(ctx, settingsParam, string(data)); err != nil {
		return err
	}
	s.sys.live.Store(s.buildLive(set, string(data)))
	s.settingsApplied(set)
	return nil
}

// buildLive builds the sender and rate limiter of set.
func (s *Server) buildLive(set *settings.Settings, stored string) *liveSettings {
	l := &liveSettings{s: set, stored: stored, at: time.Now(), sender: s.sys.devMail,
		proxy: set.TrustedProxyConfig(), excluded: set.ExcludedPrefixes(), superuserIPs: set.SuperuserPrefixes()}
	if set.SMTP.Enabled {
		if smtp, err := mailer.NewSMTP(set.SMTPConfig()); err == nil {
			l.sender = smtp
		} else {
			s.log.Error("settings: invalid SMTP configuration, emails go to the dev mailbox", "err", err)
		}
	}
	if s.sys.noLimits {
		return l
	}
	l.logins = ratelimit.NewFailedLogins(s.sys.limiter, ratelimit.LoginLimits{})
	if set.RateLimits.Enabled && len(set.RateLimits.Rules) > 0 && s.sys.inner != nil {
		rules := set.RateLimitRules()
		for _, r := range rules {
			if err := r.Validate(); err != nil {
				s.log.Error("settings: invalid rate limit rule, rate limits are off", "err", err)
				return l
			}
		}
		l.limited = ratelimit.Middleware(s.sys.limiter, rules, s.rateLimitKey, rateLimitTags, s.rateLimitFailed)(s.sys.inner)
	}
	return l
}

// currentSettings returns the live settings, refreshing them in the
// background when they are older than settingsTTL.
func (s *Server) currentSettings() *liveSettings {
	l := s.sys.live.Load()
	if time.Since(l.at) > settingsTTL && l.stored != "" && s.sys.refreshing.CompareAndSwap(false, true) {
		s.sys.bg.Add(1)
		go func() {
			defer s.sys.bg.Done()
			defer s.sys.refreshing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			before := s.sys.live.Load()
			stored, err := s.store.Param(ctx, settingsParam)
			if err != nil {
				s.log.Warn("settings: refresh failed", "err", err)
				return
			}
			s.refreshFrom(before, stored)
		}()
	}
	return l
}

// refreshFrom makes stored, read from the database while before was
// live, the live settings, unless they changed in the meantime: a save
// on this instance between the read and now is newer than what was read,
// and must not be undone by it (the next refresh reads again).
func (s *Server) refreshFrom(before *liveSettings, stored string) {
	if stored == before.stored || stored == "" {
		next := *before
		next.at = time.Now()
		s.sys.live.CompareAndSwap(before, &next)
		return
	}
	if err := s.applyStored(stored, before); err != nil {
		s.log.Error("settings: refresh failed", "err", err)
	}
}

// Close waits (up to timeout) for background work: emails being sent and
// settings refreshes.
func (s *Server) Close(timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.sys.bg.Wait(); s.sys.auth.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.log.Warn("shutdown: background work (emails) still running")
	}
}

// DevMailbox is where emails go while SMTP is not enabled.
func (s *Server) DevMailbox() *mailer.DevMailbox { return s.sys.devMail }

// Settings returns the settings in force as GET /api/settings shows them
// (secrets blanked), for Go code.
func (s *Server) Settings() *settings.Settings { return s.currentSettings().s.Public() }

// PatchSettings applies a JSON patch of the settings (PATCH
// /api/settings without HTTP): it validates the result (schema.Errors
// for bad fields), stores it and makes it live, and returns it as
// Settings does.
func (s *Server) PatchSettings(ctx context.Context, patch []byte) (*settings.Settings, error) {
	next, err := s.currentSettings().s.Patch(patch)
	if err == nil {
		err = next.Validate()
	}
	if err == nil && s.settingsCheck != nil {
		err = s.settingsCheck(next)
	}
	if err != nil {
		return nil, err // schema.Errors: a 400 with the field errors
	}
	if err := s.saveSettings(ctx, next); err != nil {
		return nil, err
	}
	return next.Public(), nil
}

// SetSettingsCheck adds a check that settings must pass before they are
// saved, for what other packages own (the backup schedule's cron syntax);
// its schema.Errors answer 400. Call it before serving.
func (s *Server) SetSettingsCheck(check func(*settings.Settings) error) { s.settingsCheck = check }

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.Settings())
	return nil
}

func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readRaw(w, r)
	if err != nil {
		return err
	}
	next, err := s.PatchSettings(r.Context(), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, next)
	return nil
}

// devMail is one dev mailbox message as /api/dev/mails returns it.
type devMail struct {
	ID      string            `json:"id"`
	Time    string            `json:"time"`
	From    string            `json:"from"`
	To      []string          `json:"to"`
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	HTML    string            `json:"html"`
	Headers map[string]string `json:"headers,omitempty"`
}

func toDevMail(m mailer.StoredMessage) devMail {
	to := make([]string, len(m.To))
	for i, a := range m.To {
		to[i] = a.Address
	}
	return devMail{ID: m.ID, Time: m.Time.UTC().Format(time.RFC3339Nano), From: m.From.String(), To: to,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Headers: m.Headers}
}

// listDevMails returns the dev mailbox, newest first (superusers only).
func (s *Server) listDevMails(w http.ResponseWriter, r *http.Request) error {
	list := s.sys.devMail.List()
	out := make([]devMail, len(list))
	for i, m := range list {
		out[i] = toDevMail(m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) viewDevMail(w http.ResponseWriter, r *http.Request) error {
	m, ok := s.sys.devMail.Get(r.PathValue("id"))
	if !ok {
		return notFound()
	}
	writeJSON(w, http.StatusOK, toDevMail(m))
	return nil
}

// rateLimit puts the request rate limiter of the live settings in front of
// next.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	s.sys.inner = next
	s.sys.live.Store(s.buildLive(s.sys.live.Load().s, s.sys.live.Load().stored))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := s.currentSettings().limited; h != nil {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// rateLimitKey names the client a request's budget is counted for: the
// auth record or API key, else the IP. Superusers (as in PocketBase) and
// clients from the settings' excludedIPs get "", which is not limited.
func (s *Server) rateLimitKey(r *http.Request) (string, bool) {
	rec := authRecord(r)
	if isSuperuser(rec) {
		return "", true
	}
	if ex := s.currentSettings().excluded; len(ex) > 0 && ratelimit.ContainsIP(ex, s.clientIP(r)) {
		return "", rec != nil || requestAPIKey(r) != nil
	}
	if rec != nil {
		return "rec:" + rec.Collection.ID + ":" + rec.ID(), true
	}
	if k := requestAPIKey(r); k != nil {
		return "key:" + k.ID, true
	}
	return "ip:" + s.clientIP(r), false
}

func rateLimitTags(r *http.Request) []string { return ratelimit.PathTags(r.Method, r.URL.Path) }

// rateLimitFailed logs a limiter failure (Redis down) at most every 10 s;
// the request goes ahead.
func (s *Server) rateLimitFailed(_ http.ResponseWriter, r *http.Request, err error) {
	s.limiterFailed(r.Context(), err)
}

// limiterFailed is rateLimitFailed without a request, for the auth flows'
// failed-login limiter.
func (s *Server) limiterFailed(ctx context.Context, err error) {
	now := time.Now().Unix()
	if last := s.sys.lastRLWarn.Load(); now-last >= 10 && s.sys.lastRLWarn.CompareAndSwap(last, now) {
		s.log.WarnContext(ctx, "rate limiter unavailable, requests are not limited", "err", err)
	}
}
