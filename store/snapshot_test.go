package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// TestMatchesRecord evaluates rules against record snapshots that are not
// (or no longer) in the database, on both backends.
func TestMatchesRecord(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openStore(t, b, store.Config{})
		var def schema.Collection
		if err := json.Unmarshal([]byte(`{"name": "posts", "type": "base", "fields": [
			{"name": "title", "type": "text"}, {"name": "views", "type": "number"}, {"name": "public", "type": "bool"},
			{"name": "tags", "type": "select", "maxSelect": 3, "values": ["a", "b", "c"]},
			{"name": "meta", "type": "json"},
			{"name": "owner", "type": "relation", "collectionId": "users", "maxSelect": 1}]}`), &def); err != nil {
			t.Fatal(err)
		}
		posts, err := st.SaveCollection(ctx, &def)
		if err != nil {
			t.Fatal(err)
		}
		users := st.Schema().Lookup("users")
		ann := newRecord(users, map[string]any{"email": "ann@example.com", "password": "x", "name": "Ann"})
		if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.Insert(ctx, ann) }); err != nil {
			t.Fatal(err)
		}
		post := schema.NewRecord(posts)
		for k, v := range map[string]any{"title": "Hello", "views": 7.0, "public": true, "tags": []string{"a", "c"},
			"meta": json.RawMessage(`{"lang":"en"}`), "owner": ann.ID()} {
			post.Set(k, v)
		}
		schema.Prepare(post, true, time.Now())
		// post is never inserted: it stands for a deleted record.
		annAuth := &filter.RequestInfo{Auth: ann}
		guest := &filter.RequestInfo{}
		for _, tc := range []struct {
			rule string
			req  *filter.RequestInfo
			want bool
		}{
			{"", guest, true},
			{"title = 'Hello'", guest, true},
			{"title = 'hello'", guest, false},
			{"views > 5 && public = true", guest, true},
			{"views > 7", guest, false},
			{"tags ?= 'c'", guest, true},
			{"tags ?= 'b'", guest, false},
			{"meta.lang = 'en'", guest, true},
			{"owner = @request.auth.id", annAuth, true},
			{"owner = @request.auth.id", guest, false},
			{"owner.name = 'Ann'", guest, true},
			{"id = '" + post.ID() + "'", guest, true},
		} {
			got, err := st.MatchesRecord(ctx, post, tc.req, tc.rule)
			if err != nil {
				t.Errorf("%q: %v", tc.rule, err)
				continue
			}
			if got != tc.want {
				t.Errorf("%q: got %v, want %v", tc.rule, got, tc.want)
			}
		}
	})
}
