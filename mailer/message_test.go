package mailer

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// parsedMail is a message read back with net/mail and mime/multipart.
type parsedMail struct {
	header   mail.Header
	subject  string
	mimeType string
	// parts maps a part's media type to its decoded body.
	parts map[string]string
	// partHeaders maps a part's media type to its Content-Type parameters.
	charsets map[string]string
}

// parseMail parses raw (CRLF line endings expected) and decodes every
// part, failing the test on any structural problem.
func parseMail(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	if i := bytes.IndexByte(bytes.ReplaceAll(raw, []byte("\r\n"), nil), '\n'); i >= 0 {
		t.Fatalf("message has a bare LF near byte %d", i)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line longer than 998 bytes: %.60q...", line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("mail.ReadMessage: %v", err)
	}
	p := parsedMail{header: msg.Header, parts: map[string]string{}, charsets: map[string]string{}}
	var dec mime.WordDecoder
	if p.subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	p.mimeType = mt
	if !strings.HasPrefix(mt, "multipart/") {
		p.charsets[mt] = params["charset"]
		p.parts[mt] = decodeBody(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return p
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		pt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		p.charsets[pt] = pparams["charset"]
		p.parts[pt] = decodeBody(t, part.Header.Get("Content-Transfer-Encoding"), part)
	}
	return p
}

func decodeBody(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	if cte != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding = %q, want quoted-printable", cte)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(r))
	if err != nil {
		t.Fatalf("quoted-printable: %v", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestEncodeMIMEStructure(t *testing.T) {
	t.Parallel()
	longWord := strings.Repeat("x", 120)
	tests := []struct {
		name      string
		msg       Message
		wantType  string
		wantParts map[string]string
	}{
		{
			name: "text and html alternative with utf-8",
			msg: Message{
				From:    mail.Address{Name: "Plinth Ünïcode", Address: "noreply@example.com"},
				To:      []mail.Address{{Name: "Zoë", Address: "zoe@example.org"}, {Address: "bob@example.net"}},
				Subject: "Vérifiez votre adresse — ✓",
				Text:    "Bonjour Zoë,\n\nOpen https://example.com/verify?token=abc&x=1\n.leading dot line\n" + longWord + "\n",
				HTML:    `<p>Bonjour <b>Zoë</b> = égal</p>`,
				Headers: map[string]string{"Reply-To": "support@example.com", "X-Plinth-Kind": "vérification"},
			},
			wantType: "multipart/alternative",
			wantParts: map[string]string{
				"text/plain": "Bonjour Zoë,\n\nOpen https://example.com/verify?token=abc&x=1\n.leading dot line\n" + longWord + "\n",
				"text/html":  `<p>Bonjour <b>Zoë</b> = égal</p>`,
			},
		},
		{
			name: "text only",
			msg: Message{
				From: mail.Address{Address: "a@example.com"}, To: []mail.Address{{Address: "b@example.com"}},
				Subject: "plain", Text: "line one\r\nline two",
			},
			wantType:  "text/plain",
			wantParts: map[string]string{"text/plain": "line one\nline two"},
		},
		{
			name: "html only",
			msg: Message{
				From: mail.Address{Address: "a@example.com"}, To: []mail.Address{{Address: "b@example.com"}},
				Subject: "html", HTML: "<p>hi</p>",
			},
			wantType:  "text/html",
			wantParts: map[string]string{"text/html": "<p>hi</p>"},
		},
		{
			name: "long ascii subject is folded and unfolds intact",
			msg: Message{
				From: mail.Address{Address: "a@example.com"}, To: []mail.Address{{Address: "b@example.com"}},
				Subject: strings.Repeat("word ", 40) + "end", Text: "x",
			},
			wantType:  "text/plain",
			wantParts: map[string]string{"text/plain": "x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.msg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
			raw := tc.msg.encode(now, newMessageID(tc.msg.From.Address, "fallback"))
			p := parseMail(t, raw)

			if p.mimeType != tc.wantType {
				t.Fatalf("Content-Type = %q, want %q", p.mimeType, tc.wantType)
			}
			if p.subject != tc.msg.Subject {
				t.Errorf("subject = %q, want %q", p.subject, tc.msg.Subject)
			}
			if got := p.header.Get("MIME-Version"); got != "1.0" {
				t.Errorf("MIME-Version = %q", got)
			}
			if d, err := p.header.Date(); err != nil || !d.Equal(now) {
				t.Errorf("Date = %v, %v; want %v", d, err, now)
			}
			if id := p.header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@"+strings.SplitN(tc.msg.From.Address, "@", 2)[1]+">") {
				t.Errorf("Message-ID = %q", id)
			}
			from, err := p.header.AddressList("From")
			if err != nil || len(from) != 1 || *from[0] != tc.msg.From {
				t.Errorf("From = %v, %v; want %v", from, err, tc.msg.From)
			}
			to, err := p.header.AddressList("To")
			if err != nil || len(to) != len(tc.msg.To) {
				t.Fatalf("To = %v, %v", to, err)
			}
			for i := range to {
				if *to[i] != tc.msg.To[i] {
					t.Errorf("To[%d] = %v, want %v", i, *to[i], tc.msg.To[i])
				}
			}
			var dec mime.WordDecoder
			for k, v := range tc.msg.Headers {
				got, err := dec.DecodeHeader(p.header.Get(k))
				if err != nil || got != v {
					t.Errorf("header %s = %q, %v; want %q", k, got, err, v)
				}
			}
			if len(p.parts) != len(tc.wantParts) {
				t.Fatalf("parts = %v, want %v", p.parts, tc.wantParts)
			}
			for typ, want := range tc.wantParts {
				if p.parts[typ] != want {
					t.Errorf("%s body = %q, want %q", typ, p.parts[typ], want)
				}
				if p.charsets[typ] != "utf-8" {
					t.Errorf("%s charset = %q", typ, p.charsets[typ])
				}
			}
		})
	}
}

func TestMessageIDsAreUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id := newMessageID("a@example.com", "x")
		if seen[id] {
			t.Fatalf("duplicate Message-ID %s", id)
		}
		seen[id] = true
	}
	if id := newMessageID("", "host.local"); !strings.HasSuffix(id, "@host.local>") {
		t.Errorf("fallback domain not used: %s", id)
	}
}

func TestValidateRejectsInjection(t *testing.T) {
	t.Parallel()
	ok := func() Message {
		return Message{
			From: mail.Address{Name: "App", Address: "app@example.com"},
			To:   []mail.Address{{Address: "user@example.com"}},
			Text: "hi", Subject: "Hello",
		}
	}
	tests := []struct {
		name   string
		mutate func(*Message)
	}{
		{"CRLF in subject", func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.com" }},
		{"LF in subject", func(m *Message) { m.Subject = "Hi\nX-Evil: 1" }},
		{"CR in subject", func(m *Message) { m.Subject = "Hi\rX-Evil: 1" }},
		{"NUL in subject", func(m *Message) { m.Subject = "Hi\x00" }},
		{"CRLF in to address", func(m *Message) { m.To[0].Address = "user@example.com\r\nRCPT TO:<x@evil.com>" }},
		{"LF in to name", func(m *Message) { m.To[0].Name = "User\nBcc: x@evil.com" }},
		{"CRLF in from name", func(m *Message) { m.From.Name = "App\r\nBcc: x@evil.com" }},
		{"CRLF in from address", func(m *Message) { m.From.Address = "app@example.com\r\nDATA" }},
		{"angle bracket smuggling", func(m *Message) { m.To[0].Address = "a@example.com> <b@evil.com" }},
		{"address with display name", func(m *Message) { m.To[0].Address = "Evil <a@evil.com>" }},
		{"two addresses in one", func(m *Message) { m.To[0].Address = "a@example.com, b@evil.com" }},
		{"non-ascii address", func(m *Message) { m.To[0].Address = "zoë@example.com" }},
		{"empty to address", func(m *Message) { m.To[0].Address = "" }},
		{"no recipients", func(m *Message) { m.To = nil }},
		{"no from", func(m *Message) { m.From = mail.Address{} }},
		{"CRLF in header value", func(m *Message) { m.Headers = map[string]string{"Reply-To": "a@example.com\r\nBcc: x@evil.com"} }},
		{"colon in header name", func(m *Message) { m.Headers = map[string]string{"X-A: b\r\nBcc": "x"} }},
		{"space in header name", func(m *Message) { m.Headers = map[string]string{"X A": "x"} }},
		{"reserved header Bcc", func(m *Message) { m.Headers = map[string]string{"bcc": "x@evil.com"} }},
		{"reserved header Content-Type", func(m *Message) { m.Headers = map[string]string{"Content-Type": "text/html"} }},
	}
	base := ok()
	if err := base.Validate(); err != nil {
		t.Fatalf("baseline message invalid: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := ok()
			tc.mutate(&m)
			if err := m.Validate(); !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Validate() = %v, want ErrInvalidMessage", err)
			}
		})
	}
	var nilMsg *Message
	if err := nilMsg.Validate(); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("nil message: %v", err)
	}
}
