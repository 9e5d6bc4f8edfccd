package mailer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"net/smtp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCert returns a server TLS config with a freshly generated self-signed
// certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "plinth mailer test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}, pool
}

// received is one message accepted by the test server, with the state of
// the session that sent it.
type received struct {
	helo     string
	tls      bool
	authMech string
	authUser string
	authPass string
	from     string
	rcpt     []string
	data     []byte
}

// testSMTPServer is a minimal in-process SMTP server: EHLO/HELO, STARTTLS,
// AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT.
type testSMTPServer struct {
	serverOpts

	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	got  []received
	cmds []string // every command line seen, for assertions
}

// serverOpts configures a testSMTPServer.
type serverOpts struct {
	tlsConfig     *tls.Config
	implicitTLS   bool   // TLS from the first byte
	offerStartTLS bool   // advertise STARTTLS on plain connections
	authMechs     string // e.g. "PLAIN LOGIN"; empty disables AUTH
	authPlain     bool   // also offer AUTH before TLS
	users         map[string]string
	silent        bool // accept connections but never answer
}

// startServer listens on 127.0.0.1:0 and serves until the test ends.
func startServer(t *testing.T, opts serverOpts) (s *testSMTPServer, host string, port int) {
	t.Helper()
	s = &testSMTPServer{serverOpts: opts}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
}

func (s *testSMTPServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

func (s *testSMTPServer) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cmds)
}

func (s *testSMTPServer) serve(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if s.silent {
		_, _ = io.Copy(io.Discard, conn)
		return
	}
	var sess received
	if s.implicitTLS {
		conn = tls.Server(conn, s.tlsConfig)
		sess.tls = true
	}
	r := bufio.NewReader(conn)
	reply := func(format string, args ...any) {
		_, _ = fmt.Fprintf(conn, format+"\r\n", args...)
	}
	readLine := func() (string, bool) {
		l, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		return strings.TrimRight(l, "\r\n"), true
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	unb64 := func(s string) string { b, _ := base64.StdEncoding.DecodeString(s); return string(b) }

	reply("220 127.0.0.1 test ESMTP ready")
	for {
		line, ok := readLine()
		if !ok {
			return
		}
		s.mu.Lock()
		s.cmds = append(s.cmds, line)
		s.mu.Unlock()
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			sess.helo = arg
			ext := []string{"127.0.0.1 greets " + arg, "8BITMIME", "SIZE 10485760"}
			if s.offerStartTLS && !sess.tls {
				ext = append(ext, "STARTTLS")
			}
			if s.authMechs != "" && (sess.tls || s.authPlain) {
				ext = append(ext, "AUTH "+s.authMechs)
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				reply("250%s%s", sep, e)
			}
		case "STARTTLS":
			if !s.offerStartTLS || sess.tls {
				reply("503 5.5.1 STARTTLS not available")
				continue
			}
			reply("220 2.0.0 ready to start TLS")
			tc := tls.Server(conn, s.tlsConfig)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn = tc
			r = bufio.NewReader(conn)
			sess = received{tls: true} // RFC 3207: forget everything
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			var user, pass string
			switch strings.ToUpper(mech) {
			case "PLAIN":
				if ir == "" {
					reply("334 ")
					if ir, ok = readLine(); !ok {
						return
					}
				}
				parts := strings.Split(unb64(ir), "\x00")
				if len(parts) != 3 {
					reply("501 5.5.2 malformed PLAIN response")
					continue
				}
				user, pass = parts[1], parts[2]
			case "LOGIN":
				reply("334 %s", b64("Username:"))
				l, ok := readLine()
				if !ok {
					return
				}
				user = unb64(l)
				reply("334 %s", b64("Password:"))
				if l, ok = readLine(); !ok {
					return
				}
				pass = unb64(l)
			default:
				reply("504 5.5.4 mechanism not supported")
				continue
			}
			if want, known := s.users[user]; !known || want != pass ||
				!strings.Contains(" "+s.authMechs+" ", " "+strings.ToUpper(mech)+" ") {
				reply("535 5.7.8 authentication credentials invalid")
				continue
			}
			sess.authMech, sess.authUser, sess.authPass = strings.ToUpper(mech), user, pass
			reply("235 2.7.0 authenticated")
		case "MAIL":
			if s.authMechs != "" && sess.authUser == "" {
				reply("530 5.7.0 authentication required")
				continue
			}
			from, ok := strings.CutPrefix(strings.ToUpper(arg[:min(5, len(arg))])+arg[min(5, len(arg)):], "FROM:")
			if !ok {
				reply("501 5.5.4 syntax: MAIL FROM:<address>")
				continue
			}
			from, _, _ = strings.Cut(from, " ") // drop BODY=8BITMIME etc.
			sess.from = strings.Trim(from, "<>")
			sess.rcpt = nil
			reply("250 2.1.0 ok")
		case "RCPT":
			to, ok := strings.CutPrefix(strings.ToUpper(arg[:min(3, len(arg))])+arg[min(3, len(arg)):], "TO:")
			if !ok || sess.from == "" {
				reply("503 5.5.1 need MAIL first")
				continue
			}
			sess.rcpt = append(sess.rcpt, strings.Trim(to, "<>"))
			reply("250 2.1.5 ok")
		case "DATA":
			if sess.from == "" || len(sess.rcpt) == 0 {
				reply("503 5.5.1 need MAIL and RCPT first")
				continue
			}
			reply("354 end data with <CR><LF>.<CR><LF>")
			var data bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			sess.data = data.Bytes()
			s.mu.Lock()
			s.got = append(s.got, sess)
			s.mu.Unlock()
			sess.from, sess.rcpt, sess.data = "", nil, nil
			reply("250 2.0.0 queued")
		case "RSET":
			sess.from, sess.rcpt = "", nil
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 command not recognised")
		}
	}
}

