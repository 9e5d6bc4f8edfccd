package realtime

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// ServeSSE handles GET /api/realtime: it opens a Server-Sent Events stream
// for a new guest client, sends PB_CONNECT with the client id, then the
// events of the client's subscriptions, each frame carrying the client id
// as its "id:" line (the PocketBase SDK reads the id from lastEventId).
// The stream ends when the client disconnects, a write fails or times out,
// or the broker ends it (slow consumer, idle timeout, lifetime, Close).
//
// On HTTP/1.1 the handler hijacks the connection, writes the response
// head and PB_CONNECT itself and returns: an idle stream then costs no
// goroutine, no net/http buffers, only the connection and the client (see
// sseConn). Where the connection cannot be hijacked (HTTP/2, HTTP/1.0,
// ResponseWriters without Hijack) the handler keeps the response and waits
// for the stream to end (see sseResponse). The wire is the same: a
// chunked 200 response, one chunk per batch of frames.
//
// Middleware wrapping the ResponseWriter must implement
// Unwrap() http.ResponseWriter so hijacking, flushing and deadlines reach
// the connection, and must not buffer or compress the stream. Headers it
// sets on w.Header() are sent.
func (h *Handler) ServeSSE(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		// GET patterns also match HEAD; a HEAD stream would have no body
		// to carry events and would only wait for the idle timeout.
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		return
	}
	c, err := h.b.register(kindSSE, Auth{})
	if err != nil {
		h.cfg.WriteError(w, r, http.StatusServiceUnavailable, msgShuttingDown)
		return
	}
	idLine := make([]byte, 0, len("id:\n")+len(c.id))
	idLine = append(append(append(idLine, "id:"...), c.id...), '\n')
	connect := &frame{sse: connectFrame(c.id)}

	if r.ProtoMajor == 1 && r.ProtoMinor >= 1 {
		hdr := w.Header() // what middleware set, to send with ours
		// The request has no body to read: the returned reader and its
		// buffer are dropped with the rest of net/http's connection state.
		conn, _, err := http.NewResponseController(w).Hijack()
		switch {
		case err == nil:
			h.serveHijacked(conn, hdr, c, idLine, connect)
			return
		case !errors.Is(err, http.ErrNotSupported):
			h.log.Debug("realtime: SSE hijack failed", "client", c.id, "err", err)
			h.b.remove(c, reasonGone)
			return
		}
	}
	h.serveResponse(w, r, c, idLine, connect)
}

// connectFrame is the PB_CONNECT frame, without its id line.
func connectFrame(id string) []byte {
	f := make([]byte, 0, 64+len(id))
	f = append(f, "event:PB_CONNECT\ndata:{\"clientId\":\""...)
	f = append(f, id...)
	return append(f, "\"}\n\n"...)
}

// setStreamHeaders adds the SSE headers to those middleware may have set.
func setStreamHeaders(hdr http.Header) {
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	// Stops nginx from buffering the stream.
	hdr.Set("X-Accel-Buffering", "no")
}

// appendFrames appends frames to dst, each behind the client's id line.
func appendFrames(dst, idLine []byte, frames []*frame) []byte {
	for _, f := range frames {
		dst = append(dst, idLine...)
		dst = append(dst, f.sse...)
	}
	return dst
}

// serveHijacked starts the stream on a hijacked HTTP/1.1 connection and
// hands it to the broker; the handler then returns.
func (h *Handler) serveHijacked(conn net.Conn, hdr http.Header, c *client, idLine []byte, connect *frame) {
	s := &sseConn{h: h, conn: conn, idLine: idLine}
	// Hijack lifts net/http's deadlines already; nobody reads this
	// connection again (the sweeper only peeks), so none is set.
	_ = conn.SetReadDeadline(time.Time{})
	if err := s.start(hdr, connect); err != nil {
		h.log.Debug("realtime: SSE write failed", "client", c.id, "err", err)
		_ = conn.Close()
		h.b.remove(c, reasonGone)
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())
	if !h.b.attach(c, s) {
		s.end(reasonShutdown)
	}
}

// sseConn is an SSE stream on a hijacked HTTP/1.1 connection: this
// package writes the chunked response that net/http would have written,
// one chunk per batch of frames, and ends it with the last chunk. It holds
// only the connection and the client's id line; no goroutine reads the
// connection, so the broker's sweeper checks it for a closed peer
// (peerGone).
type sseConn struct {
	h      *Handler
	conn   net.Conn
	idLine []byte
	// broken is set when a write failed: the chunk stream is then cut
	// and may not be ended properly. Only the flush goroutine uses it.
	broken bool
}

// maxPooledChunk bounds the buffers kept in Handler.chunkBufs.
const maxPooledChunk = 64 << 10

