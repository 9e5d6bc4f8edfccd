package schema

import "fmt"

func init() { Register("relation", func() Options { return &RelationOptions{MaxSelect: 1} }) }

// RelationOptions are the options of a relation field: record ids of the
// collection CollectionID. MaxSelect ≤ 1 makes a single relation holding a
// string; more makes a multi relation holding a []string. CascadeDelete
// deletes the referencing record (or, for a multi relation, removes the id)
// when the target is deleted; the store implements it.
type RelationOptions struct {
	CollectionID  string `json:"collectionId"`
	CascadeDelete bool   `json:"cascadeDelete"`
	MinSelect     int    `json:"minSelect"`
	MaxSelect     int    `json:"maxSelect"`
}

// Storage implements Options.
func (o *RelationOptions) Storage(*Field) Storage { return listStorage(o.MaxSelect) }

// Zero implements Options.
func (o *RelationOptions) Zero(*Field) any { return listZero(o.MaxSelect) }

// Target returns the related collection, or nil when lookup (which may be
// nil) does not know it.
func (o *RelationOptions) Target(lookup Lookup) *Collection {
	if lookup == nil || o.CollectionID == "" {
		return nil
	}
	return lookup(o.CollectionID)
}

// CheckOptions implements Options. The target must exist; a relation to the
// collection being saved (by its id) is allowed before that collection is
// stored.
func (o *RelationOptions) CheckOptions(_ *Field, c *Collection, lookup Lookup) Errors {
	errs := Errors{}
	switch {
	case o.CollectionID == "":
		errs.Add("collectionId", ErrRequired())
	case c != nil && c.ID != "" && o.CollectionID == c.ID:
	case o.Target(lookup) == nil:
		errs.Add("collectionId", NewFieldError("validation_missing_rel_collection", "The related collection doesn't exist."))
	}
	if o.MinSelect < 0 {
		errs.Add("minSelect", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	}
	if o.MaxSelect < 0 {
		errs.Add("maxSelect", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	} else if o.MinSelect > max(o.MaxSelect, 1) {
		errs.Add("maxSelect", NewFieldError("validation_min_greater_equal_than_required", fmt.Sprintf("Must be no less than minSelect (%d).", o.MinSelect)))
	}
	return errs
}

// Normalize implements Options like a select field's, and every id must be
// well formed. Whether the records exist is the store's business.
func (o *RelationOptions) Normalize(_ *Field, v any) (any, *FieldError) {
	out, err := normalizeList(v, o.MaxSelect > 1)
	if err != nil {
		return nil, err
	}
	if err := checkIDs(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Validate implements Options. MinSelect applies only to a non-empty value;
// Required decides whether empty is allowed.
func (o *RelationOptions) Validate(f *Field, v any) *FieldError {
	list, err := canonicalList(v, o.MaxSelect > 1)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	if err := checkIDs(list); err != nil {
		return err
	}
	return checkCount(list, o.MinSelect, o.MaxSelect)
}

// Modify implements Modifier like a select field's.
func (o *RelationOptions) Modify(_ *Field, current any, op string, arg any) (any, *FieldError) {
	out, err := modifyList(current, op, arg, o.MaxSelect > 1)
	if err != nil {
		return nil, err
	}
	if err := checkIDs(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkIDs reports the first malformed id in a canonical list-like value.
func checkIDs(v any) *FieldError {
	var list []string
	switch x := v.(type) {
	case string:
		if x != "" {
			list = []string{x}
		}
	case []string:
		list = x
	}
	for _, id := range list {
		if !ValidID(id) {
			return ErrInvalid("Invalid record id " + quoteShort(id) + ".")
		}
	}
	return nil
}
