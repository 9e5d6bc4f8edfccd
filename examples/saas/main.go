// Command saas is the back end of a multi-tenant SaaS built on Plinth as a
// Go framework: organisations, their members with roles (owner, admin,
// member), and each organisation's projects and tasks. Every rule is
// tenant-scoped through the memberships collection, so the list, view,
// expand, realtime and batch APIs only ever show a user the data of the
// organisations they belong to; users see the profiles of the people they
// share an organisation with and nobody else's.
//
//	go run ./examples/saas --http 127.0.0.1:8090 --dir ./saas_data
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/migrate"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

// The rules share one idea: "the caller has a membership of this record's
// organisation". @collection.memberships is joined once per rule, so its
// conditions hold for the same membership row (see package filter).
const (
	// isMember: the caller belongs to the organisation in `org`.
	isMember = `@collection.memberships.org = %[1]s && @collection.memberships.user = @request.auth.id`
	// isAdmin: the caller is an owner or admin of it.
	isAdmin = isMember + ` && @collection.memberships.role != 'member'`
)

func rule(tmpl, org string) string { return fmt.Sprintf(tmpl, org) }

// orgsCollection: created without rules (superusers only), because its
// rules name memberships, which does not exist yet; tenantRules sets them.
const orgsCollection = `{
  "id": "pbc_saas_orgs",
  "name": "orgs",
  "fields": [
    {"name": "name", "type": "text", "required": true, "max": 100},
    {"name": "created", "type": "autodate", "onCreate": true}
  ]
}`

// orgsRules: members see their organisations; admins rename them; only
// owners delete one. Any user may found one (a hook makes them its owner).
var orgsRules = map[string]string{
	"list":   rule(isMember, "id"),
	"view":   rule(isMember, "id"),
	"create": "@request.auth.collectionName = 'users'",
	"update": rule(isAdmin, "id"),
	"delete": rule(isMember, "id") + " && @collection.memberships.role = 'owner'",
}

// membershipsCollection: who belongs to which organisation, with what
// role. Members see their organisation's members; admins add, change and
// remove members but never make or touch an owner; anyone may leave,
// except an owner. A create rule is checked with the new record already
// in place (as in PocketBase), so @collection.memberships would also see
// the membership being created: "id != @collection.memberships.id" makes
// the admin's membership another one, or anyone could make themselves an
// admin of any organisation.
var membershipsCollection = `{
  "id": "pbc_saas_memberships",
  "name": "memberships",
  "listRule":   "` + rule(isMember, "org") + `",
  "viewRule":   "` + rule(isMember, "org") + `",
  "createRule": "` + rule(isAdmin, "@request.body.org") + ` && @collection.memberships.id != id && @request.body.role != 'owner'",
  "updateRule": "` + rule(isAdmin, "org") + ` && role != 'owner' && @request.body.role != 'owner' && @request.body.org:isset = false && @request.body.user:isset = false",
  "deleteRule": "role != 'owner' && ((` + rule(isAdmin, "org") + `) || user = @request.auth.id)",
  "fields": [
    {"name": "org", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_saas_orgs", "cascadeDelete": true},
    {"name": "user", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_", "cascadeDelete": true},
    {"name": "role", "type": "select", "required": true, "maxSelect": 1, "values": ["owner", "admin", "member"]}
  ],
  "indexes": ["CREATE UNIQUE INDEX idx_memberships_org_user ON memberships (org, user)"]
}`

// projectsCollection: members read, admins write.
var projectsCollection = `{
  "id": "pbc_saas_projects",
  "name": "projects",
  "listRule":   "` + rule(isMember, "org") + `",
  "viewRule":   "` + rule(isMember, "org") + `",
  "createRule": "` + rule(isAdmin, "@request.body.org") + `",
  "updateRule": "` + rule(isAdmin, "org") + ` && @request.body.org:isset = false",
  "deleteRule": "` + rule(isAdmin, "org") + `",
  "fields": [
    {"name": "org", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_saas_orgs", "cascadeDelete": true},
    {"name": "name", "type": "text", "required": true, "max": 100}
  ],
  "indexes": ["CREATE INDEX idx_projects_org ON projects (org)"]
}`

