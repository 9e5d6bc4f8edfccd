package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/plinthdev/plinth/store"
)

// Args are a job's arguments: a JSON-encodable struct whose Kind names the
// job kind (unique per application; Plinth's own start with "plinth.").
type Args interface {
	Kind() string
}

// Job is one run of a job, handed to its worker.
type Job[T Args] struct {
	ID int64
	// Attempt counts runs, this one included (1 on the first).
	Attempt     int
	MaxAttempts int
	// CreatedAt is when the job was enqueued.
	CreatedAt time.Time
	Args      T
}

// Opts tune one enqueued job. The zero value takes the defaults: queue
// "default", priority 1, the kind's or the queue's max attempts, now.
type Opts struct {
	// Queue names the queue (default "default").
	Queue string `json:"queue,omitempty"`
	// Priority from 1 (first) to 4.
	Priority int `json:"priority,omitempty"`
	// MaxAttempts before the job is discarded (default 25, or the kind's).
	MaxAttempts int `json:"maxAttempts,omitempty"`
	// ScheduledAt delays the first run.
	ScheduledAt time.Time `json:"scheduledAt,omitzero"`
	// Unique, when set, enqueues nothing while a job of the same kind and
	// arguments is waiting, running or being retried.
	Unique bool `json:"unique,omitempty"`
	// Tags label the job for listing.
	Tags []string `json:"tags,omitempty"`
}

func (o *Opts) river() *river.InsertOpts {
	if o == nil {
		return nil
	}
	ro := &river.InsertOpts{Queue: o.Queue, Priority: o.Priority, MaxAttempts: o.MaxAttempts, ScheduledAt: o.ScheduledAt, Tags: o.Tags}
	if o.Unique {
		ro.UniqueOpts = river.UniqueOpts{ByArgs: true}
	}
	return ro
}

// WorkerOpts tune a job kind.
type WorkerOpts struct {
	// MaxAttempts is the kind's default (jobs' own Opts win).
	MaxAttempts int
	// Timeout bounds one run (default 1 minute; negative: none).
	Timeout time.Duration
	// Retry returns the pause after the failed attempt-th run (nil:
	// River's exponential backoff with jitter, attempt⁴ seconds).
	Retry func(attempt int) time.Duration
}

// Config configures the queue.
type Config struct {
	Store *store.Store
	// Log receives queue errors (nil: slog.Default()).
	Log *slog.Logger
	// Workers is how many jobs run at once in this instance (default 10).
	Workers int
	// PollInterval is how often workers look for jobs that other
	// instances or the scheduler made due (default 500 ms). Jobs enqueued
	// by this instance wake its drainer at once.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay running before it is taken
	// for dead (its instance crashed) and retried (default 5 minutes; it
	// must exceed every kind's timeout). On SQLite one process owns the
	// database, so jobs it finds running at start are retried at once.
	RescueAfter time.Duration
	// Metrics is told of runs (nil: none).
	Metrics *Metrics
}

// Queue is the job queue of one Plinth instance.
type Queue struct {
	st      *store.Store
	log     *slog.Logger
	workers *river.Workers
	client  *river.Client[*sql.Tx]
	metrics *Metrics
	// wake nudges the outbox drainer after a commit that enqueued jobs.
	wake chan struct{}
	poll time.Duration

	mu    sync.Mutex
	crons map[string]*Cron

	// lifeMu guards started, apart from mu: Stop waits for running jobs,
	// and a running cron job takes mu.
	lifeMu sync.Mutex
	// started is set by Start: River's worker registry may not change
	// while it runs.
	started bool
	stop    context.CancelFunc
	drained chan struct{}
}

// New builds the queue; Start runs it. Register job kinds and crons
// before Start (crons may also be added later).
func New(cfg Config) (*Queue, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 10
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = 5 * time.Minute
	}
	q := &Queue{
		st: cfg.Store, log: cfg.Log, workers: river.NewWorkers(), metrics: cfg.Metrics,
		wake: make(chan struct{}, 1), poll: cfg.PollInterval,
		crons: map[string]*Cron{},
	}
	var driver riverdriver.Driver[*sql.Tx]
	if cfg.Store.Dialect().Name() == "postgres" {
		driver = riverdatabasesql.New(cfg.Store.JobsDB())
	} else {
		driver = riversqlite.New(cfg.Store.JobsDB())
	}
	Register(q, func(ctx context.Context, j *Job[cronArgs]) error { return q.runCron(ctx, j.Args.ID) }, WorkerOpts{MaxAttempts: 1, Timeout: -1})
	client, err := river.NewClient(driver, &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              q.workers,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        50 * time.Millisecond,
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           min(time.Minute, cfg.RescueAfter),
		// River logs at info about its own routine work; warnings and
		// errors still reach the application's log.
		Logger:                      slog.New(levelFilter{cfg.Log.Handler(), slog.LevelWarn}),
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
		CompletedJobRetentionPeriod: 24 * time.Hour,
		PollOnly:                    true,
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	q.client = client
	return q, nil
}

