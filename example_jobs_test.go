package plinth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plinthdev/plinth/jobs"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

// welcomeArgs are the arguments of an example job kind.
type welcomeArgs struct {
	PostID string `json:"postId"`
}

// Kind names the job kind.
func (welcomeArgs) Kind() string { return "example.welcome" }

// A job enqueued in a record transaction exists if and only if the
// transaction commits: here the post and its job commit together, and a
// failing first run is retried.
func ExampleApp_Jobs() {
	app, done := exampleApp()
	defer done()
	ctx := context.Background()
	ran := make(chan string, 1)
	jobs.Register(app.Jobs(), func(ctx context.Context, j *jobs.Job[welcomeArgs]) error {
		if j.Attempt == 1 {
			return errors.New("the mail server is down") // retried
		}
		ran <- j.Args.PostID
		return nil
	}, jobs.WorkerOpts{MaxAttempts: 5, Retry: func(attempt int) time.Duration { return 10 * time.Millisecond }})
	if err := app.StartJobs(ctx); err != nil {
		fmt.Println(err)
		return
	}
	posts := app.Store().Schema().Lookup("posts")
	var id string
	err := app.Store().Tx(ctx, func(tx *store.Tx) error {
		r, err := app.Records().Create(ctx, tx, record.SystemCaller(), posts, map[string]any{"title": "Hello"})
		if err != nil {
			return err
		}
		id = r.ID()
		return app.Jobs().EnqueueTx(ctx, tx, welcomeArgs{PostID: r.ID()}, nil)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("worked the job of the new post:", <-ran == id)
	// Output: worked the job of the new post: true
}

// Crons use PocketBase's syntax; on PostgreSQL each tick runs once
// across all instances. RunCron runs one now (POST /api/crons/{id}).
func ExampleApp_Jobs_cron() {
	app, done := exampleApp()
	defer done()
	ctx := context.Background()
	ran := make(chan struct{}, 1)
	err := app.Jobs().AddCron("nightly_report", "0 3 * * *", func(ctx context.Context) error {
		ran <- struct{}{}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := app.StartJobs(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range app.Jobs().Crons() {
		if !strings.HasPrefix(c.ID, "__") { // Plinth's own: __pbLogsCleanup__, …
			fmt.Println(c.ID, c.Expression)
		}
	}
	if err := app.Jobs().RunCron(ctx, "nightly_report"); err != nil {
		fmt.Println(err)
		return
	}
	<-ran
	fmt.Println("ran now")
	// Output:
	// nightly_report 0 3 * * *
	// ran now
}
