// Package e2e drives an example application over HTTP in its end-to-end
// test: JSON calls with a status check, sign-up, batch requests and
// realtime (SSE) subscriptions, the way a client or the JavaScript SDK
// would.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Client calls one server as a test.
type Client struct {
	T   *testing.T
	URL string
}

// New returns a client of srv.
func New(t *testing.T, srv *httptest.Server) Client { return Client{T: t, URL: srv.URL} }

// Do sends a request with body (a string is sent as is, anything else as
// JSON) and the token as Authorization when set, and returns the status
// and the answer's body.
func (c Client) Do(method, path, token string, body any) (int, []byte) {
	c.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.T.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// Call is Do that fails the test unless the status is want; out, when not
// nil, receives the decoded answer.
func (c Client) Call(method, path, token string, body any, want int, out any) {
	c.T.Helper()
	status, data := c.Do(method, path, token, body)
	if status != want {
		c.T.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.T.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// Password is the password of the users SignUp creates.
const Password = "secret-pass-1"

// SignUp creates a user in the users collection, signs in and returns
// the user's id and token.
func (c Client) SignUp(email string) (id, token string) {
	c.T.Helper()
	c.Call("POST", "/api/collections/users/records", "", map[string]string{"email": email, "password": Password, "passwordConfirm": Password}, 200, nil)
	var auth struct {
		Token  string
		Record struct{ ID string }
	}
	c.Call("POST", "/api/collections/users/auth-with-password", "", map[string]string{"identity": email, "password": Password}, 200, &auth)
	return auth.Record.ID, auth.Token
}

// Page is a list answer.
type Page[T any] struct {
	TotalItems int `json:"totalItems"`
	Items      []T `json:"items"`
}

// Stream is one realtime connection (GET /api/realtime).
type Stream struct {
	c      Client
	ID     string
	frames chan Event
}

// Event is one server-sent event: its name (the topic) and data.
type Event struct {
	Name string
	Data string
}

// Connect opens a realtime stream and waits for its PB_CONNECT event.
// The stream closes with the test.
func (c Client) Connect() *Stream {
	c.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.URL+"/api/realtime", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		c.T.Fatal(err)
	}
	s := &Stream{c: c, frames: make(chan Event, 100)}
	c.T.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		defer close(s.frames)
		sc := bufio.NewScanner(res.Body)
		var ev Event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				ev.Name = strings.TrimPrefix(line, "event:")
			case strings.HasPrefix(line, "data:"):
				ev.Data = strings.TrimPrefix(line, "data:")
			case line == "":
				s.frames <- ev
				ev = Event{}
			}
		}
	}()
	first, ok := s.Next(5 * time.Second)
	if !ok || first.Name != "PB_CONNECT" {
		c.T.Fatalf("first realtime event %+v", first)
	}
	var connect struct{ ClientID string }
	if err := json.Unmarshal([]byte(first.Data), &connect); err != nil {
		c.T.Fatal(err)
	}
	s.ID = connect.ClientID
	return s
}

// Subscribe sets the stream's subscriptions, as the caller of token.
func (s *Stream) Subscribe(token string, topics ...string) {
	s.c.T.Helper()
	s.c.Call("POST", "/api/realtime", token, map[string]any{"clientId": s.ID, "subscriptions": topics}, 204, nil)
}

// Next returns the next event, or false when none came within wait.
func (s *Stream) Next(wait time.Duration) (Event, bool) {
	select {
	case ev, ok := <-s.frames:
		return ev, ok
	case <-time.After(wait):
		return Event{}, false
	}
}