// start writes the response head and the first chunk (PB_CONNECT) in one
// write. hdr holds the headers middleware set (CORS and such).
func (s *sseConn) start(hdr http.Header, connect *frame) error {
	setStreamHeaders(hdr)
	hdr.Del("Content-Length")
	hdr.Set("Transfer-Encoding", "chunked")
	// The connection is closed after the stream: a client must not send
	// its next request (an EventSource reconnecting) on it.
	hdr.Set("Connection", "close")
	if _, ok := hdr["Date"]; !ok {
		hdr.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	var buf bytes.Buffer
	buf.WriteString("HTTP/1.1 200 OK\r\n")
	if err := hdr.Write(&buf); err != nil {
		return err
	}
	buf.WriteString("\r\n")
	return s.send(appendChunk(buf.Bytes(), s.idLine, []*frame{connect}), s.h.cfg.WriteTimeout)
}

func (s *sseConn) write(frames []*frame) error {
	bp := s.h.chunkBufs.Get().(*[]byte)
	buf := appendChunk((*bp)[:0], s.idLine, frames)
	err := s.send(buf, s.h.cfg.WriteTimeout)
	if cap(buf) <= maxPooledChunk {
		*bp = buf
		s.h.chunkBufs.Put(bp)
	}
	return err
}

// send writes p under a deadline.
func (s *sseConn) send(p []byte, timeout time.Duration) error {
	err := writeDeadlined(s.conn, p, timeout)
	if err != nil {
		s.broken = true
	}
	return err
}

// lastChunk ends a chunked body (no trailers).
const lastChunk = "0\r\n\r\n"

// end writes the last chunk, so the client sees a complete response and
// reconnects, and closes the connection. After a failed write, or when the
// peer is gone, it only closes.
func (s *sseConn) end(r closeReason) {
	if !s.broken && r != reasonGone {
		_ = s.send([]byte(lastChunk), min(s.h.cfg.WriteTimeout, time.Second))
	}
	_ = s.conn.Close()
}

func (s *sseConn) peerGone() bool { return peerClosed(s.conn) }

// appendChunk appends frames as one chunk of a chunked body: the size in
// hex, CRLF, the frames (each behind the id line), CRLF.
func appendChunk(dst, idLine []byte, frames []*frame) []byte {
	size := 0
	for _, f := range frames {
		size += len(idLine) + len(f.sse)
	}
	dst = strconv.AppendUint(dst, uint64(size), 16)
	dst = append(dst, "\r\n"...)
	dst = appendFrames(dst, idLine, frames)
	return append(dst, "\r\n"...)
}

// serveResponse runs the stream as an ordinary response, for connections
// that cannot be hijacked: the handler goroutine keeps the response alive
// while the flush goroutines write to it, and returns once the stream has
// ended.
func (h *Handler) serveResponse(w http.ResponseWriter, r *http.Request, c *client, idLine []byte, connect *frame) {
	rc := http.NewResponseController(w)
	// A stream lives far longer than any server-wide timeout. A past read
	// deadline would make net/http's background read cancel the request,
	// so it is lifted; writes get their own deadline, per batch.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		h.log.Debug("realtime: clearing read deadline", "err", err)
	}
	setStreamHeaders(w.Header())
	w.WriteHeader(http.StatusOK)

	s := &sseResponse{h: h, w: w, rc: rc, idLine: idLine, ended: make(chan struct{})}
	if err := s.write([]*frame{connect}); err != nil {
		h.log.Debug("realtime: SSE write failed", "client", c.id, "err", err)
		h.b.remove(c, reasonGone)
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())
	if !h.b.attach(c, s) {
		return
	}
	select {
	case <-s.ended:
	case <-r.Context().Done():
		h.b.remove(c, reasonGone)
		// w must stay valid until the flush goroutine is done with it.
		<-s.ended
	}
}

// sseResponse is an SSE stream written through its handler's
// ResponseWriter (net/http frames the chunks).
type sseResponse struct {
	h      *Handler
	w      http.ResponseWriter
	rc     *http.ResponseController
	idLine []byte
	ended  chan struct{} // closed by end: the handler may return
}

// write writes frames and flushes once, under one write deadline.
func (s *sseResponse) write(frames []*frame) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(s.h.cfg.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	bp := s.h.chunkBufs.Get().(*[]byte)
	buf := appendFrames((*bp)[:0], s.idLine, frames)
	_, err := s.w.Write(buf)
	if cap(buf) <= maxPooledChunk {
		*bp = buf
		s.h.chunkBufs.Put(bp)
	}
	if err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *sseResponse) end(closeReason) {
	// Bound the time net/http may spend finishing the response.
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.h.cfg.WriteTimeout))
	close(s.ended)
}
