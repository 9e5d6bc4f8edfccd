package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Record is one record as the API returns it: its field values by name,
// plus "id", "collectionId", "collectionName" and, when asked for,
// "expand". JSON numbers are float64.
type Record map[string]any

// ID returns the record's id.
func (r Record) ID() string { return r.String("id") }

// CollectionName returns the name of the record's collection.
func (r Record) CollectionName() string { return r.String("collectionName") }

// CollectionID returns the id of the record's collection.
func (r Record) CollectionID() string { return r.String("collectionId") }

// String returns the named field if it is a string, else "".
func (r Record) String(name string) string {
	s, _ := r[name].(string)
	return s
}

// Float returns the named field if it is a number, else 0.
func (r Record) Float(name string) float64 {
	f, _ := r[name].(float64)
	return f
}

// Int returns the named field if it is a number, truncated, else 0.
func (r Record) Int(name string) int { return int(r.Float(name)) }

// Bool returns the named field if it is a bool, else false.
func (r Record) Bool(name string) bool {
	b, _ := r[name].(bool)
	return b
}

// Strings returns the named field as a list of strings: a multi-value
// select, relation or file field. A single string gives a list of one ("" a
// nil list).
func (r Record) Strings(name string) []string {
	switch v := r[name].(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Time returns the named date field ("2006-01-02 15:04:05.000Z", UTC), or
// the zero time when it is empty or not a date.
func (r Record) Time(name string) time.Time {
	t, err := time.Parse(DateLayout, r.String(name))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Expanded returns the records expanded for the named relation (see
// ListOptions.Expand), whether it holds one record or many; nil when
// nothing was expanded under that name.
func (r Record) Expanded(name string) []Record {
	exp, _ := r["expand"].(map[string]any)
	switch v := exp[name].(type) {
	case map[string]any:
		return []Record{v}
	case []any:
		out := make([]Record, 0, len(v))
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// Decode decodes the record into v, a pointer to the caller's struct,
// through JSON (so json tags apply).
func (r Record) Decode(v any) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("plinth: encode record: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("plinth: decode record: %w", err)
	}
	return nil
}

// DateLayout is the layout of date and autodate values on the wire.
const DateLayout = "2006-01-02 15:04:05.000Z"

// Page is one page of a list. TotalItems and TotalPages are -1 when the
// list was asked with SkipTotal.
type Page[T any] struct {
	// Page is the page number, from 1.
	Page int `json:"page"`
	// PerPage is the page size used.
	PerPage int `json:"perPage"`
	// TotalItems is the number of items matching, or -1.
	TotalItems int `json:"totalItems"`
	// TotalPages is the number of pages, or -1.
	TotalPages int `json:"totalPages"`
	// Items are the page's items.
	Items []T `json:"items"`
}

// ListResult is a page of records.
type ListResult = Page[Record]

// ListOptions are the query parameters of a list; zero values are left
// out (the server's defaults: page 1, 30 per page, no filter, default
// order).
type ListOptions struct {
	// Page is the page number, from 1.
	Page int
	// PerPage is the page size, at most 1000.
	PerPage int
	// Filter is a filter expression such as `status = "open"`; build it
	// with Filter when it holds values from users.
	Filter string
	// Sort is a comma list of fields, "-" first for descending, e.g.
	// "-created,title".
	Sort string
	// Expand is a comma list of relations to expand, e.g.
	// "author,comments_via_post".
	Expand string
	// Fields limits the fields returned, e.g. "id,title,expand.author.name".
	Fields string
	// SkipTotal skips counting (TotalItems and TotalPages are then -1).
	SkipTotal bool
}

func (o ListOptions) query() url.Values {
	q := ViewOptions{Expand: o.Expand, Fields: o.Fields}.query()
	if o.Page > 0 {
		q.Set("page", strconv.Itoa(o.Page))
	}
	if o.PerPage > 0 {
		q.Set("perPage", strconv.Itoa(o.PerPage))
	}
	if o.Filter != "" {
		q.Set("filter", o.Filter)
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
	if o.SkipTotal {
		q.Set("skipTotal", "true")
	}
	return q
}

// ViewOptions are the query parameters of reading one record.
type ViewOptions struct {
	// Expand is a comma list of relations to expand.
	Expand string
	// Fields limits the fields returned.
	Fields string
}

func (o ViewOptions) query() url.Values {
	q := url.Values{}
	if o.Expand != "" {
		q.Set("expand", o.Expand)
	}
	if o.Fields != "" {
		q.Set("fields", o.Fields)
	}
	return q
}

// List returns a page of the records of collection that the list rule
// lets the caller see.
func (c *Client) List(ctx context.Context, collection string, opts ListOptions) (*ListResult, error) {
	return ListAs[Record](ctx, c, collection, opts)
}

// View returns one record; a record that does not exist or that the view
// rule hides is a 404 [*Error].
func (c *Client) View(ctx context.Context, collection, id string, opts ViewOptions) (Record, error) {
	return ViewAs[Record](ctx, c, collection, id, opts)
}

// Create creates a record from body, any value that encodes as a JSON
// object (a map, a Record or the caller's struct), and returns it as
// stored. A body that fails validation is a 400 [*Error] naming the
// fields (see Error.FieldCode). Files cannot be uploaded this way.
func (c *Client) Create(ctx context.Context, collection string, body any) (Record, error) {
	var rec Record
	if err := c.call(ctx, opCreate, []string{collection}, nil, body, &rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// Update changes the fields of a record that body sets (field modifiers
// such as "views+" included) and returns the record as stored.
func (c *Client) Update(ctx context.Context, collection, id string, body any) (Record, error) {
	var rec Record
	if err := c.call(ctx, opUpdate, []string{collection, id}, nil, body, &rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// Delete deletes a record.
func (c *Client) Delete(ctx context.Context, collection, id string) error {
	return c.call(ctx, opDelete, []string{collection, id}, nil, nil, nil)
}

// ListAs is List decoding each record into T, the caller's struct (or
// Record), through JSON.
func ListAs[T any](ctx context.Context, c *Client, collection string, opts ListOptions) (*Page[T], error) {
	var res Page[T]
	if err := c.call(ctx, opList, []string{collection}, opts.query(), nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ViewAs is View decoding the record into T, the caller's struct (or
// Record), through JSON.
func ViewAs[T any](ctx context.Context, c *Client, collection, id string, opts ViewOptions) (T, error) {
	var rec T
	if err := c.call(ctx, opView, []string{collection, id}, opts.query(), nil, &rec); err != nil {
		var zero T
		return zero, err
	}
	return rec, nil
}
