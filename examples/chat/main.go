// Command chat is the back end of a real-time chat built on Plinth as a
// Go framework: rooms, their members, and messages that only members
// read and write. Clients receive new messages through realtime
// subscriptions (which apply the same membership rules), and a custom
// route reports each room's unread count from the member's read marker.
//
//	go run ./examples/chat --http 127.0.0.1:8090 --dir ./chat_data
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/migrate"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

// isMember is the rule "the caller is a member of the room in %s": one
// @collection.members row holds both conditions.
const isMember = `@collection.members.room = %[1]s && @collection.members.user = @request.auth.id`

func rule(tmpl, room string) string { return fmt.Sprintf(tmpl, room) }

// roomsCollection is created without rules, which name members (not yet
// there); roomRules sets them.
const roomsCollection = `{
  "id": "pbc_chat_rooms",
  "name": "rooms",
  "fields": [
    {"name": "name", "type": "text", "required": true, "max": 100},
    {"name": "owner", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_"},
    {"name": "created", "type": "autodate", "onCreate": true}
  ]
}`

// membersCollection: who is in which room, and up to when they have read
// it. Members see the room's members; the room's owner adds and removes
// them; a member may leave and moves only their own read marker.
var membersCollection = `{
  "id": "pbc_chat_members",
  "name": "members",
  "listRule":   "` + rule(isMember, "room") + `",
  "viewRule":   "` + rule(isMember, "room") + `",
  "createRule": "@request.body.room.owner = @request.auth.id",
  "updateRule": "user = @request.auth.id && @request.body.room:isset = false && @request.body.user:isset = false",
  "deleteRule": "room.owner = @request.auth.id || user = @request.auth.id",
  "fields": [
    {"name": "room", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_chat_rooms", "cascadeDelete": true},
    {"name": "user", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_", "cascadeDelete": true},
    {"name": "lastReadAt", "type": "date"}
  ],
  "indexes": ["CREATE UNIQUE INDEX idx_members_room_user ON members (room, user)"]
}`

// messagesCollection: members read a room's messages and post as
// themselves; authors edit theirs; authors and the room's owner delete.
var messagesCollection = `{
  "name": "messages",
  "listRule":   "` + rule(isMember, "room") + `",
  "viewRule":   "` + rule(isMember, "room") + `",
  "createRule": "` + rule(isMember, "@request.body.room") + ` && @request.body.author = @request.auth.id",
  "updateRule": "author = @request.auth.id && ` + rule(isMember, "room") + ` && @request.body.room:isset = false && @request.body.author:isset = false",
  "deleteRule": "author = @request.auth.id || room.owner = @request.auth.id",
  "fields": [
    {"name": "room", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "pbc_chat_rooms", "cascadeDelete": true},
    {"name": "author", "type": "relation", "required": true, "maxSelect": 1, "collectionId": "_pb_users_auth_"},
    {"name": "text", "type": "text", "required": true, "max": 4000},
    {"name": "created", "type": "autodate", "onCreate": true}
  ],
  "indexes": ["CREATE INDEX idx_messages_room_created ON messages (room, created)"]
}`

// roomRules sets the rules of rooms: members see a room; any user opens
// one as its owner; the owner renames or deletes it.
var roomRules = migrate.Go{
	Name: "1764800001_chat_room_rules",
	Up: func(ctx context.Context, st *store.Store) error {
		rooms := st.Schema().Lookup("rooms").Clone()
		member := rule(isMember, "id")
		create := "@request.auth.collectionName = 'users' && @request.body.owner = @request.auth.id"
		owner := "owner = @request.auth.id && @request.body.owner:isset = false"
		del := "owner = @request.auth.id"
		rooms.ListRule, rooms.ViewRule, rooms.CreateRule, rooms.UpdateRule, rooms.DeleteRule = &member, &member, &create, &owner, &del
		_, err := st.SaveCollection(ctx, rooms)
		return err
	},
}

