package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/examples/internal/e2e"
	"github.com/plinthdev/plinth/internal/testenv"
)

type link struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	URL  string `json:"url"`
	Hits int    `json:"hits"`
}

type click struct {
	Link     string `json:"link"`
	Referrer string `json:"referrer"`
}

func TestShortener(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		// Rate limits on: creation is limited by the rule newApp adds.
		app, err := newApp(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		c := e2e.New(t, srv)
		me, token := c.SignUp("sam@example.com")
		_, otherToken := c.SignUp("eve@example.com")
		posts := 0
		create := func(body string, want int) link {
			t.Helper()
			posts++
			var l link
			c.Call("POST", "/api/collections/links/records", token, body, want, &l)
			return l
		}

		docs := create(`{"url":"https://example.com/docs","slug":"docs","owner":"`+me+`"}`, 200)
		gen := create(`{"url":"https://example.com/a/very/long/path?x=1","owner":"`+me+`"}`, 200)
		if docs.Slug != "docs" || len(gen.Slug) != 7 {
			t.Errorf("slugs %q and %q", docs.Slug, gen.Slug)
		}
		// Slugs are unique; clients cannot set hits.
		create(`{"url":"https://example.org","slug":"docs","owner":"`+me+`"}`, 400)
		create(`{"url":"https://example.org","hits":1000,"owner":"`+me+`"}`, 400)

		// The redirect answers 302 and each click counts, also when
		// clicks come at once.
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		const clicks = 12
		var wg sync.WaitGroup
		for range clicks {
			wg.Go(func() {
				req, _ := http.NewRequest("GET", srv.URL+"/s/"+gen.Slug, nil)
				req.Header.Set("Referer", "https://news.example.net/item?id=7")
				res, err := noFollow.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusFound || res.Header.Get("Location") != gen.URL {
					t.Errorf("redirect: %d to %q", res.StatusCode, res.Header.Get("Location"))
				}
			})
		}
		wg.Wait()
		var got link
		c.Call("GET", "/api/collections/links/records/"+gen.ID, token, nil, 200, &got)
		if got.Hits != clicks {
			t.Errorf("hits %d, want %d", got.Hits, clicks)
		}
		// The owner reads the clicks (referrer host only); nobody else.
		var cl e2e.Page[click]
		c.Call("GET", "/api/collections/clicks/records?perPage=1", token, nil, 200, &cl)
		if cl.TotalItems != clicks || cl.Items[0].Referrer != "news.example.net" || cl.Items[0].Link != gen.ID {
			t.Errorf("owner's clicks: %+v", cl)
		}
		c.Call("GET", "/api/collections/clicks/records", otherToken, nil, 200, &cl)
		if cl.TotalItems != 0 {
			t.Errorf("someone else sees %d clicks", cl.TotalItems)
		}
		c.Call("POST", "/api/collections/clicks/records", token, map[string]any{"link": gen.ID}, 403, nil)
		c.Call("GET", "/s/nope", "", nil, 404, nil)
		c.Call("PATCH", "/api/collections/links/records/"+gen.ID, token, `{"hits":0}`, 404, nil)
		c.Call("GET", "/api/collections/links/records/"+gen.ID, otherToken, nil, 404, nil)

		// The settings' links:create rule allows 5 creations a minute.
		for posts < createLimit.MaxRequests {
			create(`{"url":"https://example.net","owner":"`+me+`"}`, 200)
		}
		create(`{"url":"https://example.net","owner":"`+me+`"}`, 429)

		// Deleting a link deletes its clicks.
		c.Call("DELETE", "/api/collections/links/records/"+gen.ID, token, nil, 204, nil)
		c.Call("GET", "/api/collections/clicks/records", token, nil, 200, &cl)
		if cl.TotalItems != 0 {
			t.Errorf("%d clicks outlived their link", cl.TotalItems)
		}
	})
}
