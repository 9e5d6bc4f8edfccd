package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// TLS modes for SMTPConfig.TLS.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS before
	// anything else is sent. A server that does not offer STARTTLS is an
	// error, never a silent downgrade. Default except on port 465.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	TLSImplicit = "implicit"
	// TLSNone sends everything in clear text. It is only accepted for a
	// loopback host (localhost, 127.0.0.0/8, ::1), e.g. a local relay or a
	// development mail catcher.
	TLSNone = "none"
)

// Default values used by NewSMTP for zero SMTPConfig fields.
const (
	DefaultSMTPTimeout = 30 * time.Second
	DefaultLocalName   = "localhost"
)

// SMTPConfig configures an SMTP sender.
type SMTPConfig struct {
	// Host is the server's host name (also used to verify its certificate).
	Host string
	// Port defaults to 587 (starttls), 465 (implicit) or 25 (none).
	Port int
	// Username and Password enable authentication (PLAIN, or LOGIN when the
	// server does not offer PLAIN). Credentials are only sent over TLS or to
	// a loopback host. The password is never logged or put in errors.
	Username, Password string
	// TLS is one of TLSStartTLS, TLSImplicit or TLSNone. Empty means
	// implicit on port 465 and starttls otherwise.
	TLS string
	// LocalName is the name sent with EHLO; default "localhost".
	LocalName string
	// Timeout bounds one Send when the context has no earlier deadline;
	// default 30s.
	Timeout time.Duration
	// RootCAs, when set, replaces the system roots for verifying the
	// server's certificate (for private CAs and tests).
	RootCAs *x509.CertPool
}

// String describes the configuration without the password.
func (c SMTPConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("smtp{host=%s port=%d tls=%s username=%q password=%s}",
		c.Host, c.Port, c.TLS, c.Username, pw)
}

// GoString keeps %#v from printing the password.
func (c SMTPConfig) GoString() string { return "mailer.SMTPConfig" + c.String() }

// LogValue implements slog.LogValuer so that logging a config never
// reveals the password.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("tls", c.TLS),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
	)
}

// SMTP is a Sender that delivers each message over a new SMTP connection.
// It is safe for concurrent use.
type SMTP struct {
	cfg SMTPConfig
}

var _ Sender = (*SMTP)(nil)

