package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// MinIOVersion is the module version of github.com/minio/minio that CI
// installs (MinIO tags releases as RELEASE.*, which the module proxy does
// not serve, so a pseudo-version of its main branch is pinned):
//
//	go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
const MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIO is a MinIO server process started for a test.
type MinIO struct {
	Endpoint  string // http://127.0.0.1:port
	AccessKey string
	Secret    string

	Client *minio.Client
}

// FindMinIO returns the path of a minio binary: $PLINTH_MINIO_BIN, minio on
// PATH, or $(go env GOPATH)/bin/minio.
func FindMinIO() (string, bool) {
	if p := os.Getenv("PLINTH_MINIO_BIN"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		return p, false
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, true
	}
	for _, gopath := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gopath, "bin", "minio")
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// StartMinIO starts a MinIO server on a free loopback port with a
// temporary data directory and random credentials, waits until it is
// ready, and stops it when the test ends. Without a binary it skips the
// test, or fails it when PLINTH_REQUIRE_SERVICES=1.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	bin, ok := FindMinIO()
	if !ok {
		msg := "no minio binary (set PLINTH_MINIO_BIN, or put minio on PATH or in $(go env GOPATH)/bin); install: " +
			"go install github.com/minio/minio@" + MinIOVersion
		if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var lastErr error
	for range 3 { // a free port can be taken between probe and listen
		m, err := startMinIO(t, bin)
		if err == nil {
			return m
		}
		lastErr = err
	}
	t.Fatalf("start minio: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// lockedBuffer collects the server's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startMinIO(t testing.TB, bin string) (*MinIO, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	m := &MinIO{Endpoint: "http://" + addr, AccessKey: "plinth" + randomHex(6), Secret: randomHex(20)}
	dataDir := t.TempDir()
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr,
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort), dataDir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.Secret,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"HOME="+dataDir, // MinIO writes ~/.minio
	)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(m.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("minio exited: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("minio not ready after 60s\n%s", out.String())
		}
	}
	t.Cleanup(stop)

	mc, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.Secret, ""), Region: "us-east-1"})
	if err != nil {
		return nil, err
	}
	m.Client = mc
	return m, nil
}

// CreateBucket makes a bucket with a random name and returns the name.
func (m *MinIO) CreateBucket(t testing.TB) string {
	t.Helper()
	name := "plinth-" + randomHex(6)
	if err := m.Client.MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	return name
}
