package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
)

// sseClient reads one realtime stream.
type sseClient struct {
	t      *testing.T
	id     string
	frames chan [2]string // event, data
	cancel context.CancelFunc
}

func (ta *testApp) connectSSE() *sseClient {
	ta.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ta.srv.URL+"/api/realtime", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	c := &sseClient{t: ta.t, frames: make(chan [2]string, 100), cancel: cancel}
	ta.t.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		defer close(c.frames)
		sc := bufio.NewScanner(res.Body)
		var event, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimPrefix(line, "event:")
			case strings.HasPrefix(line, "data:"):
				data = strings.TrimPrefix(line, "data:")
			case line == "":
				c.frames <- [2]string{event, data}
				event, data = "", ""
			}
		}
	}()
	f := c.next(5 * time.Second)
	if f[0] != "PB_CONNECT" {
		ta.t.Fatalf("first frame %q", f)
	}
	var connect struct{ ClientID string }
	json.Unmarshal([]byte(f[1]), &connect)
	c.id = connect.ClientID
	return c
}

func (c *sseClient) next(wait time.Duration) [2]string {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatal("stream ended")
		}
		return f
	case <-time.After(wait):
		return [2]string{}
	}
}

func (ta *testApp) subscribe(c *sseClient, token string, topics ...string) {
	ta.t.Helper()
	ta.mustJSON("POST", "/api/realtime", map[string]any{"clientId": c.id, "subscriptions": topics}, token, 204, nil)
}

// TestRealtimeRules checks that events reach only subscribers whose rules
// let them see the record, after commit only, and stop when a token dies.
func TestRealtimeRules(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ann, annTok := ta.signUp("ann@example.com")
		bob, bobTok := ta.signUp("bob@example.com")
		owner := "owner = @request.auth.id"
		ta.createCollection(map[string]any{"name": "notes", "listRule": owner, "viewRule": owner, "createRule": "", "deleteRule": owner,
			"fields": []map[string]any{{"name": "text", "type": "text"}, {"name": "owner", "type": "relation", "collectionId": "users", "maxSelect": 1}}})

		annSSE, bobSSE, guestSSE, suSSE := ta.connectSSE(), ta.connectSSE(), ta.connectSSE(), ta.connectSSE()
		ta.subscribe(annSSE, annTok, "notes/*")
		ta.subscribe(bobSSE, bobTok, "notes/*")
		ta.subscribe(guestSSE, "", "notes/*")
		ta.subscribe(suSSE, ta.su, "notes/*?options="+`%7B%22query%22%3A%7B%22expand%22%3A%22owner%22%7D%7D`)

		note := ta.create("notes", map[string]any{"text": "ann's", "owner": ann})
		f := annSSE.next(5 * time.Second)
		if f[0] != "notes/*" || !strings.Contains(f[1], `"action":"create"`) || !strings.Contains(f[1], `"text":"ann's"`) {
			t.Fatalf("ann got %q", f)
		}
		if f := suSSE.next(5 * time.Second); !strings.Contains(f[1], `"expand":{"owner":{`) {
			t.Errorf("superuser's expand option ignored: %q", f)
		}
		// A rolled-back batch publishes nothing.
		ta.do("POST", "/api/batch", map[string]any{"requests": []map[string]any{
			{"method": "POST", "url": "/api/collections/notes/records", "body": map[string]any{"text": "ghost", "owner": ann}},
			{"method": "POST", "url": "/api/collections/notes/records", "body": map[string]any{"text": "bad", "owner": "nope"}},
		}}, ta.su)
		// Bob's own note reaches bob only; ann then deletes hers.
		ta.create("notes", map[string]any{"text": "bob's", "owner": bob})
		if f := bobSSE.next(5 * time.Second); !strings.Contains(f[1], `"text":"bob's"`) {
			t.Fatalf("bob got %q (want his own note first: never ann's, never the rolled-back one)", f)
		}
		ta.mustJSON("DELETE", "/api/collections/notes/records/"+note["id"].(string), nil, annTok, 204, nil)
		if f := annSSE.next(5 * time.Second); !strings.Contains(f[1], `"action":"delete"`) {
			t.Fatalf("ann got %q, want her delete", f)
		}
		// A password change turns ann's subscription into a guest's.
		ta.mustJSON("PATCH", "/api/collections/users/records/"+ann, map[string]any{"password": "user-password-2", "passwordConfirm": "user-password-2"}, ta.su, 200, nil)
		ta.create("notes", map[string]any{"text": "after the change", "owner": ann})
		if f := annSSE.next(500 * time.Millisecond); f[0] != "" {
			t.Errorf("ann still receives after her password changed: %q", f)
		}
		if f := guestSSE.next(200 * time.Millisecond); f[0] != "" {
			t.Errorf("guest received %q", f)
		}
		ta.run(t, []scenario{
			{name: "unknown client", method: "POST", path: "/api/realtime", body: map[string]any{"clientId": "nope", "subscriptions": []string{}}, status: 404},
			{name: "bad topic", method: "POST", path: "/api/realtime", body: map[string]any{"clientId": guestSSE.id, "subscriptions": []string{"no spaces/*"}}, status: 400},
			{name: "auth change refused", method: "POST", path: "/api/realtime", as: bobTok, body: map[string]any{"clientId": annSSE.id, "subscriptions": []string{"notes/*"}}, status: 403},
		})
	})
}

// TestOAuth2Redirect checks the SDK's popup flow: the provider's redirect
// reaches the realtime client whose id is the state, on topic @oauth2.
func TestOAuth2Redirect(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		c := ta.connectSSE()
		ta.subscribe(c, "", "@oauth2")
		status, body := ta.do("GET", "/api/oauth2-redirect?state="+c.id+"&code=the-code", nil, "")
		if status != 200 || !strings.Contains(string(body), "close this window") {
			t.Fatalf("redirect page: %d %s", status, body)
		}
		f := c.next(5 * time.Second)
		if f[0] != "@oauth2" || !strings.Contains(f[1], `"code":"the-code"`) || !strings.Contains(f[1], `"state":"`+c.id+`"`) {
			t.Fatalf("client got %q", f)
		}
		ta.run(t, []scenario{
			{name: "unknown state", method: "GET", path: "/api/oauth2-redirect?state=nope&code=x", status: 400},
			{name: "no state", method: "GET", path: "/api/oauth2-redirect?code=x", status: 400},
		})
	})
}
