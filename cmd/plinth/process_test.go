package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

// buildBinary compiles the plinth command once per test binary.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "plinth-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "plinth")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// server is a running plinth process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	log  *bytes.Buffer
	args []string
	bin  string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func dbArgs(b testenv.Backend) []string {
	if b.Name == "postgres" {
		return []string{"--db", b.URL, "--dir", b.Dir}
	}
	return []string{"--dir", b.Dir}
}

func startServer(t *testing.T, b testenv.Backend) *server {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The durability test reads back hundreds of writes from one address:
	// rate limits are not what it tests.
	s := &server{t: t, bin: bin, args: append(dbArgs(b), "--rate-limits", "off")}
	s.start()
	return s
}

func (s *server) start() {
	s.t.Helper()
	addr := freeAddr(s.t)
	s.url = "http://" + addr
	s.log = &bytes.Buffer{}
	s.cmd = exec.Command(s.bin, append([]string{"serve", "--http", addr, "--bcrypt-cost", "4"}, s.args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(s.url + "/api/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("server did not become healthy; log:\n%s", s.log)
}

func (s *server) cli(args ...string) {
	s.t.Helper()
	out, err := exec.Command(s.bin, append(args, s.args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("plinth %v: %v\n%s", args, err, out)
	}
}

func (s *server) call(method, path, token string, body any) (int, []byte, error) {
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(res.Body)
	return res.StatusCode, buf.Bytes(), err
}

// prepare creates a superuser and an open "events" collection.
func (s *server) prepare() string {
	s.t.Helper()
	st, body, err := s.call("POST", "/api/collections/_superusers/auth-with-password", "", map[string]string{"identity": "ops@example.com", "password": "ops-password-1"})
	if err != nil || st != 200 {
		s.t.Fatalf("login: %d %s %v", st, body, err)
	}
	var auth struct{ Token string }
	json.Unmarshal(body, &auth)
	st, body, err = s.call("POST", "/api/collections", auth.Token, map[string]any{
		"name": "events", "createRule": "", "listRule": "", "viewRule": "",
		"fields": []map[string]any{{"name": "seq", "type": "number"}, {"name": "note", "type": "text"}},
	})
	if err != nil || st != 200 {
		s.t.Fatalf("create collection: %d %s %v", st, body, err)
	}
	return auth.Token
}

// writeUntil creates records from several goroutines until stop closes,
// returning the ids of the writes that were answered 2xx.
func (s *server) writeUntil(stop <-chan struct{}) []string {
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				st, body, err := s.call("POST", "/api/collections/events/records", "", map[string]any{"seq": w*1000000 + i, "note": strings.Repeat("x", 200)})
				if err != nil || st != 200 {
					continue // the server may die mid-request; only answered writes count
				}
				var rec struct{ ID string }
				if json.Unmarshal(body, &rec) == nil && rec.ID != "" {
					mu.Lock()
					acked = append(acked, rec.ID)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return acked
}

func (s *server) assertAllPresent(token string, acked []string) {
	s.t.Helper()
	missing := 0
	for _, id := range acked {
		st, body, err := s.call("GET", "/api/collections/events/records/"+id, token, nil)
		if err != nil || st != 200 {
			missing++
			if missing < 5 {
				s.t.Errorf("acknowledged write %s missing after restart: %d %s %v", id, st, body, err)
			}
		}
	}
	if missing > 0 {
		s.t.Fatalf("%d of %d acknowledged writes lost", missing, len(acked))
	}
}

// startWriting starts a server with a superuser and the events collection,
// and writes to it until stop is closed; done then yields the acked ids.
func startWriting(t *testing.T, b testenv.Backend) (s *server, token string, stop chan struct{}, done chan []string) {
	s = startServer(t, b)
	s.cli("superuser", "upsert", "ops@example.com", "ops-password-1")
	token = s.prepare()
	stop, done = make(chan struct{}), make(chan []string)
	go func() { done <- s.writeUntil(stop) }()
	return s, token, stop, done
}

// TestDurabilityAfterSIGKILL kills the server in the middle of concurrent
// writes and checks that every write answered 2xx survived the restart.
func TestDurabilityAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real server processes")
	}
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		s, token, stop, done := startWriting(t, b)
		time.Sleep(1500 * time.Millisecond)
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		s.cmd.Wait()
		close(stop)
		acked := <-done
		if len(acked) < 20 {
			t.Fatalf("only %d writes acknowledged before the kill; log:\n%s", len(acked), s.log)
		}
		s.start()
		s.assertAllPresent(token, acked)
		t.Logf("%s: %d acknowledged writes, all present after SIGKILL and restart", b.Name, len(acked))
	})
}

// TestGracefulShutdown sends SIGTERM during concurrent writes: the process
// must exit 0, and every request it answered must be complete and kept.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real server processes")
	}
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		s, token, stop, done := startWriting(t, b)
		time.Sleep(700 * time.Millisecond)
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		exited := make(chan error, 1)
		go func() { exited <- s.cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v; log:\n%s", err, s.log)
			}
		case <-ctx.Done():
			t.Fatalf("server did not stop within 15s of SIGTERM; log:\n%s", s.log)
		}
		close(stop)
		acked := <-done
		if !strings.Contains(s.log.String(), "server stopped") {
			t.Errorf("log lacks the clean stop line:\n%s", s.log)
		}
		s.start()
		s.assertAllPresent(token, acked)
	})
}
