package realtime

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawStream is an SSE stream read off a bare TCP connection, chunk by
// chunk, to check the framing this package writes itself.
type rawStream struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	head http.Header
	id   string
}

// openRaw sends GET /api/realtime on a new connection, reads the head and
// the PB_CONNECT chunk.
func openRaw(t *testing.T, addr string) *rawStream {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(2 * wait))
	fmt.Fprintf(conn, "GET /api/realtime HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	s := &rawStream{t: t, conn: conn, r: bufio.NewReader(conn)}
	tp := textproto.NewReader(s.r)
	status, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	if status != "HTTP/1.1 200 OK" {
		t.Fatalf("status line %q", status)
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	s.head = http.Header(mh)
	first := s.chunk()
	id, _, _ := strings.Cut(strings.TrimPrefix(first, "id:"), "\n")
	if want := "id:" + id + "\nevent:PB_CONNECT\ndata:{\"clientId\":\"" + id + "\"}\n\n"; first != want {
		t.Fatalf("first chunk %q, want %q", first, want)
	}
	s.id = id
	return s
}

// chunk reads one chunk of the body; "" is the last chunk.
func (s *rawStream) chunk() string {
	s.t.Helper()
	line, err := s.r.ReadString('\n')
	if err != nil {
		s.t.Fatalf("chunk size: %v", err)
	}
	size, err := strconv.ParseUint(strings.TrimSuffix(line, "\r\n"), 16, 32)
	if err != nil || !strings.HasSuffix(line, "\r\n") {
		s.t.Fatalf("chunk size line %q", line)
	}
	data := make([]byte, size+2)
	if _, err := io.ReadFull(s.r, data); err != nil {
		s.t.Fatalf("chunk of %d bytes: %v", size, err)
	}
	if string(data[size:]) != "\r\n" {
		s.t.Fatalf("chunk %q does not end with CRLF", data)
	}
	return string(data[:size])
}

// TestSSEChunkedWire: the hijacked stream is the chunked response net/http
// would have written: one chunk per batch, each frame behind the id line.
func TestSSEChunkedWire(t *testing.T) {
	t.Parallel()
	e := setup(t)
	s := openRaw(t, e.srv.Listener.Addr().String())
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-store",
		"X-Accel-Buffering": "no",
		"Transfer-Encoding": "chunked",
		"Connection":        "close",
	} {
		if got := s.head.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if _, err := http.ParseTime(s.head.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", s.head.Get("Date"), err)
	}
	e.subscribe(t, "", s.id, "posts/*")
	e.publish(t, "posts", "r1", "create", `{"id":"r1"}`)
	want := "id:" + s.id + "\nevent:posts/*\ndata:{\"action\":\"create\",\"record\":{\"id\":\"r1\"}}\n\n"
	if got := s.chunk(); got != want {
		t.Fatalf("event chunk %q, want %q", got, want)
	}
}

// TestSSEChunkedWithHTTPClient: Go's client parses the hijacked stream as
// an ordinary chunked response.
func TestSSEChunkedWithHTTPClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, err := e.srv.Client().Get(e.srv.URL + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("status %d, transfer encoding %v", resp.StatusCode, resp.TransferEncoding)
	}
	r := bufio.NewReader(resp.Body)
	line := func() string {
		t.Helper()
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	id := strings.TrimSpace(strings.TrimPrefix(line(), "id:"))
	if l := line(); l != "event:PB_CONNECT\n" {
		t.Fatalf("got %q", l)
	}
	line() // data
	line() // blank
	e.subscribe(t, "", id, "posts/*")
	e.publish(t, "posts", "r1", "update", `{}`)
	for _, want := range []string{"id:" + id + "\n", "event:posts/*\n", "data:{\"action\":\"update\",\"record\":{}}\n", "\n"} {
		if l := line(); l != want {
			t.Fatalf("got %q, want %q", l, want)
		}
	}
}

// TestSSEShutdownEndsChunkedStream: Close ends a hijacked stream with the
// last chunk, then closes the connection.
func TestSSEShutdownEndsChunkedStream(t *testing.T) {
	t.Parallel()
	e := setup(t)
	s := openRaw(t, e.srv.Listener.Addr().String())
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	// chunk reads "0\r\n\r\n" as an empty chunk.
	if got := s.chunk(); got != "" {
		t.Fatalf("got chunk %q, want the last chunk", got)
	}
	if rest, err := io.ReadAll(s.r); err != nil || len(rest) != 0 {
		t.Fatalf("after the last chunk: %q %v, want the end of the connection", rest, err)
	}
}

// TestSSEPeerCloseDetected: nothing reads a hijacked connection; the
// sweeper notices that the client closed it and removes the client.
func TestSSEPeerCloseDetected(t *testing.T) {
	t.Parallel()
	e := setup(t)
	addr := e.srv.Listener.Addr().String()
	gone, stays := openRaw(t, addr), openRaw(t, addr)
	e.subscribe(t, "", gone.id, "posts/*")
	if got := e.b.Stats().SSEClients; got != 2 {
		t.Fatalf("SSE clients %d", got)
	}
	start := time.Now()
	gone.conn.Close()
	eventually(t, 3*peerCheckInterval+time.Second, "the closed client to be removed", func() bool {
		s := e.b.Stats()
		return s.SSEClients == 1 && s.Subscriptions == 0
	})
	t.Logf("removed %v after the peer closed", time.Since(start).Round(time.Millisecond))
	if status, _ := e.post(t, "", map[string]any{"clientId": gone.id, "subscriptions": []string{}}); status != 404 {
		t.Fatalf("closed client still known: %d", status)
	}
	// The other stream is untouched.
	e.subscribe(t, "", stays.id, "posts/*")
	e.publish(t, "posts", "r1", "create", `{}`)
	if got := stays.chunk(); !strings.Contains(got, "event:posts/*") {
		t.Fatalf("got %q", got)
	}
}

// TestSSEPeerCloseDetectedWhileBusy: the sweeper skips the peer check of a
// client written to within the last second, so a closed peer that keeps
// getting events must be removed by a failed write instead, within the
// same bound as an idle one.
func TestSSEPeerCloseDetectedWhileBusy(t *testing.T) {
	t.Parallel()
	e := setup(t)
	addr := e.srv.Listener.Addr().String()
	gone, stays := openRaw(t, addr), openRaw(t, addr)
	e.subscribe(t, "", gone.id, "posts/*")
	e.subscribe(t, "", stays.id, "posts/*")
	go func() { _, _ = io.Copy(io.Discard, stays.r) }()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(peerCheckInterval / 4)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = e.b.Publish(context.Background(), Event{CollectionID: "pbc_posts", CollectionName: "posts", RecordID: "r1", Action: "update", Data: json.RawMessage(`{}`)})
			}
		}
	}()
	time.Sleep(peerCheckInterval / 2)
	start := time.Now()
	gone.conn.Close()
	eventually(t, 3*peerCheckInterval+time.Second, "the closed client to be removed", func() bool {
		return e.b.Stats().SSEClients == 1
	})
	t.Logf("removed %v after the peer closed", time.Since(start).Round(time.Millisecond))
}

