package mailer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func newTestMailbox(size int) (*DevMailbox, *syncBuffer) {
	buf := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return NewDevMailbox(logger, size), buf
}

func devMsg(i int) *Message {
	return &Message{
		From:    mail.Address{Name: "App", Address: "app@example.com"},
		To:      []mail.Address{{Name: "User", Address: fmt.Sprintf("u%d@example.com", i)}},
		Subject: fmt.Sprintf("subject %d", i),
		Text:    fmt.Sprintf("open https://app.example/verify/%d", i),
		HTML:    fmt.Sprintf(`<a href="https://app.example/verify/%d">verify</a>`, i),
	}
}

func TestDevMailboxRing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		send    int
		wantIDs []string // newest first
	}{
		{"empty", 3, 0, []string{}},
		{"partly full", 3, 2, []string{"2", "1"}},
		{"exactly full", 3, 3, []string{"3", "2", "1"}},
		{"wrapped", 3, 5, []string{"5", "4", "3"}},
		{"wrapped twice", 2, 7, []string{"7", "6"}},
		{"size one", 1, 4, []string{"4"}},
		{"default size", 0, 105, nil}, // checked by length below
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mb, _ := newTestMailbox(tc.size)
			for i := 1; i <= tc.send; i++ {
				if err := mb.Send(context.Background(), devMsg(i)); err != nil {
					t.Fatal(err)
				}
			}
			list := mb.List()
			if tc.wantIDs == nil {
				if len(list) != DefaultDevMailboxSize || list[0].ID != "105" || list[len(list)-1].ID != "6" {
					t.Fatalf("default ring: len %d first %s last %s", len(list), list[0].ID, list[len(list)-1].ID)
				}
				return
			}
			if mb.Len() != len(tc.wantIDs) || len(list) != len(tc.wantIDs) {
				t.Fatalf("Len = %d, List has %d, want %d", mb.Len(), len(list), len(tc.wantIDs))
			}
			for i, id := range tc.wantIDs {
				sm := list[i]
				if sm.ID != id {
					t.Errorf("List[%d].ID = %s, want %s", i, sm.ID, id)
				}
				n, _ := strconv.Atoi(id)
				want := devMsg(n)
				if sm.Subject != want.Subject || sm.Text != want.Text || sm.HTML != want.HTML ||
					len(sm.To) != 1 || sm.To[0] != want.To[0] || sm.Time.IsZero() {
					t.Errorf("List[%d] = %+v, want content of message %d", i, sm, n)
				}
				got, ok := mb.Get(id)
				if !ok || got.ID != id || got.Subject != want.Subject {
					t.Errorf("Get(%s) = %+v, %v", id, got, ok)
				}
			}
			// Evicted and unknown ids are not found.
			if tc.send > len(tc.wantIDs) {
				if _, ok := mb.Get("1"); ok {
					t.Error("evicted message 1 still found")
				}
			}
			if _, ok := mb.Get("nope"); ok {
				t.Error("unknown id found")
			}
		})
	}
}

func TestDevMailboxLogs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		msg       *Message
		wantKey   string // "text" or "html"
		wantValue string
	}{
		{"text body logged", devMsg(7), "text", "open https://app.example/verify/7"},
		{"html logged when there is no text", &Message{
			From: mail.Address{Address: "app@example.com"}, To: []mail.Address{{Address: "u@example.com"}},
			Subject: "html only", HTML: `<a href="https://app.example/x">x</a>`,
		}, "html", `<a href="https://app.example/x">x</a>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mb, buf := newTestMailbox(5)
			if err := mb.Send(context.Background(), tc.msg); err != nil {
				t.Fatal(err)
			}
			recs := buf.records(t)
			if len(recs) != 1 {
				t.Fatalf("got %d log records, want 1", len(recs))
			}
			rec := recs[0]
			if rec["level"] != "INFO" {
				t.Errorf("level = %v, want INFO", rec["level"])
			}
			if rec["subject"] != tc.msg.Subject {
				t.Errorf("subject = %v", rec["subject"])
			}
			if rec[tc.wantKey] != tc.wantValue {
				t.Errorf("%s = %v, want %q", tc.wantKey, rec[tc.wantKey], tc.wantValue)
			}
			to, _ := rec["to"].([]any)
			if len(to) != 1 || !strings.Contains(fmt.Sprint(to[0]), tc.msg.To[0].Address) {
				t.Errorf("to = %v", rec["to"])
			}
			if rec["id"] != "1" {
				t.Errorf("id = %v", rec["id"])
			}
		})
	}
}

func TestDevMailboxRejects(t *testing.T) {
	t.Parallel()
	mb, buf := newTestMailbox(5)
	bad := devMsg(1)
	bad.Subject = "x\r\nBcc: evil@example.com"
	if err := mb.Send(context.Background(), bad); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("invalid message: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := mb.Send(ctx, devMsg(2)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if mb.Len() != 0 || len(buf.records(t)) != 0 {
		t.Errorf("rejected messages were stored or logged")
	}
}

func TestDevMailboxCopies(t *testing.T) {
	t.Parallel()
	mb, _ := newTestMailbox(5)
	m := devMsg(1)
	m.Headers = map[string]string{"X-A": "1"}
	if err := mb.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.To[0].Address = "changed@example.com"
	m.Headers["X-A"] = "changed"
	l := mb.List()
	l[0].To[0].Address = "changed-too@example.com"
	l[0].Headers["X-A"] = "changed-too"
	got, _ := mb.Get("1")
	if got.To[0].Address != "u1@example.com" || got.Headers["X-A"] != "1" {
		t.Errorf("stored message aliased caller memory: %+v", got)
	}
	mb.Clear()
	if mb.Len() != 0 {
		t.Fatal("Clear left messages")
	}
	_ = mb.Send(context.Background(), devMsg(2))
	if l := mb.List(); len(l) != 1 || l[0].ID != "2" {
		t.Errorf("after Clear ids restarted or ring broken: %+v", l)
	}
}

func TestDevMailboxConcurrent(t *testing.T) {
	t.Parallel()
	const workers, each, size = 8, 50, 100
	mb, buf := newTestMailbox(size)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := mb.Send(context.Background(), devMsg(w*each+i)); err != nil {
					t.Error(err)
					return
				}
				_ = mb.List()
				_, _ = mb.Get(strconv.Itoa(i))
			}
		})
	}
	wg.Wait()
	list := mb.List()
	if len(list) != size {
		t.Fatalf("len = %d, want %d", len(list), size)
	}
	// The ring keeps exactly the newest ids, newest first.
	for i, sm := range list {
		if want := strconv.Itoa(workers*each - i); sm.ID != want {
			t.Fatalf("List[%d].ID = %s, want %s", i, sm.ID, want)
		}
	}
	if n := len(buf.records(t)); n != workers*each {
		t.Errorf("logged %d messages, want %d (none may be dropped)", n, workers*each)
	}
}
