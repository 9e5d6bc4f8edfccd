// Package mailer sends the emails Plinth needs: account verification,
// password reset, one-time passwords, email change confirmation and login
// alerts.
//
// A [Message] is delivered by a [Sender]. Two senders are provided:
//
//   - [SMTP] speaks SMTP with STARTTLS or implicit TLS and PLAIN or LOGIN
//     authentication. It writes a MIME multipart/alternative message (UTF-8
//     text and HTML parts, quoted-printable, RFC 2047 encoded headers, Date
//     and Message-ID). Credentials are only sent over TLS or to a loopback
//     host, and the context deadline bounds the whole exchange.
//   - [DevMailbox] is used when no SMTP server is configured. It keeps the
//     most recent messages in memory for inspection and logs each one,
//     including its text body, so that development links are never lost.
//
// Messages are validated before anything is sent: CR or LF in the subject,
// an address or a custom header is rejected with [ErrInvalidMessage], so
// user-controlled values cannot inject headers or SMTP commands.
//
// The default email bodies are rendered by [Templates]; each can be
// overridden with text/template and html/template sources that use
// {{.AppName}}, {{.AppURL}}, {{.Token}}, {{.ActionURL}}, {{.OTP}} and
// {{.Email}}, or PocketBase's {APP_NAME}, {APP_URL}, {TOKEN}... spellings.
// HTML bodies are rendered with html/template, so every value is escaped.
//
// The package holds no mutable package-level state.
package mailer
