// Package oauth2test runs a real OpenID Connect provider (mockoidc, see
// oauth2/internal/testprovider) as a separate process for end-to-end tests,
// and plays the user agent against it.
package oauth2test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The provider binary is built once per test process; RemoveBinary (from
// TestMain) deletes it.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// RemoveBinary deletes the built provider, if any.
func RemoveBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("go tool not found: %w", err)
			return
		}
		binDir, err = os.MkdirTemp("", "plinth-oidc-provider-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(binDir, "testprovider")
		cmd := exec.Command(goTool, "build", "-o", binPath, "github.com/plinthdev/plinth/oauth2/internal/testprovider")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building test provider: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Server is a running provider.
type Server struct {
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Addr         string `json:"addr"`
}

// Start starts a provider process with the given flags (see the
// testprovider command) and waits for its discovery document. The process
// stops when the test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		stdin.Close() // the provider exits on EOF
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, stdout)
	}()
	var srv Server
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &srv); err != nil {
			t.Fatalf("provider announcement %q: %v (stderr: %s)", line, err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("provider did not start (stderr: %s)", stderr.String())
	}

	disc := "http://" + srv.Addr + "/oidc/.well-known/openid-configuration"
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(disc)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("discovery at %s not ready: %v", disc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &srv
}

// Authorize plays the user agent: it opens the authorization URL (the
// provider approves at once) and returns where the provider redirects.
func Authorize(t testing.TB, authURL string) *url.URL {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s: %s", resp.Status, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
