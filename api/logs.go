package api

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/plinthdev/plinth/logs"
	"github.com/plinthdev/plinth/schema"
)

// LogStore keeps the request and application log (package logs).
type LogStore interface {
	Add(logs.Entry)
	List(ctx context.Context, q logs.ListParams) ([]logs.Entry, int, error)
	Get(ctx context.Context, id string) (*logs.Entry, error)
	Stats(ctx context.Context, filter string) ([]logs.Stat, error)
	Prune(ctx context.Context, before time.Time) (int64, error)
}

// logNote is filled in by inner middleware for what observe records once
// the request is done: the authenticated record (request log) and the
// matched route pattern (metrics). The pattern cannot be read from the
// request observe holds: the mux sets it on the request it is given,
// which middleware in between may have replaced (WithContext).
type logNote struct {
	auth    *schema.Record
	pattern string
}

type logNoteKey struct{}

// noteAuth tells the request log who the request is authenticated as.
func noteAuth(ctx context.Context, rec *schema.Record) {
	if n, _ := ctx.Value(logNoteKey{}).(*logNote); n != nil {
		n.auth = rec
	}
}

// notePattern tells observe the route pattern the mux matched for r.
func notePattern(r *http.Request) {
	if n, _ := r.Context().Value(logNoteKey{}).(*logNote); n != nil {
		n.pattern = r.Pattern
	}
}

// withLogNote prepares a request for logging and metrics.
func (s *Server) withLogNote(r *http.Request) (*http.Request, *logNote) {
	n := &logNote{}
	return r.WithContext(context.WithValue(r.Context(), logNoteKey{}, n)), n
}

// logRequest adds the entry of one finished request, as PocketBase's
// request log shows it; the URL is stored without secrets (file tokens,
// OAuth2 codes) and nothing of the body or headers but the user agent and
// referer is kept.
func (s *Server) logRequest(r *http.Request, n *logNote, status int, d time.Duration) {
	if n == nil || s.cfg.Logs == nil {
		return
	}
	cfg := s.currentSettings().s.Logs
	if cfg.MaxDays <= 0 {
		return
	}
	level := 0
	switch {
	case status >= 500:
		level = 8
	case status >= 400:
		level = 4
	}
	if level < cfg.MinLevel || level == 0 && cfg.SampleRate < 1 && rand.Float64() >= cfg.SampleRate {
		return
	}
	// Encoded here rather than as a map: this runs on every request.
	buf := make([]byte, 0, 256)
	buf = append(buf, `{"type":"request","status":`...)
	buf = strconv.AppendInt(buf, int64(status), 10)
	buf = append(buf, `,"method":`...)
	buf = schema.AppendJSONString(buf, r.Method)
	buf = append(buf, `,"url":`...)
	buf = schema.AppendJSONString(buf, logs.RedactURL(r.URL))
	buf = append(buf, `,"execTime":`...)
	buf = strconv.AppendFloat(buf, float64(d.Microseconds())/1000, 'f', -1, 64)
	buf = append(buf, `,"auth":`...)
	if n.auth != nil {
		buf = schema.AppendJSONString(buf, n.auth.Collection.Name)
		if cfg.LogAuthID {
			buf = append(buf, `,"authId":`...)
			buf = schema.AppendJSONString(buf, n.auth.ID())
		}
	} else {
		buf = append(buf, `""`...)
	}
	buf = append(buf, `,"referer":`...)
	buf = schema.AppendJSONString(buf, r.Referer())
	buf = append(buf, `,"userAgent":`...)
	buf = schema.AppendJSONString(buf, r.UserAgent())
	if cfg.LogIP {
		buf = append(buf, `,"userIP":`...)
		buf = schema.AppendJSONString(buf, s.clientIP(r))
		buf = append(buf, `,"remoteIP":`...)
		buf = schema.AppendJSONString(buf, r.RemoteAddr)
	}
	if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
		buf = append(buf, `,"traceId":"`...)
		buf = append(buf, sc.TraceID().String()...)
		buf = append(buf, '"')
	}
	buf = append(buf, '}')
	s.cfg.Logs.Add(logs.Entry{Level: level, Message: r.Method + " " + r.URL.Path, RawData: buf})
}

func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := pageParams(r)
	if err != nil {
		return err
	}
	if s.cfg.Logs == nil {
		writeJSON(w, http.StatusOK, map[string]any{"page": page, "perPage": perPage, "totalItems": 0, "totalPages": 0, "items": []any{}})
		return nil
	}
	q := r.URL.Query()
	items, total, err := s.cfg.Logs.List(r.Context(), logs.ListParams{Filter: q.Get("filter"), Sort: q.Get("sort"), Page: page, PerPage: perPage})
	if err != nil {
		return err
	}
	if items == nil {
		items = []logs.Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"page": page, "perPage": perPage, "totalItems": total, "totalPages": (total + perPage - 1) / perPage, "items": items,
	})
	return nil
}

func (s *Server) viewLog(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Logs == nil {
		return notFound()
	}
	e, err := s.cfg.Logs.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, logs.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) logStats(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Logs == nil {
		writeJSON(w, http.StatusOK, []logs.Stat{})
		return nil
	}
	stats, err := s.cfg.Logs.Stats(r.Context(), r.URL.Query().Get("filter"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stats)
	return nil
}

// PruneLogs deletes entries older than the settings' maxDays, hourly,
// until ctx ends.
func (s *Server) PruneLogs(ctx context.Context) {
	if s.cfg.Logs == nil {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if days := s.currentSettings().s.Logs.MaxDays; days > 0 {
			if _, err := s.cfg.Logs.Prune(ctx, time.Now().AddDate(0, 0, -days)); err != nil && ctx.Err() == nil {
				s.log.Warn("logs: prune failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
