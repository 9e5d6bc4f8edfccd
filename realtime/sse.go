package realtime

import (
	"errors"
	"net/http"
	"time"
)

// ServeSSE handles GET /api/realtime: it opens a Server-Sent Events stream
// for a new guest client, sends PB_CONNECT with the client id, then the
// events of the client's subscriptions, each frame carrying the client id
// as its "id:" line (the PocketBase SDK reads the id from lastEventId). It
// returns when the client disconnects, a write fails or times out, or the
// broker ends the stream (slow consumer, idle timeout, lifetime, Close).
//
// Middleware wrapping the ResponseWriter must implement
// Unwrap() http.ResponseWriter so flushing and deadlines reach the
// connection, and must not buffer or compress the stream.
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
	defer h.b.remove(c, reasonGone)

	rc := http.NewResponseController(w)
	// A stream lives far longer than any server-wide timeout. A past read
	// deadline would make net/http's background read cancel the request,
	// so it is lifted; writes get their own deadline below, per batch.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		h.log.Debug("realtime: clearing read deadline", "err", err)
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	// Stops nginx from buffering the stream.
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	idLine := make([]byte, 0, len("id:\n")+len(c.id))
	idLine = append(append(append(idLine, "id:"...), c.id...), '\n')

	connect := make([]byte, 0, 64+len(c.id))
	connect = append(connect, "event:PB_CONNECT\ndata:{\"clientId\":\""...)
	connect = append(connect, c.id...)
	connect = append(connect, "\"}\n\n"...)
	if err := h.writeSSE(w, rc, idLine, []*frame{{sse: connect}}); err != nil {
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())

	var batch []*frame
	done := r.Context().Done()
	for {
		select {
		case <-c.q.ready:
			batch = c.q.take(batch)
			if len(batch) == 0 {
				continue
			}
			err := h.writeSSE(w, rc, idLine, batch)
			n := len(batch)
			clear(batch)
			if cap(batch) > 32 {
				batch = nil
			}
			if err != nil {
				h.log.Debug("realtime: SSE write failed", "client", c.id, "err", err)
				return
			}
			h.b.stats.framesSent.Add(uint64(n))
			c.lastWrite.Store(time.Now().UnixNano())
		case <-c.done:
			// Bound the time net/http may spend finishing the response.
			_ = rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
			return
		case <-done:
			return
		}
	}
}

// writeSSE writes frames, each behind the client's id line, and flushes
// once, all under one write deadline.
func (h *Handler) writeSSE(w http.ResponseWriter, rc *http.ResponseController, idLine []byte, frames []*frame) error {
	if err := rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	for _, f := range frames {
		if _, err := w.Write(idLine); err != nil {
			return err
		}
		if _, err := w.Write(f.sse); err != nil {
			return err
		}
	}
	return rc.Flush()
}
