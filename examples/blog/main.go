// Command blog is a blog with comments built on Plinth as a Go framework:
// posts and comments related to their authors and to each other, a post
// read with its comments through the back-relation expand
// comments_via_post, and a moderation hook that refuses comments with
// banned words and flags (hides) those with suspicious ones.
//
//	go run ./examples/blog --http 127.0.0.1:8090 --dir ./blog_data
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
	"strings"
	"syscall"

	"github.com/plinthdev/plinth"
)

// postsCollection: anyone reads published posts, authors also their
// drafts; users write only their own posts. Its explicit id is what the
// comments' relation points at.
const postsCollection = `{
  "id": "pbc_blog_posts",
  "name": "posts",
  "listRule":   "published = true || author = @request.auth.id",
  "viewRule":   "published = true || author = @request.auth.id",
  "createRule": "@request.auth.collectionName = 'users' && @request.body.author = @request.auth.id",
  "updateRule": "author = @request.auth.id && (@request.body.author:isset = false || @request.body.author = @request.auth.id)",
  "deleteRule": "author = @request.auth.id",
  "fields": [
    {"name": "title", "type": "text", "required": true, "max": 200},
    {"name": "body", "type": "editor"},
    {"name": "published", "type": "bool"},
    {"name": "author", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_"},
    {"name": "created", "type": "autodate", "onCreate": true}
  ]
}`

// commentsCollection: a comment is visible when it is not flagged and its
// post is visible; signed-in users comment on published posts as
// themselves. Deleting a post deletes its comments.
const commentsCollection = `{
  "name": "comments",
  "listRule":   "(flagged = false || author = @request.auth.id) && (post.published = true || post.author = @request.auth.id)",
  "viewRule":   "(flagged = false || author = @request.auth.id) && (post.published = true || post.author = @request.auth.id)",
  "createRule": "@request.auth.collectionName = 'users' && @request.body.author = @request.auth.id && @request.body.post.published = true",
  "updateRule": null,
  "deleteRule": "author = @request.auth.id || post.author = @request.auth.id",
  "fields": [
    {"name": "post", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_blog_posts", "cascadeDelete": true},
    {"name": "author", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_"},
    {"name": "body", "type": "text", "required": true, "max": 2000},
    {"name": "flagged", "type": "bool"},
    {"name": "created", "type": "autodate", "onCreate": true}
  ],
  "indexes": ["CREATE INDEX idx_comments_post ON comments (post)"]
}`

// Moderation lists: a banned word refuses the comment, a suspicious one
// stores it flagged, hidden from everyone but its author.
var (
	bannedWords     = []string{"viagra", "casino"}
	suspiciousWords = []string{"http://", "https://", "free money"}
)

func containsAny(s string, words []string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// newApp builds the blog: collections (created on first start by a Go
// migration) and the moderation hook.
func newApp(ctx context.Context, cfg plinth.Config, log *slog.Logger) (*plinth.App, error) {
	cfg.Migrations = append(cfg.Migrations, plinth.CollectionsMigration("1764800000_blog", postsCollection, commentsCollection))
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := app.StartMigrations(ctx); err != nil {
		app.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}
	// The moderation hook runs inside the write's transaction, for the
	// API, batch requests and Go code alike. Clients cannot set flagged
	// themselves: the hook decides it.
	app.OnRecordCreate("comments").Before(func(e *plinth.RecordEvent) error {
		body := e.Record.GetString("body")
		if containsAny(body, bannedWords) {
			return &plinth.HookError{Status: http.StatusBadRequest, Message: "The comment was refused by moderation.",
				Data: map[string]any{"body": map[string]string{"code": "moderation_refused", "message": "Contains a banned word."}}}
		}
		e.Record.Set("flagged", containsAny(body, suspiciousWords))
		return nil
	})
	return app, nil
}

func main() {
	cfg := plinth.Config{}
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8090", "listen address")
	flag.StringVar(&cfg.DataDir, "dir", "blog_data", "data directory (SQLite database and files)")
	flag.StringVar(&cfg.DatabaseURL, "db", "", "PostgreSQL URL (postgres://...); empty: SQLite in --dir")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "blog:", err)
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
