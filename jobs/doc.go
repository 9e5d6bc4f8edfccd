// Package jobs is Plinth's durable job queue: River
// (github.com/riverqueue/river) in the application's own database, SQLite
// or PostgreSQL, with a transactional outbox so that a job enqueued in a
// record transaction exists if and only if that transaction commits, and
// a cron scheduler whose ticks run once across instances.
//
// It knows nothing of HTTP; package api exposes it to superusers and the
// plinth package to Go code (App.Jobs). See docs/jobs.md.
package jobs
