package mailer

import (
	"context"
	"log/slog"
	"maps"
	"net/mail"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DefaultDevMailboxSize is the number of messages a DevMailbox keeps when
// created with a size of zero or less.
const DefaultDevMailboxSize = 100

// StoredMessage is a message kept by a DevMailbox.
type StoredMessage struct {
	ID      string
	Time    time.Time
	From    mail.Address
	To      []mail.Address
	Subject string
	Text    string
	HTML    string
	Headers map[string]string
}

// DevMailbox is the Sender used when no SMTP server is configured. It keeps
// the most recent messages in a fixed-size ring (the oldest is dropped when
// full) and logs every message at info level, including the text body
// (where development links such as verification URLs live), so no email is
// silently lost. It is safe for concurrent use.
type DevMailbox struct {
	logger *slog.Logger

	mu    sync.Mutex
	ring  []StoredMessage // len == capacity once allocated
	next  int             // slot for the next message
	count int             // stored messages, <= len(ring)
	seq   uint64          // last assigned id
}

var _ Sender = (*DevMailbox)(nil)

// NewDevMailbox returns a mailbox keeping the last size messages (default
// DefaultDevMailboxSize) and logging to logger (slog.Default() when nil).
func NewDevMailbox(logger *slog.Logger, size int) *DevMailbox {
	if size <= 0 {
		size = DefaultDevMailboxSize
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &DevMailbox{logger: logger, ring: make([]StoredMessage, size)}
}

// Send validates m, stores a copy and logs it. It fails only for an
// invalid message or a context that is already done.
func (d *DevMailbox) Send(ctx context.Context, m *Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	sm := StoredMessage{
		Time:    time.Now(),
		From:    m.From,
		To:      slices.Clone(m.To),
		Subject: m.Subject,
		Text:    m.Text,
		HTML:    m.HTML,
		Headers: maps.Clone(m.Headers),
	}

	d.mu.Lock()
	d.seq++
	sm.ID = strconv.FormatUint(d.seq, 10)
	d.ring[d.next] = sm
	d.next = (d.next + 1) % len(d.ring)
	if d.count < len(d.ring) {
		d.count++
	}
	d.mu.Unlock()

	to := make([]string, len(sm.To))
	for i, a := range sm.To {
		to[i] = a.String()
	}
	attrs := []any{
		slog.String("id", sm.ID),
		slog.String("from", sm.From.String()),
		slog.Any("to", to),
		slog.String("subject", sm.Subject),
	}
	if sm.Text != "" || sm.HTML == "" {
		attrs = append(attrs, slog.String("text", sm.Text))
	} else {
		// No text alternative: log the HTML so its links are not lost.
		attrs = append(attrs, slog.String("html", sm.HTML))
	}
	d.logger.InfoContext(ctx, "mailer: email not sent (no SMTP configured), kept in dev mailbox", attrs...)
	return nil
}

// List returns the stored messages, newest first. The result is a copy.
func (d *DevMailbox) List() []StoredMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]StoredMessage, 0, d.count)
	for i := 1; i <= d.count; i++ {
		out = append(out, copyStored(d.ring[(d.next-i+len(d.ring))%len(d.ring)]))
	}
	return out
}

// Get returns the stored message with the given id, if it is still kept.
func (d *DevMailbox) Get(id string) (StoredMessage, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := 1; i <= d.count; i++ {
		if sm := d.ring[(d.next-i+len(d.ring))%len(d.ring)]; sm.ID == id {
			return copyStored(sm), true
		}
	}
	return StoredMessage{}, false
}

// Len returns the number of stored messages.
func (d *DevMailbox) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count
}

// Clear removes all stored messages. Ids are not reused.
func (d *DevMailbox) Clear() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.ring)
	d.next, d.count = 0, 0
}

func copyStored(sm StoredMessage) StoredMessage {
	sm.To = slices.Clone(sm.To)
	sm.Headers = maps.Clone(sm.Headers)
	return sm
}
