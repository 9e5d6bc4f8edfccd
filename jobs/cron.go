package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
)

// Schedule is a parsed cron expression in PocketBase's syntax: five fields
// (minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6
// with 0 = Sunday), each "*", a number, a range "a-b", a step "*/n" or
// "a-b/n", or a comma list of those; or a macro (@yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly). A time matches when
// every field matches, day of month AND day of week, unlike classic cron's
// OR. Times are UTC.
type Schedule struct {
	expr                          string
	minute, hour, dom, month, dow []bool
}

// cronMacro expands a macro ("" for none).
func cronMacro(s string) string {
	switch s {
	case "@yearly", "@annually":
		return "0 0 1 1 *"
	case "@monthly":
		return "0 0 1 * *"
	case "@weekly":
		return "0 0 * * 0"
	case "@daily", "@midnight":
		return "0 0 * * *"
	case "@hourly":
		return "0 * * * *"
	}
	return ""
}

// ParseSchedule parses a cron expression.
func ParseSchedule(expr string) (*Schedule, error) {
	src := strings.TrimSpace(expr)
	if m := cronMacro(src); m != "" {
		src = m
	}
	fields := strings.Fields(src)
	if len(fields) != 5 {
		return nil, fmt.Errorf("cron %q: want 5 fields (minute hour day month weekday) or a macro", expr)
	}
	s := &Schedule{expr: strings.TrimSpace(expr)}
	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}
	dst := [5]*[]bool{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}
	for i, f := range fields {
		set, err := parseCronField(f, bounds[i][0], bounds[i][1])
		if err != nil {
			return nil, fmt.Errorf("cron %q: field %d: %w", expr, i+1, err)
		}
		*dst[i] = set
	}
	return s, nil
}

func parseCronField(f string, lo, hi int) ([]bool, error) {
	set := make([]bool, hi+1)
	for _, part := range strings.Split(f, ",") {
		step := 1
		if rng, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad step %q", st)
			}
			part, step = rng, n
		}
		from, to := lo, hi
		switch {
		case part == "*":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			var err1, err2 error
			from, err1 = strconv.Atoi(a)
			to, err2 = strconv.Atoi(b)
			if err1 != nil || err2 != nil || from > to {
				return nil, fmt.Errorf("bad range %q", part)
			}
		default:
			n, err := strconv.Atoi(part)
			if err != nil {
				return nil, fmt.Errorf("bad value %q", part)
			}
			from, to = n, n
		}
		if from < lo || to > hi {
			return nil, fmt.Errorf("%q out of range %d-%d", part, lo, hi)
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

// String is the expression as given.
func (s *Schedule) String() string { return s.expr }

// Matches reports whether the minute of t (UTC) is a tick.
func (s *Schedule) Matches(t time.Time) bool {
	t = t.UTC()
	return s.minute[t.Minute()] && s.hour[t.Hour()] && s.dom[t.Day()] && s.month[int(t.Month())] && s.dow[int(t.Weekday())]
}

// Next returns the first tick after t (the zero time when there is none
// within five years, as for February 31).
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(5, 0, 0)
	for t.Before(end) {
		if !s.month[int(t.Month())] || !s.dom[t.Day()] || !s.dow[int(t.Weekday())] {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !s.hour[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			continue
		}
		if !s.minute[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

// riverSchedule is a Schedule for River; one without ticks runs never.
type riverSchedule struct{ s *Schedule }

func (r riverSchedule) Next(t time.Time) time.Time {
	if n := r.s.Next(t); !n.IsZero() {
		return n
	}
	return t.AddDate(100, 0, 0)
}

// Cron is a registered cron job.
type Cron struct {
	ID         string `json:"id"`
	Expression string `json:"expression"`
	fn         func(ctx context.Context) error
}

// cronArgs is the job a cron tick enqueues.
type cronArgs struct {
	ID string `json:"id"`
}

func (cronArgs) Kind() string { return "plinth.cron" }

// ErrUnknownCron reports a cron id that is not registered.
var ErrUnknownCron = errors.New("cron not found")

// AddCron registers (or replaces) the cron id: fn runs at every tick of
// expr. On PostgreSQL only the elected leader among the instances
// enqueues ticks, so each runs once; a tick missed while no instance ran
// is not made up.
func (q *Queue) AddCron(id, expr string, fn func(ctx context.Context) error) error {
	s, err := ParseSchedule(expr)
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.client.PeriodicJobs().RemoveByID(id)
	q.crons[id] = &Cron{ID: id, Expression: s.String(), fn: fn}
	_, err = q.client.PeriodicJobs().AddSafely(river.NewPeriodicJob(riverSchedule{s},
		func() (river.JobArgs, *river.InsertOpts) { return cronArgs{ID: id}, nil },
		&river.PeriodicJobOpts{ID: id}))
	return err
}

// RemoveCron unregisters the cron id.
func (q *Queue) RemoveCron(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.client.PeriodicJobs().RemoveByID(id)
	delete(q.crons, id)
}

// Crons lists the registered crons by id.
func (q *Queue) Crons() []Cron {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Cron, 0, len(q.crons))
	for _, c := range q.crons {
		out = append(out, Cron{ID: c.ID, Expression: c.Expression})
	}
	slices.SortFunc(out, func(a, b Cron) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// RunCron enqueues a run of the cron id now (POST /api/crons/{id}).
func (q *Queue) RunCron(ctx context.Context, id string) error {
	q.mu.Lock()
	_, ok := q.crons[id]
	q.mu.Unlock()
	if !ok {
		return ErrUnknownCron
	}
	_, err := q.Enqueue(ctx, cronArgs{ID: id}, nil)
	return err
}

func (q *Queue) runCron(ctx context.Context, id string) error {
	q.mu.Lock()
	c := q.crons[id]
	q.mu.Unlock()
	if c == nil {
		return nil // removed since the tick was enqueued
	}
	return c.fn(ctx)
}
