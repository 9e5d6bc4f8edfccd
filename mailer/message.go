package mailer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// Message is one email. From and at least one To address are required.
// Text and HTML are the two alternative bodies; when both are set the
// message is multipart/alternative, otherwise it has a single part.
type Message struct {
	From    mail.Address
	To      []mail.Address
	Subject string
	Text    string
	HTML    string
	// Headers are extra header fields such as Reply-To or List-Unsubscribe.
	// Fields the package writes itself (From, To, Cc, Bcc, Subject, Date,
	// Message-ID, MIME-Version, Content-Type, Content-Transfer-Encoding)
	// cannot be set here.
	Headers map[string]string
}

// Sender delivers messages. Implementations must be safe for concurrent use
// and must honour the context's cancellation and deadline.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// ErrInvalidMessage is returned (wrapped) for a message that cannot be sent
// safely: a missing or malformed address, or CR/LF in a header value.
var ErrInvalidMessage = errors.New("mailer: invalid message")

// reservedHeader reports whether the header named k is written by the
// package and so may not be set through Message.Headers.
func reservedHeader(k string) bool {
	switch textproto.CanonicalMIMEHeaderKey(k) {
	case "Bcc", "Cc", "Content-Transfer-Encoding", "Content-Type", "Date", "From",
		"Message-Id", "Mime-Version", "Subject", "To":
		return true
	}
	return false
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...))
}

// Validate reports whether the message can be sent safely. It rejects
// missing addresses, malformed or non-ASCII addresses, and any CR, LF or
// NUL in the subject, address names or header fields.
func (m *Message) Validate() error {
	if m == nil {
		return invalid("nil message")
	}
	if err := validateAddress("From", m.From); err != nil {
		return err
	}
	if len(m.To) == 0 {
		return invalid("no recipients")
	}
	for _, a := range m.To {
		if err := validateAddress("To", a); err != nil {
			return err
		}
	}
	if hasControl(m.Subject) {
		return invalid("subject contains a line break or control character")
	}
	for k, v := range m.Headers {
		if !validHeaderName(k) {
			return invalid("header name %q is not valid", k)
		}
		if reservedHeader(k) {
			return invalid("header %q cannot be set through Headers", k)
		}
		if hasControl(v) {
			return invalid("header %q contains a line break or control character", k)
		}
	}
	return nil
}

func validateAddress(field string, a mail.Address) error {
	if hasControl(a.Name) || hasControl(a.Address) {
		return invalid("%s address contains a line break or control character", field)
	}
	if a.Address == "" {
		return invalid("%s address is empty", field)
	}
	for i := 0; i < len(a.Address); i++ {
		if a.Address[i] >= 0x80 {
			return invalid("%s address %q is not ASCII", field, a.Address)
		}
	}
	p, err := mail.ParseAddress(a.Address)
	if err != nil || p.Address != a.Address || p.Name != "" {
		return invalid("%s address %q is not a plain address", field, a.Address)
	}
	return nil
}

// hasControl reports whether s contains CR, LF, NUL or another ASCII
// control character other than horizontal tab.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

// validHeaderName reports whether k is an RFC 5322 field name: printable
// ASCII other than space and colon.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// newMessageID returns a unique Message-ID using the domain of from.
func newMessageID(from string, fallback string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	domain := fallback
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	if domain == "" {
		domain = "localhost"
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

// encode renders m as an RFC 5322 message with CRLF line endings. The
// message must have passed Validate.
func (m *Message) encode(now time.Time, messageID string) []byte {
	var buf bytes.Buffer
	writeHeader(&buf, "Date", now.Format(time.RFC1123Z))
	writeHeader(&buf, "From", m.From.String())
	to := make([]string, len(m.To))
	for i, a := range m.To {
		to[i] = a.String()
	}
	writeHeader(&buf, "To", strings.Join(to, ", "))
	writeHeader(&buf, "Subject", encodeText(m.Subject))
	writeHeader(&buf, "Message-ID", messageID)
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		writeHeader(&buf, k, encodeText(m.Headers[k]))
	}
	writeHeader(&buf, "MIME-Version", "1.0")

	switch {
	case m.Text != "" && m.HTML != "":
		mw := multipart.NewWriter(&buf)
		ct := mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})
		writeHeader(&buf, "Content-Type", ct)
		buf.WriteString("\r\n")
		// Preferred alternative last, as RFC 2046 asks.
		writePart(mw, "text/plain", m.Text)
		writePart(mw, "text/html", m.HTML)
		_ = mw.Close() // writes to a bytes.Buffer cannot fail
	case m.HTML != "":
		writeSingle(&buf, "text/html", m.HTML)
	default:
		writeSingle(&buf, "text/plain", m.Text)
	}
	return buf.Bytes()
}

func contentType(t string) string {
	return mime.FormatMediaType(t, map[string]string{"charset": "utf-8"})
}

func writePart(mw *multipart.Writer, typ, body string) {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", contentType(typ))
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	w, _ := mw.CreatePart(h) // writes to a bytes.Buffer cannot fail
	writeQP(w, body)
}

func writeSingle(buf *bytes.Buffer, typ, body string) {
	writeHeader(buf, "Content-Type", contentType(typ))
	writeHeader(buf, "Content-Transfer-Encoding", "quoted-printable")
	buf.WriteString("\r\n")
	writeQP(buf, body)
}

func writeQP(w io.Writer, body string) {
	// Normalise line endings; the quoted-printable writer emits CRLF.
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	qp := quotedprintable.NewWriter(w)
	_, _ = qp.Write([]byte(body))
	_ = qp.Close()
}

// encodeText RFC 2047-encodes s when it is not plain ASCII.
func encodeText(s string) string {
	return mime.QEncoding.Encode("utf-8", s)
}

// maxLine is the length after which header fields are folded (RFC 5322
// recommends 78 characters).
const maxLine = 78

// writeHeader writes "name: value" folding at spaces so that lines stay
// under maxLine where the value allows it.
func writeHeader(buf *bytes.Buffer, name, value string) {
	buf.WriteString(name)
	buf.WriteString(":")
	lineLen := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && word != "" && lineLen+1+len(word) > maxLine {
			buf.WriteString("\r\n")
			lineLen = 0
		}
		buf.WriteByte(' ')
		buf.WriteString(word)
		lineLen += 1 + len(word)
	}
	buf.WriteString("\r\n")
}