// newApp builds the chat: collections (Go migrations), the hook that
// makes a room's owner its first member, and the unread route.
func newApp(ctx context.Context, cfg plinth.Config, log *slog.Logger) (*plinth.App, error) {
	cfg.Migrations = append(cfg.Migrations,
		plinth.CollectionsMigration("1764800000_chat", roomsCollection, membersCollection, messagesCollection), roomRules)
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := app.StartMigrations(ctx); err != nil {
		app.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}

	// The owner joins the room they opened, once it has committed (the
	// membership's relation needs the room's row).
	app.OnRecordCreate("rooms").After(func(e *plinth.RecordEvent) error {
		members := app.Store().Schema().Lookup("members")
		return app.Store().Tx(e.Context, func(tx *store.Tx) error {
			_, err := app.Records().Create(e.Context, tx, record.SystemCaller(), members,
				map[string]any{"room": e.Record.ID(), "user": e.Record.GetString("owner"), "lastReadAt": now()})
			return err
		})
	})

	// GET /api/chat/unread: {"<room id>": n} for the caller's rooms, n
	// being the messages of others since the caller's read marker. The
	// reads go through the record service as the caller, so the rules
	// choose the rooms.
	app.HandleFunc("GET /api/chat/unread", func(w http.ResponseWriter, r *http.Request) error {
		me := plinth.AuthRecord(r)
		if me == nil {
			return &plinth.APIError{Status: http.StatusUnauthorized, Message: "Sign in to chat."}
		}
		ctx, caller := r.Context(), app.Caller(r)
		sch := app.Store().Schema()
		mine, err := app.Records().List(ctx, caller, sch.Lookup("members"), record.ListParams{
			Filter: "user = " + quote(me.ID()), PerPage: 500})
		if err != nil {
			return err
		}
		unread := map[string]int{}
		for _, m := range mine.Items {
			f := "room = " + quote(m.GetString("room")) + " && author != " + quote(me.ID())
			if at := m.GetString("lastReadAt"); at != "" {
				f += " && created > " + quote(at)
			}
			page, err := app.Records().List(ctx, caller, sch.Lookup("messages"), record.ListParams{Filter: f, PerPage: 1})
			if err != nil {
				return err
			}
			unread[m.GetString("room")] = page.TotalItems
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(unread)
	})

	// POST /api/chat/rooms/{id}/read: moves the caller's read marker of
	// the room to now (server time), through the members update rule.
	app.HandleFunc("POST /api/chat/rooms/{id}/read", func(w http.ResponseWriter, r *http.Request) error {
		me := plinth.AuthRecord(r)
		if me == nil {
			return &plinth.APIError{Status: http.StatusUnauthorized, Message: "Sign in to chat."}
		}
		ctx := r.Context()
		members := app.Store().Schema().Lookup("members")
		m, err := app.Store().FindFirst(ctx, members, map[string]any{"room": r.PathValue("id"), "user": me.ID()})
		if errors.Is(err, store.ErrNotFound) {
			return &plinth.APIError{Status: http.StatusNotFound, Message: "You are not a member of this room."}
		}
		if err != nil {
			return err
		}
		err = app.Store().Tx(ctx, func(tx *store.Tx) error {
			_, err := app.Records().Update(ctx, tx, app.Caller(r), members, m.ID(), map[string]any{"lastReadAt": now()})
			return err
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	return app, nil
}

// now is the current time as date fields store it.
func now() string { return time.Now().UTC().Format("2006-01-02 15:04:05.000Z") }

// quote makes s a filter string literal.
func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func main() {
	cfg := plinth.Config{}
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8090", "listen address")
	flag.StringVar(&cfg.DataDir, "dir", "chat_data", "data directory (SQLite database and files)")
	flag.StringVar(&cfg.DatabaseURL, "db", "", "PostgreSQL URL (postgres://...); empty: SQLite in --dir")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
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
