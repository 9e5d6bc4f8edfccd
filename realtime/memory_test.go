package realtime

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestIdleConnectionMemory opens many idle streams, each with two
// subscriptions, and measures what one costs (heap and goroutine stacks
// after a GC, the test's own end of each connection included). For
// comparison it measures the same number of connections to a bare
// net/http handler that writes headers, flushes and waits: about 25 KiB
// each on Go 1.26 (a 4 KiB read buffer, 4+2 KiB write buffers, the
// connection goroutine's stack and the background-read goroutine's). An
// idle SSE stream lives on a hijacked connection with no goroutine and no
// net/http buffers and must stay within 16 KiB (the target for the
// whole process, see bench's realtime_fanout); it costs about 1.5 KiB. A
// WebSocket keeps a reader goroutine and the 4 KiB read buffer of its
// hijacked connection and must stay within 24 KiB; it costs about 10 KiB
// here (15 KiB with coder/websocket's buffers, 42 KiB with the handler, a
// writer and a ping goroutine of its own). PLINTH_TEST_IDLE_CONNS changes the count (default
// 2000).
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
	base := perConnection(t, n, func() (net.Conn, string, error) { return dialRawSSE(baseline.Listener.Addr().String()) }, nil)
	baseline.Close() // waits for its handlers, so their memory is not counted twice

	e := setup(t)
	addr := e.srv.Listener.Addr().String()
	subscribe := func(id string) {
		if err := e.b.SetSubscriptions(context.Background(), id, Auth{}, []string{"posts/*", "comments/" + id[:15]}); err != nil {
			t.Fatal(err)
		}
	}
	sse := perConnection(t, n, func() (net.Conn, string, error) { return dialRawSSE(addr) }, subscribe)
	eventually(t, wait, "the SSE clients to be gone", func() bool { return e.b.Stats().Clients == 0 })
	ws := perConnection(t, n, func() (net.Conn, string, error) { return dialRawWS(addr) }, subscribe)

	t.Logf("%d idle connections: bare net/http %s, realtime SSE %s, realtime WebSocket %s", n, base, sse, ws)
	if sse.bytes > 16<<10 {
		t.Errorf("an idle SSE connection costs %d bytes, want at most 16 KiB", sse.bytes)
	}
	if sse.goroutines > 0.01 {
		t.Errorf("an idle SSE connection has %.2f goroutines, want none", sse.goroutines)
	}
	if ws.bytes > 24<<10 {
		t.Errorf("an idle WebSocket connection costs %d bytes, want at most 24 KiB", ws.bytes)
	}
	if ws.goroutines > 1.01 {
		t.Errorf("an idle WebSocket connection has %.2f goroutines, want one (the reader)", ws.goroutines)
	}
}

// connCost is the memory and goroutines one idle connection adds.
type connCost struct {
	bytes      int64
	goroutines float64
}

func (c connCost) String() string {
	return fmt.Sprintf("%d bytes (%.1f KiB) and %.2f goroutines each", c.bytes, float64(c.bytes)/1024, c.goroutines)
}

// perConnection opens n streams with dial, which returns the connection
// and the client id it was given, and returns the growth per connection.
func perConnection(t *testing.T, n int, dial func() (net.Conn, string, error), opened func(id string)) connCost {
	t.Helper()
	measure := func() (int64, int) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc + m.StackInuse), runtime.NumGoroutine()
	}
	before, gBefore := measure()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, id, err := dial()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if opened != nil {
			opened(id)
		}
	}
	after, gAfter := measure()
	return connCost{bytes: (after - before) / int64(n), goroutines: float64(gAfter-gBefore) / float64(n)}
}

// dialRawSSE opens GET /api/realtime on a bare TCP connection and reads up
// to the first "id:" line.
func dialRawSSE(addr string) (net.Conn, string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(c, "GET /api/realtime HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	r := bufio.NewReaderSize(c, 512)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, "", err
		}
		if rest, ok := strings.CutPrefix(line, "id:"); ok {
			return c, strings.TrimSpace(rest), nil
		}
	}
}

// dialRawWS opens /api/realtime/ws on a bare TCP connection (so that the
// test's end of it costs as little as the SSE one's) and reads the connect
// message. The client never reads again; pings are 25 s away.
func dialRawWS(addr string) (net.Conn, string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (net.Conn, string, error) {
		c.Close()
		return nil, "", err
	}
	fmt.Fprintf(c, "GET /api/realtime/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	r := bufio.NewReaderSize(c, 512)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail(fmt.Errorf("upgrade: status %d", resp.StatusCode))
	}
	// One unmasked text frame, shorter than 64 KiB.
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fail(err)
	}
	size := int(hdr[1] & 0x7f)
	if size == 126 {
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return fail(err)
		}
		size = int(binary.BigEndian.Uint16(ext[:]))
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return fail(err)
	}
	var m wsMessage
	if err := json.Unmarshal(payload, &m); err != nil || m.Type != "connect" {
		return fail(fmt.Errorf("connect message %q: %v", payload, err))
	}
	return c, m.ClientID, nil
}