// TestSSEPeerSendsBytes: stray bytes from the client (it should send none
// after its request) neither end the stream nor hide its later close.
func TestSSEPeerSendsBytes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	s := openRaw(t, e.srv.Listener.Addr().String())
	if _, err := s.conn.Write([]byte("GET /other HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(peerCheckInterval + 500*time.Millisecond) // past a peer check
	if got := e.b.Stats().SSEClients; got != 1 {
		t.Fatalf("SSE clients %d after stray bytes", got)
	}
	s.conn.Close()
	eventually(t, 3*peerCheckInterval+time.Second, "the closed client to be removed", func() bool { return e.b.Stats().SSEClients == 0 })
}

// unwrapper is middleware's usual ResponseWriter wrapper.
type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// TestSSEKeepsMiddlewareHeaders: headers that middleware set on w.Header()
// (CORS) are part of the head written on the hijacked connection, also
// through a wrapped ResponseWriter.
func TestSSEKeepsMiddlewareHeaders(t *testing.T) {
	t.Parallel()
	e := setup(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Add("Vary", "Origin")
		e.h.ServeSSE(unwrapper{w}, r)
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}
	if got := resp.Header.Get("Vary"); got != "Origin" {
		t.Errorf("Vary %q", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type %q", got)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "id:") {
		t.Fatalf("first line %q %v", line, err)
	}
}

// TestSSEWithoutHijack: where the connection cannot be hijacked (HTTP/2,
// HTTP/1.0) the handler keeps the response and the stream works the same.
func TestSSEWithoutHijack(t *testing.T) {
	t.Parallel()
	t.Run("HTTP/2", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		srv := httptest.NewUnstartedServer(e.srv.Config.Handler)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/realtime", nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("protocol %s", resp.Proto)
		}
		c := &sseClient{t: t, resp: resp, frames: make(chan sseFrame, 16), done: make(chan struct{}), cancel: cancel}
		go c.read()
		first := c.next()
		if first.Event != "PB_CONNECT" {
			t.Fatalf("first frame %+v", first)
		}
		e.subscribe(t, "", first.ID, "posts/*")
		e.publish(t, "posts", "r1", "create", `{}`)
		if f := c.next(); f.Event != "posts/*" || f.ID != first.ID {
			t.Fatalf("got %+v", f)
		}
		// A client that goes away is removed by its handler.
		cancel()
		eventually(t, wait, "the client to be removed", func() bool { return e.b.Stats().Clients == 0 })
	})
	t.Run("HTTP/1.0", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /api/realtime HTTP/1.0\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || len(resp.TransferEncoding) != 0 {
			t.Fatalf("status %d, transfer encoding %v", resp.StatusCode, resp.TransferEncoding)
		}
		if err := e.b.Close(); err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body) // to the end of the connection
		if err != nil || !strings.Contains(string(body), "event:PB_CONNECT\n") {
			t.Fatalf("body %q %v", body, err)
		}
	})
}
