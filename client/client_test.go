package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/client"
)

// TestRequestsAndErrors checks what the client sends and how it reads
// answers it cannot get from a healthy Plinth: a proxy's page, a broken
// body, a cancelled context.
func TestRequestsAndErrors(t *testing.T) {
	var got *http.Request
	var gotBody string
	answer := func(w http.ResponseWriter) {}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		got, gotBody = r, string(data)
		answer(w)
	}))
	defer srv.Close()
	ctx := context.Background()
	c := client.New(srv.URL+"/", client.WithToken("tok"))

	answer = func(w http.ResponseWriter) {
		w.Write([]byte(`{"page":2,"perPage":5,"totalItems":-1,"totalPages":-1,"items":[{"id":"a","n":1}]}`))
	}
	res, err := c.List(ctx, "my posts", client.ListOptions{Page: 2, PerPage: 5, Filter: `a = "b"`, Sort: "-created", Expand: "author", Fields: "id", SkipTotal: true})
	if err != nil || res.Items[0].ID() != "a" || res.Items[0].Int("n") != 1 {
		t.Fatalf("List: %+v, %v", res, err)
	}
	if got.URL.EscapedPath() != "/api/collections/my%20posts/records" || got.Header.Get("Authorization") != "tok" {
		t.Errorf("request: %s %s %v", got.Method, got.URL, got.Header)
	}
	if q := got.URL.Query(); q.Get("page") != "2" || q.Get("perPage") != "5" || q.Get("filter") != `a = "b"` || q.Get("sort") != "-created" ||
		q.Get("expand") != "author" || q.Get("fields") != "id" || q.Get("skipTotal") != "true" {
		t.Errorf("query: %v", q)
	}

	answer = func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }
	if err := c.Delete(ctx, "posts", "a/b"); err != nil || got.Method != "DELETE" || got.URL.EscapedPath() != "/api/collections/posts/records/a%2Fb" {
		t.Errorf("Delete: %v, %s %s", err, got.Method, got.URL.EscapedPath())
	}

	answer = func(w http.ResponseWriter) { w.Write([]byte(`{"id":"x"}`)) }
	if _, err := c.Update(ctx, "posts", "x", map[string]any{"n+": 1}); err != nil || got.Method != "PATCH" || gotBody != `{"n+":1}` || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Update: %v, %s %q %v", err, got.Method, gotBody, got.Header)
	}

	answer = func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"status":400,"message":"Failed.","data":{"title":{"code":"validation_required","message":"Missing."}}}`))
	}
	_, err = c.Create(ctx, "posts", map[string]any{})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.FieldCode("title") != "validation_required" || apiErr.FieldMessage("title") != "Missing." ||
		apiErr.Method != "POST" || apiErr.Path != "/api/collections/posts/records" {
		t.Fatalf("Create: %#v", err)
	}
	if want := "plinth: 400 POST /api/collections/posts/records: Failed. [title (validation_required)]"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if wrapped := errors.Join(errors.New("context"), err); !client.IsStatus(wrapped, 400) || client.IsStatus(wrapped, 404) {
		t.Error("IsStatus does not see through wrapping")
	}

	answer = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"status":401,"message":"Second factor.","data":{},"mfaId":"m1"}`))
	}
	if _, err := c.AuthWithPassword(ctx, "users", "a", "b"); !errors.As(err, &apiErr) || apiErr.MFAID != "m1" {
		t.Errorf("MFA: %v", err)
	}
	if c.Token() != "tok" {
		t.Errorf("a failed sign-in changed the token to %q", c.Token())
	}

	answer = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>bad gateway</html>"))
	}
	if _, err := c.Health(ctx); !errors.As(err, &apiErr) || apiErr.Status != 502 || !strings.Contains(apiErr.Message, "bad gateway") || apiErr.Data == nil {
		t.Errorf("a proxy's page: %#v", err)
	}

	answer = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"status":429,"message":"Too many requests.","data":[]}`))
	}
	if _, err := c.Health(ctx); !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.Message != "Too many requests." || apiErr.Data == nil {
		t.Errorf("data that is not an object: %#v", err)
	}

	answer = func(w http.ResponseWriter) { w.Write([]byte(`{"code":`)) }
	if _, err := c.Health(ctx); err == nil || errors.As(err, &apiErr) {
		t.Errorf("a broken body: %v", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Health(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %v", err)
	}

	if err := c.Send(ctx, "GET", "/api/x", make(chan int), nil); err == nil {
		t.Error("Send encoded a channel")
	}
}

func TestRecordHelpers(t *testing.T) {
	r := client.Record{
		"id": "abc", "collectionName": "posts", "collectionId": "pbc_1", "title": "T", "n": 2.0, "ok": true,
		"tags": []any{"a", "b"}, "one": "x", "none": "", "when": "2024-01-02 03:04:05.678Z",
		"expand": map[string]any{"author": map[string]any{"id": "u1"}, "comments": []any{map[string]any{"id": "c1"}, map[string]any{"id": "c2"}}},
	}
	if r.ID() != "abc" || r.CollectionName() != "posts" || r.CollectionID() != "pbc_1" || r.String("title") != "T" || r.String("n") != "" ||
		r.Float("n") != 2 || r.Int("n") != 2 || !r.Bool("ok") || r.Bool("title") {
		t.Errorf("scalar helpers on %v", r)
	}
	if got := r.Strings("tags"); len(got) != 2 || got[1] != "b" {
		t.Errorf("Strings(tags) = %v", got)
	}
	if got := r.Strings("one"); len(got) != 1 || r.Strings("none") != nil {
		t.Errorf("Strings of one and none: %v %v", got, r.Strings("none"))
	}
	if w := r.Time("when"); w.Year() != 2024 || w.Nanosecond() != 678_000_000 || !r.Time("title").IsZero() {
		t.Errorf("Time: %v", w)
	}
	if a := r.Expanded("author"); len(a) != 1 || a[0].ID() != "u1" {
		t.Errorf("Expanded(author) = %v", a)
	}
	if c := r.Expanded("comments"); len(c) != 2 || c[1].ID() != "c2" || r.Expanded("nothing") != nil {
		t.Errorf("Expanded(comments) = %v", c)
	}
	var v struct {
		ID   string   `json:"id"`
		Tags []string `json:"tags"`
	}
	if err := r.Decode(&v); err != nil || v.ID != "abc" || len(v.Tags) != 2 {
		t.Errorf("Decode: %+v, %v", v, err)
	}
}

func TestFieldJSON(t *testing.T) {
	var f client.Field
	if err := f.UnmarshalJSON([]byte(`{"id":"f1","name":"tags","type":"select","required":true,"values":["a"],"maxSelect":2}`)); err != nil {
		t.Fatal(err)
	}
	if f.Name != "tags" || !f.Required || f.Options["maxSelect"] != 2.0 || f.Options["name"] != nil {
		t.Fatalf("%+v", f)
	}
	data, err := f.MarshalJSON()
	if err != nil || string(data) != `{"id":"f1","maxSelect":2,"name":"tags","required":true,"type":"select","values":["a"]}` {
		t.Errorf("MarshalJSON: %s, %v", data, err)
	}
}
