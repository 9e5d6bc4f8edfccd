// Command jobboard is a job board back end built on Plinth as a Go
// framework: employers (any user who owns a company) post jobs, anyone
// searches and filters the published ones through the filter language,
// applicants apply once per job with a protected CV, and employers read the
// applications to their own jobs only. A custom route counts the matching
// jobs per employment type, remote and tag (search facets), through the
// record service, so the caller's rules apply to every count.
//
//	go run ./examples/jobboard --http 127.0.0.1:8090 --dir ./jobboard_data
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"

	"github.com/plinthdev/plinth"
)

// companiesCollection: public profiles of employers. A user creates
// companies for themselves and manages only their own; the owner never
// changes (the immutable hook).
const companiesCollection = `{
  "id": "pbc_jobs_companies",
  "name": "companies",
  "listRule": "",
  "viewRule": "",
  "createRule": "@request.auth.collectionName = 'users' && owner = @request.auth.id",
  "updateRule": "owner = @request.auth.id",
  "deleteRule": "owner = @request.auth.id",
  "fields": [
    {"name": "name", "type": "text", "required": true, "max": 100},
    {"name": "website", "type": "url"},
    {"name": "owner", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_", "cascadeDelete": true},
    {"name": "created", "type": "autodate", "onCreate": true}
  ],
  "indexes": ["CREATE INDEX idx_companies_owner ON companies (owner)"]
}`

// jobsCollection: everyone lists and views published jobs; the owner of a
// job's company also sees its drafts (published = false), and alone
// creates, edits and deletes its jobs. A create rule is checked on the
// record as it would be stored, so "company.owner" is the company the
// body names. Salaries are yearly amounts, 0 when not stated.
//
// The indexes serve the filters and sorts the board uses: the public list
// sorted by date, salary ranges, employment type and remote, and a
// company's jobs (the rules join through it). Text search with ~ is a
// contains match (LIKE/ILIKE '%go%'), which no B-tree index helps; it runs
// on the rows the other conditions leave.
const jobsCollection = `{
  "id": "pbc_jobs_jobs",
  "name": "jobs",
  "listRule": "published = true || company.owner = @request.auth.id",
  "viewRule": "published = true || company.owner = @request.auth.id",
  "createRule": "company.owner = @request.auth.id",
  "updateRule": "company.owner = @request.auth.id",
  "deleteRule": "company.owner = @request.auth.id",
  "fields": [
    {"name": "title", "type": "text", "required": true, "max": 200},
    {"name": "description", "type": "text", "max": 20000},
    {"name": "company", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_jobs_companies", "cascadeDelete": true},
    {"name": "location", "type": "text", "max": 100},
    {"name": "remote", "type": "bool"},
    {"name": "salary_min", "type": "number", "onlyInt": true, "min": 0},
    {"name": "salary_max", "type": "number", "onlyInt": true, "min": 0},
    {"name": "tags", "type": "select", "maxSelect": 8, "values": ["backend", "frontend", "fullstack", "go", "python", "typescript", "devops", "data"]},
    {"name": "employment", "type": "select", "required": true, "maxSelect": 1, "values": ["full-time", "part-time", "contract", "internship"]},
    {"name": "published", "type": "bool"},
    {"name": "created", "type": "autodate", "onCreate": true},
    {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true}
  ],
  "indexes": [
    "CREATE INDEX idx_jobs_published_created ON jobs (published, created)",
    "CREATE INDEX idx_jobs_salary ON jobs (salary_min, salary_max)",
    "CREATE INDEX idx_jobs_employment_remote ON jobs (employment, remote)",
    "CREATE INDEX idx_jobs_company ON jobs (company)"
  ]
}`

