package realtime

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"
)

func opts(jsonText string) string { return "?options=" + url.QueryEscape(jsonText) }

func TestParseTopic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		collection string
		record     string
		query      map[string]string
		headers    map[string]string
	}{
		{in: "posts/*", collection: "posts", record: "*"},
		{in: "posts/abc123", collection: "posts", record: "abc123"},
		{in: "pbc_3142635823/*", collection: "pbc_3142635823", record: "*"},
		{in: "Posts_2/rec-id_1", collection: "Posts_2", record: "rec-id_1"},
		{
			in:         "posts/*" + opts(`{"query":{"filter":"a = 1","expand":"author","page":2,"flag":true,"none":null},"headers":{"X-Token":"t"}}`),
			collection: "posts", record: "*",
			query:   map[string]string{"filter": "a = 1", "expand": "author", "page": "2", "flag": "true", "none": ""},
			headers: map[string]string{"x-token": "t"},
		},
		{in: "posts/r1" + opts(`{}`), collection: "posts", record: "r1"},
		{in: "posts/r1" + opts(`{"query":{},"headers":null}`), collection: "posts", record: "r1"},
		// The SDK appends with & when the topic already has a query.
		{in: "posts/*?x=1&options=" + url.QueryEscape(`{"query":{"a":"b"}}`), collection: "posts", record: "*", query: map[string]string{"a": "b"}},
		// Unknown option keys are ignored for forward compatibility.
		{in: "posts/*" + opts(`{"query":{"a":"1"},"future":1}`), collection: "posts", record: "*", query: map[string]string{"a": "1"}},
		{in: "posts/*" + opts(`{"query":{"n":1.50}}`), collection: "posts", record: "*", query: map[string]string{"n": "1.50"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			s, err := ParseTopic(tt.in, 0)
			if err != nil {
				t.Fatal(err)
			}
			if s.Topic != tt.in || s.Collection != tt.collection || s.RecordID != tt.record {
				t.Fatalf("got %+v", s)
			}
			if !maps.Equal(s.Query, tt.query) || !maps.Equal(s.Headers, tt.headers) {
				t.Fatalf("options: query %v headers %v, want %v %v", s.Query, s.Headers, tt.query, tt.headers)
			}
			if s.Wildcard() != (tt.record == "*") {
				t.Fatal("Wildcard")
			}
		})
	}
}

func TestParseTopicInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, wantInMessage string }{
		{"po sts", "custom topic"},
		{"/*", "collection"},
		{"posts/", "record"},
		{"posts/a/b", "record"},
		{"posts/*x", "record"},
		{"po-sts/*", "collection"},
		{"posts/a b", "record"},
		{"posts/*\nevent:x", "control character"},
		{"posts/*\r", "control character"},
		{"posts/\xff", "UTF-8"},
		{"posts/*?options=%ZZ", "query string"},
		{"posts/*" + opts(`{"query":`), "invalid options"},
		{"posts/*" + opts(`[1]`), "invalid options"},
		{"posts/*" + opts(`{"query":{"a":{"b":1}}}`), "query.a must be"},
		{"posts/*" + opts(`{"headers":{"h":[1]}}`), "headers.h must be"},
		{"posts/*" + opts(`{"query":{"a":"b"}} x`), "trailing"},
		{"posts/" + strings.Repeat("a", DefaultMaxTopicLength), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseTopic(tt.in, 0)
			if !errors.Is(err, ErrInvalidSubscription) {
				t.Fatalf("err = %v, want ErrInvalidSubscription", err)
			}
			if !strings.Contains(err.Error(), tt.wantInMessage) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.wantInMessage)
			}
		})
	}
}

func TestParseTopicsDedupAndLimits(t *testing.T) {
	t.Parallel()
	subs, err := ParseTopics([]string{"posts/*", "", "posts/*", "posts/r1"}, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 || subs[0].Topic != "posts/*" || subs[1].Topic != "posts/r1" {
		t.Fatalf("got %+v", subs)
	}
	if _, err := ParseTopics([]string{"a/*", "b/*", "c/*"}, 2, 0, 0); !errors.Is(err, ErrInvalidSubscription) {
		t.Fatalf("over the count limit: %v", err)
	}
	if _, err := ParseTopics([]string{"posts/abcdef"}, 0, 10, 0); !errors.Is(err, ErrInvalidSubscription) {
		t.Fatalf("over the length limit: %v", err)
	}
	if subs, err := ParseTopics(nil, 0, 0, 0); err != nil || len(subs) != 0 {
		t.Fatalf("empty list: %v %v", subs, err)
	}
	// Each distinct filter is one more query per write: they are capped,
	// while the same options on many topics count once.
	var filtered, shared []string
	for i := range 3 {
		filtered = append(filtered, fmt.Sprintf(`posts/*?options={"query":{"filter":"n=%d"}}`, i))
		shared = append(shared, fmt.Sprintf(`posts/r%d?options={"query":{"filter":"n=1"}}`, i))
	}
	if _, err := ParseTopics(filtered, 0, 0, 2); !errors.Is(err, ErrInvalidSubscription) {
		t.Fatalf("over the option-set limit: %v", err)
	}
	if _, err := ParseTopics(append(shared, "posts/*"), 0, 0, 1); err != nil {
		t.Fatalf("one option set on many topics: %v", err)
	}
}

func TestOptionsKeyIgnoresOrder(t *testing.T) {
	t.Parallel()
	a, _ := ParseTopic("posts/*"+opts(`{"query":{"a":"1","b":"2"},"headers":{"X":"y"}}`), 0)
	b, _ := ParseTopic("posts/*"+opts(`{"headers":{"x":"y"},"query":{"b":"2","a":"1"}}`), 0)
	c, _ := ParseTopic("posts/*"+opts(`{"query":{"a":"1","b":"3"}}`), 0)
	// Keys and values that would collide under naive concatenation.
	d, _ := ParseTopic("posts/*"+opts(`{"query":{"a":"1b2"}}`), 0)
	e, _ := ParseTopic("posts/*"+opts(`{"query":{"a1":"b2"}}`), 0)
	if a.optKey != b.optKey {
		t.Fatalf("same options, different keys: %q %q", a.optKey, b.optKey)
	}
	if a.optKey == c.optKey || d.optKey == e.optKey {
		t.Fatal("different options share a key")
	}
	plain, _ := ParseTopic("posts/*", 0)
	if plain.optKey != "" {
		t.Fatalf("no options: key %q", plain.optKey)
	}
}