// Register adds a job kind and the function that works it. A job whose
// function returns an error is retried (WorkerOpts.Retry) until its max
// attempts, then discarded and kept for inspection; return
// river.JobCancel-wrapped errors via Cancel to stop retrying.
//
// Kinds are registered before the queue starts (Start; App.Serve starts
// it); Register panics afterwards, as it does for a kind registered twice.
func Register[T Args](q *Queue, fn func(ctx context.Context, j *Job[T]) error, opts WorkerOpts) {
	var zero T
	q.lifeMu.Lock()
	defer q.lifeMu.Unlock()
	if q.started {
		panic("jobs: register kind " + zero.Kind() + " before the queue starts")
	}
	river.AddWorker(q.workers, &worker[T]{fn: fn, opts: opts, metrics: q.metrics})
}

// Cancel wraps err so that the job is cancelled instead of retried.
func Cancel(err error) error { return river.JobCancel(err) }

// worker adapts a job function to River.
type worker[T Args] struct {
	river.WorkerDefaults[T]
	fn      func(ctx context.Context, j *Job[T]) error
	opts    WorkerOpts
	metrics *Metrics
}

func (w *worker[T]) Work(ctx context.Context, j *river.Job[T]) error {
	start := time.Now()
	err := w.fn(ctx, &Job[T]{ID: j.ID, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt, Args: j.Args})
	w.metrics.observe(j.Kind, j.ScheduledAt, start, err)
	return err
}

func (w *worker[T]) NextRetry(j *river.Job[T]) time.Time {
	if w.opts.Retry == nil {
		return time.Time{}
	}
	return time.Now().Add(w.opts.Retry(j.Attempt))
}

func (w *worker[T]) Timeout(*river.Job[T]) time.Duration {
	if w.opts.Timeout == 0 {
		return time.Minute
	}
	return w.opts.Timeout
}

