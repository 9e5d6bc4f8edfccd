package realtime

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestIdleConnectionMemory opens many idle SSE streams, each with two
// subscriptions, and measures what one costs (heap and goroutine stacks
// after a GC), against a baseline of the same number of connections to a
// bare net/http handler that writes headers, flushes and waits. net/http's
// own share (a 4 KiB read buffer, 4+2 KiB write buffers, two goroutines)
// is about 25 KiB on Go 1.26 and is not this package's to shrink; what
// realtime adds must stay small. PLINTH_TEST_IDLE_CONNS changes the count
// (default 2000).
func TestIdleConnectionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	if raceEnabled {
		t.Skip("the race detector inflates goroutine stacks and allocations")
	}
	// Not parallel: other tests' allocations would blur the figures.
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("PLINTH_TEST_IDLE_CONNS")); err == nil && v > 0 {
		n = v
	}

	baseline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("id:x\nevent:PB_CONNECT\ndata:{}\n\n"))
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	base := perConnection(t, baseline.Listener.Addr().String(), n, nil)
	baseline.Close() // waits for its handlers, so their memory is not counted twice

	e := setup(t)
	got := perConnection(t, e.srv.Listener.Addr().String(), n, func(id string) {
		if err := e.b.SetSubscriptions(context.Background(), id, Auth{}, []string{"posts/*", "comments/" + id[:15]}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%d idle connections: bare net/http %d bytes each, realtime SSE %d bytes each (+%d)", n, base, got, got-base)
	if got-base > 4<<10 {
		t.Errorf("realtime adds %d bytes per idle connection to net/http's cost, want at most 4 KiB", got-base)
	}
}

// perConnection opens n streams to addr with bare TCP clients, reading
// each up to its first "id:" line, and returns the memory growth per
// connection.
func perConnection(t *testing.T, addr string, n int, opened func(id string)) int64 {
	t.Helper()
	measure := func() int64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc + m.StackInuse)
	}
	before := measure()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /api/realtime HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		r := bufio.NewReaderSize(c, 512)
		id := ""
		for id == "" {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			if rest, ok := strings.CutPrefix(line, "id:"); ok {
				id = strings.TrimSpace(rest)
			}
		}
		if opened != nil {
			opened(id)
		}
	}
	return (measure() - before) / int64(n)
}
