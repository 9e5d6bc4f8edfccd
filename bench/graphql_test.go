package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
)

// BenchmarkNestedGraphQLvsREST reads 50 posts with their author and their
// 5 comments each, in process on SQLite, through REST's expand and through
// GraphQL, and reports GraphQL's time per query as a ratio of REST's
// (graphql/rest). Both go through the record service with the same rules;
// the difference is the transport (GraphQL parses, validates and encodes
// field by field).
func BenchmarkNestedGraphQLvsREST(b *testing.B) {
	ctx := context.Background()
	app, err := plinth.New(ctx, plinth.Config{DataDir: b.TempDir(), DisableRateLimits: true, BcryptCost: 4}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	h := app.Handler()
	if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
		b.Fatal(err)
	}
	call := func(method, path, body, token string) []byte {
		req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	var su struct{ Token string }
	json.Unmarshal(call("POST", "/api/collections/_superusers/auth-with-password", `{"identity":"admin@example.com","password":"secret-pass-1"}`, ""), &su)
	var users struct{ ID string }
	json.Unmarshal(call("GET", "/api/collections/users", "", su.Token), &users)
	call("POST", "/api/collections", `{"name":"posts","listRule":"","viewRule":"","fields":[{"name":"title","type":"text"},{"name":"author","type":"relation","collectionId":"`+users.ID+`","maxSelect":1}]}`, su.Token)
	var posts struct{ ID string }
	json.Unmarshal(call("GET", "/api/collections/posts", "", su.Token), &posts)
	call("POST", "/api/collections", `{"name":"comments","listRule":"","viewRule":"","fields":[{"name":"body","type":"text"},{"name":"post","type":"relation","collectionId":"`+posts.ID+`","maxSelect":1}]}`, su.Token)
	call("PATCH", "/api/collections/users", `{"viewRule":""}`, su.Token)
	var u struct{ ID string }
	json.Unmarshal(call("POST", "/api/collections/users/records", `{"email":"a@example.com","password":"pass-12345","passwordConfirm":"pass-12345","name":"Ann"}`, su.Token), &u)
	for i := range 50 {
		var p struct{ ID string }
		json.Unmarshal(call("POST", "/api/collections/posts/records", fmt.Sprintf(`{"title":"post %d","author":%q}`, i, u.ID), su.Token), &p)
		for j := range 5 {
			call("POST", "/api/collections/comments/records", fmt.Sprintf(`{"body":"comment %d","post":%q}`, j, p.ID), su.Token)
		}
	}
	restPath := "/api/collections/posts/records?perPage=50&skipTotal=1&expand=author,comments_via_post&fields=title,expand.author.name,expand.comments_via_post.body"
	query, _ := json.Marshal(map[string]string{"query": `{ posts(limit: 50) { title author { name } comments_via_post { body } } }`})
	var times [2]time.Duration
	for i, c := range []struct {
		name string
		run  func()
	}{
		{"rest", func() { call("GET", restPath, "", "") }},
		{"graphql", func() { call("POST", "/api/graphql", string(query), "") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				c.run()
			}
			times[i] = time.Since(start) / time.Duration(b.N)
		})
	}
	if times[0] > 0 && times[1] > 0 {
		// A parent of sub-benchmarks prints no metrics of its own.
		b.Logf("graphql/rest = %.2f (%v vs %v per query)", float64(times[1])/float64(times[0]), times[1], times[0])
	}
}
