package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestWebhooksAfterSIGKILL kills the server in the middle of a burst of
// record creates, each of which a webhook delivers: after a restart every
// acknowledged create reaches the receiver at least once, and a receiver
// deduplicates by webhook-id (the same on a redelivery).
func TestWebhooksAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real server processes")
	}
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		var mu sync.Mutex
		byRecord := map[string]map[string]bool{} // record id → webhook-ids
		deliveries := 0
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Data struct {
					Record struct{ ID string } `json:"record"`
				} `json:"data"`
			}
			data, _ := io.ReadAll(r.Body)
			if json.Unmarshal(data, &body) != nil {
				http.Error(w, "bad body", 400)
				return
			}
			time.Sleep(5 * time.Millisecond) // deliveries are in flight when the kill comes
			mu.Lock()
			defer mu.Unlock()
			deliveries++
			if byRecord[body.Data.Record.ID] == nil {
				byRecord[body.Data.Record.ID] = map[string]bool{}
			}
			byRecord[body.Data.Record.ID][r.Header.Get("webhook-id")] = true
		}))
		defer rc.Close()
		bin, err := buildBinary()
		if err != nil {
			t.Fatal(err)
		}
		s := &server{t: t, bin: bin, args: append(dbArgs(b), "--rate-limits", "off", "--jobs-rescue-after", "2s")}
		s.start()
		s.cli("superuser", "upsert", "ops@example.com", "ops-password-1")
		token := s.prepare()
		if st, body, err := s.call("PATCH", "/api/settings", token, map[string]any{"webhooks": map[string]any{"allowPrivateNetworks": true}}); err != nil || st != 200 {
			t.Fatalf("settings: %d %s %v", st, body, err)
		}
		if st, body, err := s.call("POST", "/api/webhooks", token, map[string]any{"url": rc.URL, "collections": []string{"events"}, "events": []string{"create"}}); err != nil || st != 200 {
			t.Fatalf("create webhook: %d %s %v", st, body, err)
		}
		stop, done := make(chan struct{}), make(chan []string)
		go func() { done <- s.writeUntil(stop) }()
		time.Sleep(1500 * time.Millisecond)
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		s.cmd.Wait()
		close(stop)
		acked := <-done
		mu.Lock()
		before := len(byRecord)
		mu.Unlock()
		if len(acked) < 20 {
			t.Fatalf("only %d writes acknowledged before the kill; log:\n%s", len(acked), s.log)
		}
		s.start()
		missing := func() int {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, id := range acked {
				if len(byRecord[id]) == 0 {
					n++
				}
			}
			return n
		}
		deadline := time.Now().Add(150 * time.Second) // PostgreSQL: leader election, then River's rescuer every 30 s
		for missing() > 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if n := missing(); n > 0 {
			_, jobs, _ := s.call("GET", "/api/jobs?state=running,retryable,available,scheduled,discarded,cancelled&perPage=5", token, nil)
			t.Fatalf("%d of %d acknowledged creates never delivered; jobs not completed: %s; log:\n%s", n, len(acked), jobs, s.log)
		}
		mu.Lock()
		defer mu.Unlock()
		for id, ids := range byRecord {
			if len(ids) != 1 {
				t.Errorf("record %s delivered under %d webhook-ids", id, len(ids))
			}
		}
		t.Logf("%s: %d acknowledged creates (%d delivered before the kill), %d deliveries for %d records: all delivered after SIGKILL and restart",
			b.Name, len(acked), before, deliveries, len(byRecord))
	})
}
