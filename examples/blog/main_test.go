package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// client drives the example's HTTP API in tests.
type client struct {
	t   *testing.T
	url string
}

// call sends a JSON request and checks its status; out, when set, receives
// the decoded answer.
func (c client) call(method, path, token, body string, want int, out any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// signUp creates a user and returns its id and token.
func (c client) signUp(email string) (id, token string) {
	c.t.Helper()
	body := `{"email":"` + email + `","password":"secret-pass-1","passwordConfirm":"secret-pass-1"}`
	c.call("POST", "/api/collections/users/records", "", body, 200, nil)
	var auth struct {
		Token  string
		Record struct{ ID string }
	}
	c.call("POST", "/api/collections/users/auth-with-password", "", `{"identity":"`+email+`","password":"secret-pass-1"}`, 200, &auth)
	return auth.Record.ID, auth.Token
}

type rec struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Flagged bool   `json:"flagged"`
	Expand  struct {
		Comments []rec `json:"comments_via_post"`
		Author   *struct {
			ID string `json:"id"`
		} `json:"author"`
	} `json:"expand"`
}

type page struct {
	TotalItems int   `json:"totalItems"`
	Items      []rec `json:"items"`
}

func TestBlog(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := newApp(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, DisableRateLimits: true}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		c := client{t, srv.URL}
		ann, annToken := c.signUp("ann@example.com")
		ben, benToken := c.signUp("ben@example.com")

		var post, draft rec
		c.call("POST", "/api/collections/posts/records", annToken, `{"title":"Hello","body":"<p>First post</p>","published":true,"author":"`+ann+`"}`, 200, &post)
		c.call("POST", "/api/collections/posts/records", annToken, `{"title":"Draft","author":"`+ann+`"}`, 200, &draft)
		// Drafts are their author's alone.
		var p page
		c.call("GET", "/api/collections/posts/records", "", "", 200, &p)
		if p.TotalItems != 1 || p.Items[0].ID != post.ID {
			t.Errorf("guest's posts: %+v", p)
		}
		c.call("GET", "/api/collections/posts/records/"+draft.ID, benToken, "", 404, nil)

		comment := func(token, author, postID, body string, want int) rec {
			var r rec
			c.call("POST", "/api/collections/comments/records", token,
				`{"post":"`+postID+`","author":"`+author+`","body":"`+body+`","flagged":false}`, want, &r)
			return r
		}
		comment(benToken, ben, post.ID, "Nice post!", 200)
		comment(annToken, ann, post.ID, "Thanks!", 200)
		// Moderation: a banned word refuses the comment with a 400 naming
		// the field; a link stores it flagged whatever the client sent.
		var refused struct {
			Status  int
			Message string
			Data    map[string]map[string]string
		}
		c.call("POST", "/api/collections/comments/records", benToken,
			`{"post":"`+post.ID+`","author":"`+ben+`","body":"Win at the CASINO"}`, 400, &refused)
		if refused.Message != "The comment was refused by moderation." || refused.Data["body"]["code"] != "moderation_refused" {
			t.Errorf("refusal %+v", refused)
		}
		flagged := comment(benToken, ben, post.ID, "see https://example.com", 200)
		if !flagged.Flagged {
			t.Errorf("a comment with a link is not flagged: %+v", flagged)
		}
		// Nobody comments on a draft, nor as someone else.
		comment(benToken, ben, draft.ID, "early!", 400)
		comment(benToken, ann, post.ID, "I am ann", 400)

		// The post with its comments in one request: the back-relation
		// expand applies the comments' rules, so the flagged one shows
		// only to its author.
		var full rec
		c.call("GET", "/api/collections/posts/records/"+post.ID+"?expand=comments_via_post.author", "", "", 200, &full)
		if len(full.Expand.Comments) != 2 {
			t.Fatalf("guest sees %d comments: %+v", len(full.Expand.Comments), full.Expand.Comments)
		}
		for _, cm := range full.Expand.Comments {
			if cm.Flagged || cm.Expand.Author != nil {
				// Users are private (their view rule): guests get no author.
				t.Errorf("guest sees %+v", cm)
			}
		}
		c.call("GET", "/api/collections/posts/records/"+post.ID+"?expand=comments_via_post", benToken, "", 200, &full)
		if len(full.Expand.Comments) != 3 {
			t.Errorf("ben sees %d comments, want his flagged one too", len(full.Expand.Comments))
		}
		c.call("GET", "/api/collections/comments/records/"+flagged.ID, annToken, "", 404, nil)

		// Deleting the post deletes its comments (cascadeDelete).
		c.call("DELETE", "/api/collections/posts/records/"+post.ID, benToken, "", 404, nil)
		c.call("DELETE", "/api/collections/posts/records/"+post.ID, annToken, "", 204, nil)
		c.call("GET", "/api/collections/comments/records", benToken, "", 200, &p)
		if p.TotalItems != 0 {
			t.Errorf("%d comments outlived their post", p.TotalItems)
		}
	})
}
