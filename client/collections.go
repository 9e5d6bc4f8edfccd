package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
)

// Collection is a collection's definition as superusers read it.
type Collection struct {
	// ID is the collection's id, e.g. "_pb_users_auth_".
	ID string `json:"id,omitempty"`
	// Name is the collection's name, used in record paths.
	Name string `json:"name"`
	// Type is "base", "auth" or "view".
	Type string `json:"type"`
	// System marks the built-in collections, which cannot be deleted.
	System bool `json:"system,omitempty"`
	// Fields are the collection's fields, in order.
	Fields []Field `json:"fields"`
	// Indexes are CREATE INDEX statements.
	Indexes []string `json:"indexes,omitempty"`
	// ListRule, ViewRule, CreateRule, UpdateRule and DeleteRule are the
	// access rules: nil means superusers only, "" everyone, otherwise a
	// filter expression that must hold.
	ListRule *string `json:"listRule"`
	// ViewRule: see ListRule.
	ViewRule *string `json:"viewRule"`
	// CreateRule: see ListRule.
	CreateRule *string `json:"createRule"`
	// UpdateRule: see ListRule.
	UpdateRule *string `json:"updateRule"`
	// DeleteRule: see ListRule.
	DeleteRule *string `json:"deleteRule"`
	// AuthRule (auth collections) must hold for a record to sign in; nil
	// when not an auth collection or not set.
	AuthRule *string `json:"authRule,omitempty"`
	// ManageRule (auth collections) lets its holders change other
	// records' email and password.
	ManageRule *string `json:"manageRule,omitempty"`
	// ViewQuery is a view collection's SELECT.
	ViewQuery string `json:"viewQuery,omitempty"`
}

// Field returns the field with the given name, or nil.
func (c *Collection) Field(name string) *Field {
	for i := range c.Fields {
		if c.Fields[i].Name == name {
			return &c.Fields[i]
		}
	}
	return nil
}

// Field is one field of a collection. The properties common to every
// field type have their own members; the type's options (maxSelect,
// values, collectionId, ...) are kept in Options, and written back inline
// by MarshalJSON.
type Field struct {
	// ID is the field's id.
	ID string `json:"id,omitempty"`
	// Name is the field's name, the record's key.
	Name string `json:"name"`
	// Type is the field type: text, number, bool, email, url, editor,
	// date, autodate, select, file, relation, json, password or geoPoint.
	Type string `json:"type"`
	// System marks fields the collection type requires.
	System bool `json:"system,omitempty"`
	// Hidden fields are left out of records except for superusers.
	Hidden bool `json:"hidden,omitempty"`
	// Presentable fields label the record in the dashboard.
	Presentable bool `json:"presentable,omitempty"`
	// Required fields must be set and non-empty.
	Required bool `json:"required,omitempty"`
	// Options holds every other property of the field, by its JSON name.
	Options map[string]any `json:"-"`
}

// fieldCommon is Field without its methods, for encoding.
type fieldCommon Field

// UnmarshalJSON reads the common properties and keeps the rest in Options.
func (f *Field) UnmarshalJSON(data []byte) error {
	var common fieldCommon
	if err := json.Unmarshal(data, &common); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for _, k := range []string{"id", "name", "type", "system", "hidden", "presentable", "required"} {
		delete(all, k)
	}
	*f = Field(common)
	if len(all) > 0 {
		f.Options = all
	}
	return nil
}

// MarshalJSON writes the common properties and Options in one object.
func (f Field) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(fieldCommon(f))
	if err != nil || len(f.Options) == 0 {
		return data, err
	}
	all := make(map[string]any, len(f.Options)+7)
	for k, v := range f.Options {
		all[k] = v
	}
	var common map[string]any
	if err := json.Unmarshal(data, &common); err != nil {
		return nil, err
	}
	for k, v := range common {
		all[k] = v
	}
	return json.Marshal(all)
}

// Collections returns every collection, system ones included, reading all
// pages (superusers only).
func (c *Client) Collections(ctx context.Context) ([]Collection, error) {
	var out []Collection
	for page := 1; ; page++ {
		var res Page[Collection]
		q := url.Values{"page": {strconv.Itoa(page)}, "perPage": {"200"}}
		if err := c.call(ctx, opCollections, nil, q, nil, &res); err != nil {
			return nil, err
		}
		out = append(out, res.Items...)
		if len(res.Items) == 0 || page >= res.TotalPages {
			return out, nil
		}
	}
}

// Collection returns one collection by id or name (superusers only).
func (c *Client) Collection(ctx context.Context, idOrName string) (*Collection, error) {
	var col Collection
	if err := c.call(ctx, opCollection, []string{idOrName}, nil, nil, &col); err != nil {
		return nil, err
	}
	return &col, nil
}