func e2eMessage() *Message {
	return &Message{
		From: mail.Address{Name: "Plinth Çafé", Address: "noreply@plinth.test"},
		To: []mail.Address{
			{Name: "Jane Doe", Address: "jane@example.com"},
			{Address: "ops@example.org"},
		},
		Subject: "Vérifiez votre e-mail ✓",
		Text:    "Hello Jane,\n\nopen https://plinth.test/_/#/auth/confirm-verification/tok.en-1\n.this line starts with a dot\n.\nend",
		HTML:    `<p>Hello Jane, <a href="https://plinth.test/_/#/auth/confirm-verification/tok.en-1">verify</a> — ✓</p>`,
		Headers: map[string]string{"Reply-To": "support@plinth.test"},
	}
}

func TestSMTPEndToEnd(t *testing.T) {
	t.Parallel()
	serverTLS, pool := testCert(t)
	const user, pass = "mailer-user", "s3cr3t-P@ss"
	tests := []struct {
		name     string
		server   serverOpts
		cfg      SMTPConfig // Host and Port are filled in
		wantTLS  bool
		wantMech string
	}{
		{
			name:     "starttls with AUTH PLAIN",
			server:   serverOpts{offerStartTLS: true, authMechs: "PLAIN LOGIN"},
			cfg:      SMTPConfig{Username: user, Password: pass, TLS: TLSStartTLS, LocalName: "app.plinth.test"},
			wantTLS:  true,
			wantMech: "PLAIN",
		},
		{
			name:     "starttls is the default mode",
			server:   serverOpts{offerStartTLS: true, authMechs: "PLAIN"},
			cfg:      SMTPConfig{Username: user, Password: pass},
			wantTLS:  true,
			wantMech: "PLAIN",
		},
		{
			name:     "implicit tls with AUTH LOGIN only",
			server:   serverOpts{implicitTLS: true, authMechs: "LOGIN"},
			cfg:      SMTPConfig{Username: user, Password: pass, TLS: TLSImplicit},
			wantTLS:  true,
			wantMech: "LOGIN",
		},
		{
			name:   "no tls and no auth to loopback",
			server: serverOpts{},
			cfg:    SMTPConfig{TLS: TLSNone},
		},
		{
			name:     "plain auth without tls allowed to loopback",
			server:   serverOpts{authMechs: "PLAIN", authPlain: true},
			cfg:      SMTPConfig{Username: user, Password: pass, TLS: TLSNone},
			wantMech: "PLAIN",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.server
			opts.tlsConfig = serverTLS
			opts.users = map[string]string{user: pass}
			cfg := tc.cfg
			var srv *testSMTPServer
			srv, cfg.Host, cfg.Port = startServer(t, opts)
			cfg.RootCAs = pool
			s, err := NewSMTP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			msg := e2eMessage()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Send(ctx, msg); err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := srv.messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			rcv := got[0]
			if rcv.tls != tc.wantTLS {
				t.Errorf("tls = %v, want %v", rcv.tls, tc.wantTLS)
			}
			wantHelo := cfg.LocalName
			if wantHelo == "" {
				wantHelo = DefaultLocalName
			}
			if rcv.helo != wantHelo {
				t.Errorf("EHLO %q, want %q", rcv.helo, wantHelo)
			}
			if tc.wantMech != "" {
				if rcv.authMech != tc.wantMech || rcv.authUser != user || rcv.authPass != pass {
					t.Errorf("auth = %s %q/%q, want %s %q/%q", rcv.authMech, rcv.authUser, rcv.authPass, tc.wantMech, user, pass)
				}
			} else if rcv.authUser != "" {
				t.Errorf("unexpected auth as %q", rcv.authUser)
			}
			if rcv.from != msg.From.Address {
				t.Errorf("MAIL FROM %q, want %q", rcv.from, msg.From.Address)
			}
			if want := []string{"jane@example.com", "ops@example.org"}; !slices.Equal(rcv.rcpt, want) {
				t.Errorf("RCPT TO %v, want %v", rcv.rcpt, want)
			}

			p := parseMail(t, rcv.data)
			if p.mimeType != "multipart/alternative" {
				t.Errorf("Content-Type %q", p.mimeType)
			}
			if p.subject != msg.Subject {
				t.Errorf("subject %q, want %q", p.subject, msg.Subject)
			}
			if p.parts["text/plain"] != msg.Text {
				t.Errorf("text %q, want %q", p.parts["text/plain"], msg.Text)
			}
			if p.parts["text/html"] != msg.HTML {
				t.Errorf("html %q, want %q", p.parts["text/html"], msg.HTML)
			}
			if from, err := p.header.AddressList("From"); err != nil || *from[0] != msg.From {
				t.Errorf("From header %v, %v", from, err)
			}
			if to, err := p.header.AddressList("To"); err != nil || len(to) != 2 || *to[0] != msg.To[0] {
				t.Errorf("To header %v, %v", to, err)
			}
			if p.header.Get("Reply-To") != "support@plinth.test" || p.header.Get("Message-Id") == "" || p.header.Get("Date") == "" {
				t.Errorf("headers %v", p.header)
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()
	serverTLS, pool := testCert(t)
	const user, pass = "u", "correct-horse-battery"
	tests := []struct {
		name      string
		server    serverOpts
		cfg       SMTPConfig
		ctx       func() (context.Context, context.CancelFunc)
		wantErrIs error
		wantErr   string
		maxTime   time.Duration
	}{
		{
			name:    "starttls required but not offered",
			server:  serverOpts{authMechs: "PLAIN", authPlain: true},
			cfg:     SMTPConfig{Username: user, Password: pass, TLS: TLSStartTLS, RootCAs: pool},
			wantErr: "does not offer STARTTLS",
		},
		{
			name:    "untrusted certificate",
			server:  serverOpts{offerStartTLS: true, authMechs: "PLAIN"},
			cfg:     SMTPConfig{Username: user, Password: pass, TLS: TLSStartTLS},
			wantErr: "certificate",
		},
		{
			name:    "wrong password",
			server:  serverOpts{offerStartTLS: true, authMechs: "PLAIN"},
			cfg:     SMTPConfig{Username: user, Password: "wrong-" + pass, RootCAs: pool},
			wantErr: "535",
		},
		{
			name:    "no supported auth mechanism",
			server:  serverOpts{offerStartTLS: true, authMechs: "CRAM-MD5 XOAUTH2"},
			cfg:     SMTPConfig{Username: user, Password: pass, RootCAs: pool},
			wantErr: "no supported AUTH mechanism",
		},
		{
			name:    "credentials but server offers no AUTH",
			server:  serverOpts{offerStartTLS: true},
			cfg:     SMTPConfig{Username: user, Password: pass, RootCAs: pool},
			wantErr: "does not offer AUTH",
		},
		{
			name:   "context deadline against a silent server",
			server: serverOpts{silent: true},
			cfg:    SMTPConfig{TLS: TLSNone},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			},
			wantErrIs: context.DeadlineExceeded,
			maxTime:   3 * time.Second,
		},
		{
			name:      "config timeout against a silent server",
			server:    serverOpts{silent: true},
			cfg:       SMTPConfig{TLS: TLSNone, Timeout: 200 * time.Millisecond},
			wantErrIs: context.DeadlineExceeded,
			maxTime:   3 * time.Second,
		},
		{
			name:   "context cancelled while waiting",
			server: serverOpts{silent: true},
			cfg:    SMTPConfig{TLS: TLSNone},
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(150*time.Millisecond, cancel)
				return ctx, cancel
			},
			wantErrIs: context.Canceled,
			maxTime:   3 * time.Second,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.server
			opts.tlsConfig = serverTLS
			opts.users = map[string]string{user: pass}
			cfg := tc.cfg
			var srv *testSMTPServer
			srv, cfg.Host, cfg.Port = startServer(t, opts)
			s, err := NewSMTP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			start := time.Now()
			err = s.Send(ctx, e2eMessage())
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Send succeeded, want error")
			}
			if tc.wantErrIs != nil && !errors.Is(err, tc.wantErrIs) {
				t.Errorf("error %v, want errors.Is %v", err, tc.wantErrIs)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want it to mention %q", err, tc.wantErr)
			}
			if tc.maxTime > 0 && elapsed > tc.maxTime {
				t.Errorf("Send took %v, want under %v", elapsed, tc.maxTime)
			}
			if strings.Contains(err.Error(), pass) {
				t.Errorf("error reveals the password: %v", err)
			}
			if n := len(srv.messages()); n != 0 {
				t.Errorf("server accepted %d messages despite the failure", n)
			}
		})
	}
}

