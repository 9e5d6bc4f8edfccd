package plinth

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthdev/plinth/api"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
	"github.com/plinthdev/plinth/webhooks"
)

// openJobs builds the job queue and the webhooks and serves them under
// /api/jobs, /api/crons and /api/webhooks. The queue starts with Serve
// (or StartJobs), once the application has registered its job kinds;
// jobs enqueued before wait in the database.
func openJobs(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger, reg prometheus.Registerer, srv *api.Server, sealer webhooks.Sealer) (*jobs.Queue, *webhooks.Service, error) {
	var q *jobs.Queue
	metrics := jobs.NewMetrics(reg, func(ctx context.Context) (map[string]int64, error) { return q.StateCounts(ctx) })
	q, err := jobs.New(jobs.Config{Store: st, Log: log, Metrics: metrics, RescueAfter: cfg.JobsRescueAfter})
	if err != nil {
		return nil, nil, err
	}
	wh, err := webhooks.New(ctx, webhooks.Config{Store: st, Queue: q, Log: log, Sealer: sealer,
		AllowPrivateNetworks: func() bool { return srv.Settings().Webhooks.AllowPrivateNetworks }})
	if err != nil {
		return nil, nil, err
	}
	srv.MountJobs(q, wh)
	jobs.Register(q, func(ctx context.Context, j *jobs.Job[mailArgs]) error {
		err := srv.SendMailNow(ctx, &j.Args.Message)
		if err != nil {
			// Logged here, by subject, because the queue's own log line
			// names neither; never the recipient nor the body, which
			// holds the token or code.
			log.Error("mail: sending failed", "subject", j.Args.Message.Subject,
				"job", j.ID, "attempt", j.Attempt, "maxAttempts", j.MaxAttempts, "err", err)
		}
		return err
	}, jobs.WorkerOpts{MaxAttempts: mailAttempts, Timeout: time.Minute})
	srv.SetMailQueue(func(ctx context.Context, m *mailer.Message) error {
		_, err := q.Enqueue(ctx, mailArgs{Message: *m}, &jobs.Opts{MaxAttempts: mailAttempts})
		return err
	})
	return q, wh, nil
}

// mailAttempts retries an email for about six days (River's backoff,
// attempt⁴ seconds).
const mailAttempts = 20

// mailArgs is the job of one email sent through SMTP.
type mailArgs struct {
	Message mailer.Message `json:"message"`
}

func (mailArgs) Kind() string { return "plinth.mail" }

// addBuiltinCrons puts Plinth's own periodic work on the cron scheduler,
// so that with several instances on PostgreSQL each runs once per tick:
// log retention (PocketBase's id) and, at the default interval, the sweep
// of unreferenced files.
func (a *App) addBuiltinCrons() error {
	if err := a.jobs.AddCron("__pbLogsCleanup__", "0 * * * *", a.srv.PruneLogsNow); err != nil {
		return err
	}
	if a.files != nil {
		// PocketBase's id for its backup cron.
		if err := a.jobs.AddCron("__pbDBBackup__", "* * * * *", a.scheduledBackup); err != nil {
			return err
		}
	}
	if a.files != nil && a.cfg.FileSweepInterval == 0 {
		sw := &files.Sweeper{Storage: a.files, Referenced: (&record.Service{Store: a.store}).FileReferenced, Grace: a.cfg.FileSweepGrace, Logger: a.log}
		return a.jobs.AddCron("__plinthFileSweep__", "0 */6 * * *", func(ctx context.Context) error {
			_, err := sw.Sweep(ctx)
			return err
		})
	}
	return nil
}

// StartJobs starts working jobs: the queue's workers, its cron
// scheduler and the webhook deliveries. Serve calls it; Go code that
// embeds the App without serving it calls it once its job kinds are
// registered (jobs.Register panics afterwards). It runs until Close.
func (a *App) StartJobs(ctx context.Context) error {
	if err := a.addBuiltinCrons(); err != nil {
		return err
	}
	if err := a.jobs.Start(ctx); err != nil {
		return err
	}
	a.webhooks.Start(ctx)
	return nil
}

// closeJobs stops the queue: running jobs get a few seconds to finish,
// then are cancelled and retried after the next start.
func (a *App) closeJobs() {
	if a.jobs == nil {
		return
	}
	a.webhooks.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.jobs.Stop(ctx); err != nil {
		a.log.Warn("job queue stopped with errors", "err", err)
	}
	a.jobs = nil
}

// Jobs is the durable job queue: register job kinds (jobs.Register),
// enqueue in a record transaction (EnqueueTx) or not (Enqueue), add crons
// (AddCron). See docs/jobs.md.
func (a *App) Jobs() *jobs.Queue { return a.jobs }

// Webhooks manages the webhooks (the /api/webhooks logic for Go code).
func (a *App) Webhooks() *webhooks.Service { return a.webhooks }