// tasksCollection: a task belongs to a project, hence to its
// organisation. Members create and update tasks, assigned only to members
// of the same organisation (the second alias, :a, is another membership
// row); tasks never move to another project; admins delete them.
var tasksCollection = `{
  "name": "tasks",
  "listRule":   "` + rule(isMember, "project.org") + `",
  "viewRule":   "` + rule(isMember, "project.org") + `",
  "createRule": "` + rule(isMember, "@request.body.project.org") + ` && (@request.body.assignee = '' || (@collection.memberships:a.org = @request.body.project.org && @collection.memberships:a.user = @request.body.assignee))",
  "updateRule": "` + rule(isMember, "project.org") + ` && @request.body.project:isset = false && (@request.body.assignee:isset = false || @request.body.assignee = '' || (@collection.memberships:a.org = project.org && @collection.memberships:a.user = @request.body.assignee))",
  "deleteRule": "` + rule(isAdmin, "project.org") + `",
  "fields": [
    {"name": "project", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_saas_projects", "cascadeDelete": true},
    {"name": "title", "type": "text", "required": true, "max": 200},
    {"name": "done", "type": "bool"},
    {"name": "assignee", "type": "relation", "maxSelect": 1, "collectionId": "_pb_users_auth_"},
    {"name": "created", "type": "autodate", "onCreate": true}
  ],
  "indexes": ["CREATE INDEX idx_tasks_project ON tasks (project)"]
}`

// usersRule lets a user see their own profile and those of the people who
// share an organisation with them: two independent memberships (:mine and
// :theirs) of one organisation.
const usersRule = `id = @request.auth.id || (@collection.memberships:mine.user = @request.auth.id && @collection.memberships:theirs.user = id && @collection.memberships:theirs.org = @collection.memberships:mine.org)`

// tenantRules is a Go migration that sets the rules of orgs, and scopes
// the built-in users collection's list and view rules to colleagues.
var tenantRules = migrate.Go{
	Name: "1764800001_saas_rules",
	Up: func(ctx context.Context, st *store.Store) error {
		orgs := st.Schema().Lookup("orgs").Clone()
		list, view, create, update, del := orgsRules["list"], orgsRules["view"], orgsRules["create"], orgsRules["update"], orgsRules["delete"]
		orgs.ListRule, orgs.ViewRule, orgs.CreateRule, orgs.UpdateRule, orgs.DeleteRule = &list, &view, &create, &update, &del
		if _, err := st.SaveCollection(ctx, orgs); err != nil {
			return err
		}
		users := st.Schema().Lookup("users").Clone()
		r := usersRule
		users.ListRule, users.ViewRule = &r, &r
		_, err := st.SaveCollection(ctx, users)
		return err
	},
}

// newApp builds the application: collections and rules (Go migrations),
// and the hook that makes an organisation's founder its owner.
func newApp(ctx context.Context, cfg plinth.Config, log *slog.Logger) (*plinth.App, error) {
	cfg.Migrations = append(cfg.Migrations,
		plinth.CollectionsMigration("1764800000_saas", orgsCollection, membershipsCollection, projectsCollection, tasksCollection),
		tenantRules)
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := app.StartMigrations(ctx); err != nil {
		app.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}

	// The founder of an organisation becomes its owner. This runs after
	// the organisation committed (a membership's relation needs the
	// organisation's row), as the system: no client can create an owner
	// membership through the API.
	app.OnRecordCreate("orgs").After(func(e *plinth.RecordEvent) error {
		if e.Auth == nil || e.Auth.Collection.Name != "users" {
			return nil // a superuser or Go code adds the members itself
		}
		memberships := app.Store().Schema().Lookup("memberships")
		return app.Store().Tx(e.Context, func(tx *store.Tx) error {
			_, err := app.Records().Create(e.Context, tx, record.SystemCaller(), memberships,
				map[string]any{"org": e.Record.ID(), "user": e.Auth.ID(), "role": "owner"})
			return err
		})
	})
	return app, nil
}

func main() {
	cfg := plinth.Config{}
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8090", "listen address")
	flag.StringVar(&cfg.DataDir, "dir", "saas_data", "data directory (SQLite database and files)")
	flag.StringVar(&cfg.DatabaseURL, "db", "", "PostgreSQL URL (postgres://...); empty: SQLite in --dir")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "saas:", err)
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