func TestSMTPRejectsInvalidMessageBeforeConnecting(t *testing.T) {
	t.Parallel()
	srv, host, port := startServer(t, serverOpts{})
	s, err := NewSMTP(SMTPConfig{Host: host, Port: port, TLS: TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	m := e2eMessage()
	m.To[1].Address = "ops@example.org>\r\nRCPT TO:<evil@example.com"
	if err := s.Send(context.Background(), m); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("Send = %v, want ErrInvalidMessage", err)
	}
	if cmds := srv.commands(); len(cmds) != 0 {
		t.Errorf("client talked to the server: %v", cmds)
	}
}

func TestNewSMTPConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      SMTPConfig
		wantErr  string
		wantTLS  string
		wantPort int
	}{
		{name: "defaults to starttls on 587", cfg: SMTPConfig{Host: "smtp.example.com"}, wantTLS: TLSStartTLS, wantPort: 587},
		{name: "port 465 implies implicit", cfg: SMTPConfig{Host: "smtp.example.com", Port: 465}, wantTLS: TLSImplicit, wantPort: 465},
		{name: "port 587 is starttls", cfg: SMTPConfig{Host: "smtp.example.com", Port: 587}, wantTLS: TLSStartTLS, wantPort: 587},
		{name: "implicit defaults to 465", cfg: SMTPConfig{Host: "smtp.example.com", TLS: "IMPLICIT"}, wantTLS: TLSImplicit, wantPort: 465},
		{name: "none to localhost", cfg: SMTPConfig{Host: "localhost", TLS: "none", Port: 1025}, wantTLS: TLSNone, wantPort: 1025},
		{name: "none to 127.0.0.1 defaults to 25", cfg: SMTPConfig{Host: "127.0.0.1", TLS: "none"}, wantTLS: TLSNone, wantPort: 25},
		{name: "none to ::1", cfg: SMTPConfig{Host: "::1", TLS: "none"}, wantTLS: TLSNone, wantPort: 25},
		{name: "none to remote host refused", cfg: SMTPConfig{Host: "smtp.example.com", TLS: "none"}, wantErr: "only allowed for a loopback host"},
		{name: "none to private address refused", cfg: SMTPConfig{Host: "10.0.0.5", TLS: "none"}, wantErr: "only allowed for a loopback host"},
		{name: "unknown tls mode", cfg: SMTPConfig{Host: "smtp.example.com", TLS: "ssl"}, wantErr: "unknown smtp tls mode"},
		{name: "missing host", cfg: SMTPConfig{}, wantErr: "host is required"},
		{name: "bad port", cfg: SMTPConfig{Host: "smtp.example.com", Port: 70000}, wantErr: "out of range"},
		{name: "CRLF in host", cfg: SMTPConfig{Host: "smtp.example.com\r\nX"}, wantErr: "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSMTP(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewSMTP error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := s.Config()
			if got.TLS != tc.wantTLS || got.Port != tc.wantPort || got.Timeout != DefaultSMTPTimeout || got.LocalName != DefaultLocalName {
				t.Errorf("config %+v, want tls %s port %d", got, tc.wantTLS, tc.wantPort)
			}
		})
	}
}