// applicationsCollection: an applicant sees their own applications, the
// owner of the job's company those to its jobs, nobody else any. A user
// applies for themselves, to a published job of someone else's company,
// once per job (the unique index: a second application is a 400 with
// data.job.code = "validation_not_unique"). The CV is protected: it is
// served only with a file token of someone the view rule lets see the
// application. The employer changes the status and nothing else; the
// applicant withdraws by deleting.
const applicationsCollection = `{
  "id": "pbc_jobs_applications",
  "name": "applications",
  "listRule": "applicant = @request.auth.id || job.company.owner = @request.auth.id",
  "viewRule": "applicant = @request.auth.id || job.company.owner = @request.auth.id",
  "createRule": "@request.auth.collectionName = 'users' && applicant = @request.auth.id && job.published = true && job.company.owner != @request.auth.id",
  "updateRule": "job.company.owner = @request.auth.id",
  "deleteRule": "applicant = @request.auth.id",
  "fields": [
    {"name": "job", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_jobs_jobs", "cascadeDelete": true},
    {"name": "applicant", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_", "cascadeDelete": true},
    {"name": "email", "type": "email", "required": true},
    {"name": "cover_letter", "type": "text", "max": 10000},
    {"name": "cv", "type": "file", "maxSelect": 1, "maxSize": 5242880, "mimeTypes": ["application/pdf"], "protected": true},
    {"name": "status", "type": "select", "maxSelect": 1, "values": ["submitted", "reviewing", "rejected", "offered"]},
    {"name": "created", "type": "autodate", "onCreate": true},
    {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true}
  ],
  "indexes": [
    "CREATE UNIQUE INDEX idx_applications_job_applicant ON applications (job, applicant)",
    "CREATE INDEX idx_applications_applicant ON applications (applicant)"
  ]
}`

// newApp builds the job board: collections (a Go migration), hooks and the
// facets route.
func newApp(ctx context.Context, cfg plinth.Config, log *slog.Logger) (*plinth.App, error) {
	cfg.Migrations = append(cfg.Migrations, plinth.CollectionsMigration("1764800000_jobboard", companiesCollection, jobsCollection, applicationsCollection))
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := app.StartMigrations(ctx); err != nil {
		app.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}

	// Update rules check the stored record, not the updated one, so they
	// alone cannot stop a company's owner from moving a job to someone
	// else's company. A guard such as "@request.body.company:isset = false"
	// in the rule would (modifiers like "company+" count as the field);
	// these hooks say it once for every field that ties records together,
	// and answer with the field that cannot change.
	app.OnRecordUpdate("companies").Before(immutable("owner"))
	app.OnRecordUpdate("jobs").Before(immutable("company"))
	app.OnRecordUpdate("applications").Before(immutable("job", "applicant", "email", "cover_letter", "cv"))

	app.OnRecordCreate("jobs").Before(checkJob)
	app.OnRecordUpdate("jobs").Before(checkJob)
	app.OnRecordCreate("applications").Before(newApplication)

	app.HandleFunc("GET /api/jobboard/facets", facets(app))
	return app, nil
}

// immutable returns a Before update hook that refuses a change to any of
// the named fields.
func immutable(fields ...string) func(*plinth.RecordEvent) error {
	return func(e *plinth.RecordEvent) error {
		data := map[string]any{}
		for _, f := range fields {
			if !reflect.DeepEqual(e.Record.Get(f), e.Original.Get(f)) {
				data[f] = map[string]string{"code": "immutable", "message": "This field cannot be changed."}
			}
		}
		if len(data) > 0 {
			return &plinth.HookError{Status: http.StatusBadRequest, Message: "Some fields cannot be changed.", Data: data}
		}
		return nil
	}
}

// checkJob trims the title and refuses a salary range upside down.
func checkJob(e *plinth.RecordEvent) error {
	title := strings.TrimSpace(e.Record.GetString("title"))
	if title == "" {
		return plinth.Refuse(http.StatusBadRequest, "The title cannot be blank.")
	}
	e.Record.Set("title", title)
	lo, _ := e.Record.Get("salary_min").(float64)
	hi, _ := e.Record.Get("salary_max").(float64)
	if lo > 0 && hi > 0 && lo > hi {
		return &plinth.HookError{Status: http.StatusBadRequest, Message: "Invalid salary range.",
			Data: map[string]any{"salary_max": map[string]string{"code": "salary_range", "message": "Must be at least salary_min."}}}
	}
	return nil
}

// newApplication starts every application as "submitted", whatever the
// body says. (Applying in someone else's name is the create rule's to
// refuse; a duplicate in their name is refused the same way, so the
// answer never tells who applied where.)
func newApplication(e *plinth.RecordEvent) error {
	e.Record.Set("status", "submitted")
	return nil
}

func main() {
	cfg := plinth.Config{}
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8090", "listen address")
	flag.StringVar(&cfg.DataDir, "dir", "jobboard_data", "data directory (SQLite database and files)")
	flag.StringVar(&cfg.DatabaseURL, "db", "", "PostgreSQL URL (postgres://...); empty: SQLite in --dir")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "jobboard:", err)
		os.Exit(1)
	}
}

func run(cfg plinth.Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := newApp(ctx, cfg, slog.Default())
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
