package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// setupStandalone creates the benchmark tables itself, following the server
// contract's column mapping, when no Plinth binary could be built. Only the
// baseline is measured then; this keeps the harness testable on its own.
func setupStandalone(ctx context.Context, ds *dataStore, nUsers int) (*fixture, error) {
	num, js := "REAL", "JSON"
	if ds.driver == "postgres" {
		num, js = "DOUBLE PRECISION", "JSONB"
	}
	stmts := []string{`CREATE TABLE "users" ("id" TEXT PRIMARY KEY, "email" TEXT NOT NULL DEFAULT '',
		"emailVisibility" BOOLEAN NOT NULL DEFAULT FALSE, "verified" BOOLEAN NOT NULL DEFAULT FALSE,
		"name" TEXT NOT NULL DEFAULT '', "avatar" TEXT NOT NULL DEFAULT '', "password" TEXT NOT NULL,
		"tokenKey" TEXT NOT NULL, "created" TEXT NOT NULL DEFAULT '', "updated" TEXT NOT NULL DEFAULT '')`,
		`CREATE UNIQUE INDEX idx_users_email ON "users" ("email")`,
	}
	for _, t := range []string{postsCollection, ownedCollection} {
		stmts = append(stmts, fmt.Sprintf(`CREATE TABLE %q ("id" TEXT PRIMARY KEY, "title" TEXT NOT NULL DEFAULT '',
			"score" %s NOT NULL DEFAULT 0, "published" BOOLEAN NOT NULL DEFAULT FALSE, "status" TEXT NOT NULL DEFAULT '',
			"meta" %s, "owner" TEXT NOT NULL DEFAULT '', "created" TEXT NOT NULL DEFAULT '', "updated" TEXT NOT NULL DEFAULT '')`, t, num, js))
	}
	stmts = append(stmts,
		`CREATE INDEX idx_posts_score ON "posts" ("score")`,
		`CREATE INDEX idx_owned_posts_owner ON "owned_posts" ("owner")`)
	for _, s := range stmts {
		if _, err := ds.db.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("standalone schema: %w", err)
		}
	}

	hash, err := bcrypt.GenerateFromPassword([]byte(userPassword), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	fx := &fixture{PostsID: "pbc_posts000001", OwnedID: "pbc_owned000001", UsersID: "_pb_users_auth_",
		Notes: []string{"Plinth unavailable: tables and users were created by the harness (baseline-only run)"}}
	now := time.Now().UTC().Format(dateLayout)
	for i := range nUsers {
		var key [24]byte
		rand.Read(key[:])
		u := userCred{ID: fmt.Sprintf("u%014d", i), Email: fmt.Sprintf("user%04d@bench.local", i)}
		_, err := ds.db.ExecContext(ctx, `INSERT INTO "users" ("id","email","password","tokenKey","created","updated") VALUES (`+
			ds.placeholders(1, 6)+`)`, u.ID, u.Email, string(hash), hex.EncodeToString(key[:]), now, now)
		if err != nil {
			return nil, err
		}
		fx.Users = append(fx.Users, u)
	}
	return fx, nil
}