func TestSMTPConfigNeverShowsPassword(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-very-secret"
	cfg := SMTPConfig{Host: "smtp.example.com", Port: 587, Username: "u", Password: secret}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("config", "smtp", cfg)
	var rec map[string]any
	if err := json.Unmarshal(logBuf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", cfg),
		"%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg),
		//lint:ignore S1025 the %s verb itself is under test
		"%s":   fmt.Sprintf("%s", cfg),
		"&%v":  fmt.Sprintf("%v", &cfg),
		"slog": logBuf.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s output reveals the password: %s", name, out)
		}
	}
	if !strings.Contains(logBuf.String(), `"password_set":true`) {
		t.Errorf("slog output lacks password_set: %s", logBuf.String())
	}
}

func TestAuthRefusesPlaintextToRemoteHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mech    string
		server  smtp.ServerInfo
		wantErr bool
	}{
		{"plain over plaintext to remote", "PLAIN", smtp.ServerInfo{Name: "smtp.example.com"}, true},
		{"login over plaintext to remote", "LOGIN", smtp.ServerInfo{Name: "smtp.example.com"}, true},
		{"plain over tls to remote", "PLAIN", smtp.ServerInfo{Name: "smtp.example.com", TLS: true}, false},
		{"login over plaintext to localhost", "LOGIN", smtp.ServerInfo{Name: "localhost"}, false},
		{"host mismatch", "PLAIN", smtp.ServerInfo{Name: "other.example.com", TLS: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := "smtp.example.com"
			if tc.server.Name == "localhost" {
				host = "localhost"
			}
			a := &auth{mech: tc.mech, host: host, username: "u", password: "p"}
			_, resp, err := a.Start(&tc.server)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Start error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && resp != nil {
				t.Error("credentials returned alongside an error")
			}
		})
	}
}

// TestSMTPConcurrentSends checks that one SMTP value is safe for concurrent
// use (each Send has its own connection and auth state).
func TestSMTPConcurrentSends(t *testing.T) {
	t.Parallel()
	serverTLS, pool := testCert(t)
	srv, host, port := startServer(t, serverOpts{offerStartTLS: true, authMechs: "LOGIN", tlsConfig: serverTLS, users: map[string]string{"u": "p"}})
	s, err := NewSMTP(SMTPConfig{Host: host, Port: port, Username: "u", Password: "p", RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const n = 8
	for i := range n {
		wg.Go(func() {
			m := e2eMessage()
			m.Subject = "message " + strconv.Itoa(i)
			if err := s.Send(context.Background(), m); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(srv.messages()); got != n {
		t.Errorf("server received %d messages, want %d", got, n)
	}
}
