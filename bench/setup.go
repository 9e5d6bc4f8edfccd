package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// Names of the benchmark's collections.
const (
	postsCollection = "posts"       // public rules
	ownedCollection = "owned_posts" // list/view rule: owner = @request.auth.id
	usersCollection = "users"       // Plinth's default auth collection
	userPassword    = "bench-password-123"
	superEmail      = "bench@plinth.local"
	superPassword   = "bench-superuser-123"
)

// userCred is a seeded user.
type userCred struct {
	ID, Email string
}

// fixture is the data every scenario draws from; it is shared by Plinth and
// the baseline, which serve the same tables.
type fixture struct {
	PostsID, OwnedID, UsersID string
	Users                     []userCred
	PostIDs                   []string
	OwnedIDs                  []string
	// UsersNote says why user scenarios are unavailable, or "".
	UsersNote string
	// Notes are setup facts for the report (fallbacks taken, settings).
	Notes []string
}

// postsFields is the field list of the benchmark schema; ownerType is
// "relation" when the users collection exists and "text" otherwise.
func postsFields(usersID string) []map[string]any {
	owner := map[string]any{"name": "owner", "type": "text"}
	if usersID != "" {
		owner = map[string]any{"name": "owner", "type": "relation", "collectionId": usersID, "maxSelect": 1}
	}
	return []map[string]any{
		{"name": "title", "type": "text"},
		{"name": "score", "type": "number"},
		{"name": "published", "type": "bool"},
		{"name": "status", "type": "select", "values": statuses, "maxSelect": 1},
		{"name": "meta", "type": "json"},
		owner,
		// Sent explicitly: as in PocketBase, the API adds no created and
		// updated fields by itself.
		{"name": "created", "type": "autodate", "onCreate": true},
		{"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
	}
}

// setupPlinth prepares a running Plinth: superuser login, batch enabled,
// the two collections, and nUsers users created through the API (so that
// passwords are hashed the way Plinth hashes them).
func setupPlinth(ctx context.Context, api *apiClient, nUsers int) (*fixture, error) {
	fx := &fixture{}
	su, err := api.login(ctx, "_superusers", superEmail, superPassword)
	if err != nil {
		return nil, fmt.Errorf("superuser login: %w", err)
	}
	api.token = su.Token

	// PocketBase ships with batch disabled; enable it where supported.
	err = api.do(ctx, http.MethodPatch, "/api/settings", map[string]any{
		"batch": map[string]any{"enabled": true, "maxRequests": 100, "timeout": 10, "maxBodySize": 0},
	}, nil)
	if err != nil {
		fx.Notes = append(fx.Notes, "PATCH /api/settings (to enable batch, off by default in PocketBase) was refused, so batch runs with the server's default: "+err.Error())
	}

	var users struct {
		ID string `json:"id"`
	}
	if err := api.do(ctx, http.MethodGet, "/api/collections/"+usersCollection, nil, &users); err != nil {
		fx.UsersNote = "no users collection: " + err.Error()
		fx.Notes = append(fx.Notes, "owner field seeded as plain text because the users collection is missing")
	}
	fx.UsersID = users.ID

	create := func(name, listRule string, indexes []string) (string, error) {
		var out struct {
			ID string `json:"id"`
		}
		body := map[string]any{
			"name": name, "type": "base", "fields": postsFields(fx.UsersID), "indexes": indexes,
			"listRule": listRule, "viewRule": listRule, "createRule": "", "updateRule": "", "deleteRule": "",
		}
		if err := api.do(ctx, http.MethodPost, "/api/collections", body, &out); err != nil {
			return "", fmt.Errorf("create collection %s: %w", name, err)
		}
		return out.ID, nil
	}
	if fx.PostsID, err = create(postsCollection, "", []string{
		"CREATE INDEX idx_posts_score ON posts (score)",
	}); err != nil {
		return nil, err
	}
	if fx.OwnedID, err = create(ownedCollection, "owner = @request.auth.id", []string{
		"CREATE INDEX idx_owned_posts_owner ON owned_posts (owner)",
	}); err != nil {
		return nil, err
	}

	if fx.UsersNote == "" {
		fx.Users, err = createUsers(ctx, api, nUsers)
		if err != nil {
			fx.UsersNote = "creating users failed: " + err.Error()
			fx.Users = nil
		}
	}
	return fx, nil
}

// createUsers creates n users through POST /api/collections/users/records
// with a few concurrent requests (password hashing dominates).
func createUsers(ctx context.Context, api *apiClient, n int) ([]userCred, error) {
	out := make([]userCred, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			email := fmt.Sprintf("user%04d@bench.local", i)
			var rec struct {
				ID string `json:"id"`
			}
			errs[i] = api.do(ctx, http.MethodPost, "/api/collections/"+usersCollection+"/records", map[string]any{
				"email": email, "password": userPassword, "passwordConfirm": userPassword,
			}, &rec)
			out[i] = userCred{ID: rec.ID, Email: email}
		})
		if i == 0 {
			wg.Wait() // fail fast when user creation does not work at all
			if errs[0] != nil {
				return nil, errs[0]
			}
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// ownerIDs returns the ids seeded rows may point at.
func (fx *fixture) ownerIDs() []string {
	ids := make([]string, len(fx.Users))
	for i, u := range fx.Users {
		ids[i] = u.ID
	}
	return ids
}

// loginUsers logs up to n seeded users in against one server and returns
// their tokens (each server issues its own).
func loginUsers(ctx context.Context, base string, users []userCred, n int) ([]string, error) {
	api := newAPIClient(base)
	tokens := make([]string, 0, n)
	for _, u := range users[:min(n, len(users))] {
		res, err := api.login(ctx, usersCollection, u.Email, userPassword)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, res.Token)
	}
	return tokens, nil
}
