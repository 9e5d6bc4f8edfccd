package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/webhooks"
)

// MountJobs serves the job queue, crons and webhooks to superusers:
// /api/jobs, /api/crons (PocketBase's) and /api/webhooks.
func (s *Server) MountJobs(q *jobs.Queue, wh *webhooks.Service) {
	h := &jobsAPI{q: q, wh: wh}
	s.Handle("GET /api/jobs", s.superusersOnly(h.listJobs))
	s.Handle("GET /api/jobs/{id}", s.superusersOnly(h.viewJob))
	s.Handle("POST /api/jobs/{id}/retry", s.superusersOnly(h.retryJob))
	s.Handle("POST /api/jobs/{id}/cancel", s.superusersOnly(h.cancelJob))
	s.Handle("GET /api/crons", s.superusersOnly(h.listCrons))
	s.Handle("POST /api/crons/{id}", s.superusersOnly(h.runCron))
	s.Handle("GET /api/webhooks", s.superusersOnly(h.listWebhooks))
	s.Handle("POST /api/webhooks", s.withBodyLimits(s.adminLimits, s.superusersOnly(h.createWebhook)))
	s.Handle("GET /api/webhooks/{id}", s.superusersOnly(h.viewWebhook))
	s.Handle("PATCH /api/webhooks/{id}", s.withBodyLimits(s.adminLimits, s.superusersOnly(h.updateWebhook)))
	s.Handle("DELETE /api/webhooks/{id}", s.superusersOnly(h.deleteWebhook))
	s.Handle("GET /api/webhooks/{id}/deliveries", s.superusersOnly(h.listDeliveries))
	s.Handle("POST /api/webhooks/{id}/deliveries/{delivery}/retry", s.superusersOnly(h.retryDelivery))
}

type jobsAPI struct {
	q  *jobs.Queue
	wh *webhooks.Service
}

// jobsError maps the queue's errors to API errors.
func jobsError(err error) error {
	switch {
	case errors.Is(err, jobs.ErrNotFound), errors.Is(err, jobs.ErrUnknownCron):
		return notFound()
	case errors.Is(err, jobs.ErrBadParams):
		return badRequest(strings.TrimPrefix(err.Error(), jobs.ErrBadParams.Error()+": "), err)
	}
	return err
}

func jobID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound()
	}
	return id, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (h *jobsAPI) listJobs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := jobs.ListParams{States: splitList(q.Get("state")), Kinds: splitList(q.Get("kind")), Queues: splitList(q.Get("queue"))}
	for name, dst := range map[string]*int64{"perPage": nil, "after": &p.After} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badRequest("Invalid "+name+".", err)
		}
		if dst != nil {
			*dst = n
		} else {
			p.Limit = int(min(n, 1000))
		}
	}
	items, err := h.q.List(r.Context(), p)
	if err != nil {
		return jobsError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (h *jobsAPI) viewJob(w http.ResponseWriter, r *http.Request) error {
	return h.jobAction(w, r, h.q.Get)
}

func (h *jobsAPI) retryJob(w http.ResponseWriter, r *http.Request) error {
	return h.jobAction(w, r, h.q.Retry)
}

func (h *jobsAPI) cancelJob(w http.ResponseWriter, r *http.Request) error {
	return h.jobAction(w, r, h.q.CancelJob)
}

func (h *jobsAPI) jobAction(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, id int64) (*jobs.JobInfo, error)) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	j, err := fn(r.Context(), id)
	if err != nil {
		return jobsError(err)
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (h *jobsAPI) listCrons(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, h.q.Crons())
	return nil
}

func (h *jobsAPI) runCron(w http.ResponseWriter, r *http.Request) error {
	if err := h.q.RunCron(r.Context(), r.PathValue("id")); err != nil {
		return jobsError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *jobsAPI) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	items, err := h.wh.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"page": 1, "perPage": len(items), "totalItems": len(items), "totalPages": 1, "items": items})
	return nil
}

func decodeWebhook(r *http.Request) (webhooks.Input, error) {
	var in webhooks.Input
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return in, err
		}
		return in, badRequest("Invalid JSON body.", err)
	}
	return in, nil
}

func (h *jobsAPI) createWebhook(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeWebhook(r)
	if err != nil {
		return err
	}
	wh, err := h.wh.Create(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (h *jobsAPI) viewWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := h.wh.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (h *jobsAPI) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeWebhook(r)
	if err != nil {
		return err
	}
	wh, err := h.wh.Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (h *jobsAPI) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := h.wh.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *jobsAPI) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	p := webhooks.DeliveryParams{Status: r.URL.Query().Get("status")}
	if v := r.URL.Query().Get("perPage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badRequest("Invalid perPage.", err)
		}
		p.Limit = n
	}
	items, err := h.wh.Deliveries(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (h *jobsAPI) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := h.wh.RetryDelivery(r.Context(), r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// PruneLogsNow deletes log entries older than the settings' maxDays (the
// cron __pbLogsCleanup__ runs it).
func (s *Server) PruneLogsNow(ctx context.Context) error {
	if s.cfg.Logs == nil {
		return nil
	}
	days := s.currentSettings().s.Logs.MaxDays
	if days <= 0 {
		return nil
	}
	_, err := s.cfg.Logs.Prune(ctx, time.Now().AddDate(0, 0, -days))
	return err
}

// SetMailQueue makes the auth flows' emails go through enqueue (a job of
// the queue) while SMTP is enabled, so that they are retried while the
// server is down and each is visible as a job. Development mail (SMTP off)
// still lands in the dev mailbox at once. Call it before serving.
func (s *Server) SetMailQueue(enqueue func(ctx context.Context, m *mailer.Message) error) {
	s.sys.mailQueue = enqueue
}

// SendMailNow sends an email with the sender of the settings in force (the
// mail job's worker).
func (s *Server) SendMailNow(ctx context.Context, m *mailer.Message) error {
	return s.currentSettings().sender.Send(ctx, m)
}

// queuedSender is the sender the auth flows get.
func (s *Server) queuedSender(l *liveSettings) mailer.Sender {
	if s.sys.mailQueue == nil || !l.s.SMTP.Enabled || l.sender == mailer.Sender(s.sys.devMail) {
		return l.sender
	}
	return mailQueueSender(s.sys.mailQueue)
}

// mailQueueSender enqueues instead of sending.
type mailQueueSender func(ctx context.Context, m *mailer.Message) error

func (f mailQueueSender) Send(ctx context.Context, m *mailer.Message) error { return f(ctx, m) }