// Start runs the workers, the scheduler and the outbox drainer until Stop.
// Starting a started queue does nothing.
func (q *Queue) Start(ctx context.Context) error {
	q.lifeMu.Lock()
	defer q.lifeMu.Unlock()
	if q.started {
		return nil
	}
	if q.st.Dialect().Name() == "sqlite" {
		// Only this process uses the file: a job still marked running was
		// interrupted by a crash and is made available again at once.
		if _, err := q.st.JobsDB().ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = CURRENT_TIMESTAMP WHERE state = 'running'`); err != nil {
			return fmt.Errorf("job queue: requeue interrupted jobs: %w", err)
		}
	}
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	dctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	q.stop = stop
	q.drained = make(chan struct{})
	go q.drainLoop(dctx)
	q.started = true
	return nil
}

// Stop stops fetching jobs, lets running ones finish until ctx is done,
// then cancels them: a cancelled run counts as a failed attempt and is
// retried later, here or by another instance, so no job is lost.
func (q *Queue) Stop(ctx context.Context) error {
	q.lifeMu.Lock()
	defer q.lifeMu.Unlock()
	if !q.started {
		return nil
	}
	if q.stop != nil {
		q.stop()
		<-q.drained
		q.stop = nil
	}
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(sctx)
	}
	q.started = false
	return err
}

// Wake tells the drainer that the outbox has new jobs.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Enqueue inserts a job now, outside any record transaction.
func (q *Queue) Enqueue(ctx context.Context, args Args, opts *Opts) (int64, error) {
	res, err := q.client.Insert(ctx, args, opts.river())
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// EnqueueTx enqueues a job in tx: it runs if and only if tx commits.
// The job goes through the outbox (a row written in tx), which the
// drainer hands to the queue right after the commit.
func (q *Queue) EnqueueTx(ctx context.Context, tx *store.Tx, args Args, opts *Opts) error {
	a, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	var o []byte
	if opts != nil {
		if o, err = json.Marshal(opts); err != nil {
			return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
		}
	}
	return tx.Enqueue(ctx, args.Kind(), a, o, q.Wake)
}

// EnqueueManyInTx inserts jobs in a transaction on the queue's own
// database handle (store.Store.JobsDB), for services that write their
// rows and the jobs working them together.
func (q *Queue) EnqueueManyInTx(ctx context.Context, tx *sql.Tx, args []Args, opts *Opts) error {
	if len(args) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a, InsertOpts: opts.river()}
	}
	_, err := q.client.InsertManyTx(ctx, tx, params)
	return err
}

// rawArgs carries an outbox job's kind and JSON arguments into River.
type rawArgs struct {
	kind string
	raw  json.RawMessage
}

func (a rawArgs) Kind() string                 { return a.kind }
func (a rawArgs) MarshalJSON() ([]byte, error) { return a.raw, nil }

// drainLoop moves outbox rows into the queue when woken and on every
// poll (rows of other instances, or left by a crash between commit and
// drain).
func (q *Queue) drainLoop(ctx context.Context) {
	defer close(q.drained)
	t := time.NewTicker(q.poll)
	defer t.Stop()
	for {
		for {
			n, err := q.st.DrainOutbox(ctx, 200, func(tx *sql.Tx, items []store.OutboxItem) error {
				params := make([]river.InsertManyParams, len(items))
				for i, it := range items {
					var o Opts
					if err := json.Unmarshal(it.Opts, &o); err != nil {
						return fmt.Errorf("outbox item %d: %w", it.ID, err)
					}
					params[i] = river.InsertManyParams{Args: rawArgs{it.Kind, it.Args}, InsertOpts: o.river()}
				}
				_, err := q.client.InsertManyTx(ctx, tx, params)
				return err
			})
			if err != nil {
				if ctx.Err() == nil {
					q.log.Error("job queue: drain outbox", "err", err)
				}
				break
			}
			if n < 200 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-t.C:
		}
	}
}

// levelFilter drops records below a level.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h.Handler.WithAttrs(a), h.min}
}

func (h levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h.Handler.WithGroup(n), h.min}
}

// JobInfo is a job as the jobs API lists it.
type JobInfo struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Queue       string          `json:"queue"`
	State       string          `json:"state"`
	Priority    int             `json:"priority"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"maxAttempts"`
	Args        json.RawMessage `json:"args"`
	Errors      []string        `json:"errors"`
	Tags        []string        `json:"tags"`
	Created     time.Time       `json:"created"`
	Scheduled   time.Time       `json:"scheduled"`
	Attempted   *time.Time      `json:"attempted"`
	Finalized   *time.Time      `json:"finalized"`
}

func info(j *rivertype.JobRow) *JobInfo {
	ji := &JobInfo{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: string(j.State), Priority: j.Priority,
		Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, Args: json.RawMessage(j.EncodedArgs),
		Errors: []string{}, Tags: j.Tags, Created: j.CreatedAt, Scheduled: j.ScheduledAt,
		Attempted: j.AttemptedAt, Finalized: j.FinalizedAt}
	if ji.Tags == nil {
		ji.Tags = []string{}
	}
	for _, e := range j.Errors {
		ji.Errors = append(ji.Errors, e.Error)
	}
	return ji
}

// ListParams filter a job listing.
type ListParams struct {
	// States: available, scheduled, running, retryable, completed,
	// discarded, cancelled, pending (empty: all).
	States []string
	Kinds  []string
	Queues []string
	// Limit caps the page (default 100, max 1000).
	Limit int
	// After is the id of the last job of the previous page (newest first).
	After int64
}

// ErrBadParams reports an invalid listing parameter.
var ErrBadParams = errors.New("invalid job list parameters")

// ErrNotFound reports an unknown job id.
var ErrNotFound = errors.New("job not found")

// List returns jobs, newest first.
func (q *Queue) List(ctx context.Context, p ListParams) ([]*JobInfo, error) {
	if p.Limit <= 0 {
		p.Limit = 100
	}
	if p.Limit > 1000 {
		p.Limit = 1000
	}
	lp := river.NewJobListParams().First(p.Limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(p.States) > 0 {
		var ss []rivertype.JobState
		for _, s := range p.States {
			i := slices.IndexFunc(rivertype.JobStates(), func(js rivertype.JobState) bool { return string(js) == s })
			if i < 0 {
				return nil, fmt.Errorf("%w: unknown state %q", ErrBadParams, s)
			}
			ss = append(ss, rivertype.JobStates()[i])
		}
		lp = lp.States(ss...)
	}
	if len(p.Kinds) > 0 {
		lp = lp.Kinds(p.Kinds...)
	}
	if len(p.Queues) > 0 {
		lp = lp.Queues(p.Queues...)
	}
	if p.After > 0 {
		lp = lp.Where("id < @after", river.NamedArgs{"after": p.After})
	}
	res, err := q.client.JobList(ctx, lp)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	out := make([]*JobInfo, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		out = append(out, info(j))
	}
	return out, nil
}

// Get returns one job.
func (q *Queue) Get(ctx context.Context, id int64) (*JobInfo, error) {
	j, err := q.client.JobGet(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	return info(j), nil
}

// Retry makes a job (discarded, cancelled, completed or waiting for a
// retry) run again as soon as possible.
func (q *Queue) Retry(ctx context.Context, id int64) (*JobInfo, error) {
	j, err := q.client.JobRetry(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	return info(j), nil
}

// CancelJob cancels a job that has not finished; a running job's context
// is cancelled.
func (q *Queue) CancelJob(ctx context.Context, id int64) (*JobInfo, error) {
	j, err := q.client.JobCancel(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	return info(j), nil
}

func notFound(err error) error {
	if errors.Is(err, river.ErrNotFound) || errors.Is(err, rivertype.ErrNotFound) {
		return ErrNotFound
	}
	return err
}
