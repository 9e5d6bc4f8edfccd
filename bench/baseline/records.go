package main

import (
	"database/sql"
	"encoding/json"
)

// postColumns is the column list of the benchmark "posts" schema, in the
// order scanPost expects.
const postColumns = `"id","title","score","published","status","meta","owner","created","updated"`

// statusValues are the allowed values of the posts "status" select field.
var statusValues = map[string]bool{"draft": true, "live": true, "archived": true}

// post is one record of a collection with the benchmark schema, shaped as
// PocketBase renders it.
type post struct {
	CollectionID   string          `json:"collectionId"`
	CollectionName string          `json:"collectionName"`
	ID             string          `json:"id"`
	Title          string          `json:"title"`
	Score          float64         `json:"score"`
	Published      bool            `json:"published"`
	Status         string          `json:"status"`
	Meta           json.RawMessage `json:"meta"`
	Owner          string          `json:"owner"`
	Created        string          `json:"created"`
	Updated        string          `json:"updated"`
}

// rowScanner is satisfied by *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanPost reads one row selected with postColumns. NULLs (possible in
// rows Plinth wrote with defaults) become the field's zero value.
func scanPost(sc rowScanner, coll *collection) (post, error) {
	var (
		title, status, owner, created, updated sql.NullString
		score                                  sql.NullFloat64
		published                              sql.NullBool
		meta                                   []byte
		p                                      post
	)
	if err := sc.Scan(&p.ID, &title, &score, &published, &status, &meta, &owner, &created, &updated); err != nil {
		return p, err
	}
	p.CollectionID, p.CollectionName = coll.id, coll.name
	p.Title, p.Score, p.Published, p.Status = title.String, score.Float64, published.Bool, status.String
	p.Owner, p.Created, p.Updated = owner.String, created.String, updated.String
	if len(meta) == 0 {
		p.Meta = json.RawMessage("null")
	} else {
		p.Meta = json.RawMessage(append([]byte(nil), meta...))
	}
	return p, nil
}

// postInput is a create or update body. Pointer fields distinguish "absent"
// from the zero value so that PATCH only touches what was sent.
type postInput struct {
	ID        *string          `json:"id"`
	Title     *string          `json:"title"`
	Score     *float64         `json:"score"`
	Published *bool            `json:"published"`
	Status    *string          `json:"status"`
	Meta      *json.RawMessage `json:"meta"`
	Owner     *string          `json:"owner"`
}

// apply merges in into p and validates the result; it returns the field
// errors in PocketBase's error-data shape, or nil.
func (in postInput) apply(p *post) map[string]fieldError {
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Score != nil {
		p.Score = *in.Score
	}
	if in.Published != nil {
		p.Published = *in.Published
	}
	if in.Status != nil {
		p.Status = *in.Status
	}
	if in.Meta != nil {
		p.Meta = *in.Meta
	}
	if in.Owner != nil {
		p.Owner = *in.Owner
	}
	if len(p.Meta) == 0 {
		p.Meta = json.RawMessage("null")
	}
	if p.Status != "" && !statusValues[p.Status] {
		return map[string]fieldError{"status": {Code: "validation_invalid_value", Message: "Invalid value " + p.Status + "."}}
	}
	return nil
}