// NewSMTP validates cfg, fills in defaults and returns a sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mailer: smtp host is required")
	}
	if hasControl(cfg.Host) || hasControl(cfg.LocalName) || hasControl(cfg.Username) {
		return nil, errors.New("mailer: smtp host, local name or username contains a control character")
	}
	cfg.TLS = strings.ToLower(strings.TrimSpace(cfg.TLS))
	if cfg.TLS == "" {
		if cfg.Port == 465 {
			cfg.TLS = TLSImplicit
		} else {
			cfg.TLS = TLSStartTLS
		}
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if !isLoopback(cfg.Host) {
			return nil, fmt.Errorf("mailer: smtp tls %q is only allowed for a loopback host, not %q", TLSNone, cfg.Host)
		}
	default:
		return nil, fmt.Errorf("mailer: unknown smtp tls mode %q (want starttls, implicit or none)", cfg.TLS)
	}
	if cfg.Port == 0 {
		switch cfg.TLS {
		case TLSImplicit:
			cfg.Port = 465
		case TLSNone:
			cfg.Port = 25
		default:
			cfg.Port = 587
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mailer: smtp port %d out of range", cfg.Port)
	}
	if cfg.LocalName == "" {
		cfg.LocalName = DefaultLocalName
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	return &SMTP{cfg: cfg}, nil
}

// Config returns the effective configuration, defaults filled in.
func (s *SMTP) Config() SMTPConfig { return s.cfg }

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Send validates and delivers m. The whole exchange — dial, TLS, auth and
// data — is bounded by ctx and by the configured Timeout.
func (s *SMTP) Send(ctx context.Context, m *Message) (err error) {
	if err := m.Validate(); err != nil {
		return err
	}
	data := m.encode(time.Now(), newMessageID(m.From.Address, s.cfg.LocalName))

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// Report the context's error rather than the closed-connection error it
	// causes.
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("mailer: smtp send stopped: %w (%v)", context.Cause(ctx), err)
		}
	}()

	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mailer: smtp dial %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl.Add(time.Second))
	}
	// Closing the connection when ctx is done unblocks any read or write in
	// progress; ctx.Err is then already set, so the deferred check above
	// reports it. The connection deadline, a little later, is a backstop.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	tlsCfg := &tls.Config{
		ServerName: s.cfg.Host,
		RootCAs:    s.cfg.RootCAs,
		MinVersion: tls.VersionTLS12,
	}
	secure := false
	if s.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("mailer: smtp tls handshake with %s: %w", addr, err)
		}
		conn = tc
		secure = true
	}

	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("mailer: smtp greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.LocalName); err != nil {
		return fmt.Errorf("mailer: smtp EHLO: %w", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("mailer: smtp server %s does not offer STARTTLS (set TLS to %q for a local server without TLS)", addr, TLSNone)
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("mailer: smtp STARTTLS: %w", err)
		}
		secure = true
	}

	if s.cfg.Username != "" || s.cfg.Password != "" {
		if !secure && !isLoopback(s.cfg.Host) {
			// Unreachable through NewSMTP; kept as a second guard.
			return errors.New("mailer: smtp refusing to send credentials without TLS")
		}
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return fmt.Errorf("mailer: smtp server %s does not offer AUTH", addr)
		}
		a, err := s.chooseAuth(mechs)
		if err != nil {
			return err
		}
		if err := c.Auth(a); err != nil {
			return fmt.Errorf("mailer: smtp auth as %q: %w", s.cfg.Username, err)
		}
	}

	if err := c.Mail(m.From.Address); err != nil {
		return fmt.Errorf("mailer: smtp MAIL FROM: %w", err)
	}
	for _, to := range m.To {
		if err := c.Rcpt(to.Address); err != nil {
			return fmt.Errorf("mailer: smtp RCPT TO %s: %w", to.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mailer: smtp DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("mailer: smtp writing message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mailer: smtp end of data: %w", err)
	}
	// The message is accepted once DATA has been answered; a failing QUIT
	// does not make it undelivered.
	_ = c.Quit()
	return nil
}

// chooseAuth picks PLAIN when the server offers it, otherwise LOGIN.
func (s *SMTP) chooseAuth(mechs string) (smtp.Auth, error) {
	offered := strings.Fields(strings.ToUpper(mechs))
	for _, want := range []string{"PLAIN", "LOGIN"} {
		for _, m := range offered {
			if m == want {
				return &auth{mech: want, host: s.cfg.Host, username: s.cfg.Username, password: s.cfg.Password}, nil
			}
		}
	}
	return nil, fmt.Errorf("mailer: smtp server offers no supported AUTH mechanism (have %q, want PLAIN or LOGIN)", mechs)
}

// auth implements the PLAIN (RFC 4616) and LOGIN SASL mechanisms. Like
// net/smtp's PlainAuth it refuses to run on an unencrypted connection to
// anything but a loopback host.
type auth struct {
	mech     string
	host     string
	username string
	password string
	step     int
}

func (a *auth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("mailer: smtp refusing to send credentials over an unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("mailer: smtp auth host name mismatch")
	}
	if a.mech == "PLAIN" {
		return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
	}
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *auth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	if a.mech != "LOGIN" {
		return nil, errors.New("mailer: smtp unexpected PLAIN challenge")
	}
	// LOGIN prompts are "Username:" then "Password:"; servers vary in the
	// exact text, so answer by position.
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	default:
		return nil, errors.New("mailer: smtp unexpected LOGIN challenge")
	}
}
