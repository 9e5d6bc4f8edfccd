package record

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// MaxExpandDepth is how many relation hops one expand path may take.
const MaxExpandDepth = 6

// maxBackRelations caps the records one back-relation expand loads per page.
const maxBackRelations = 1000

// ExpandError reports an invalid expand parameter.
type ExpandError struct{ Msg string }

func (e *ExpandError) Error() string { return e.Msg }

type expandTree map[string]expandTree

// parseExpand turns "author,comments_via_post.author" into a tree.
func parseExpand(s string) (expandTree, error) {
	root := expandTree{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ".")
		if len(parts) > MaxExpandDepth {
			return nil, &ExpandError{fmt.Sprintf("expand %q is deeper than %d levels", item, MaxExpandDepth)}
		}
		node := root
		for _, p := range parts {
			if !schema.ValidIdentifier(p) {
				return nil, &ExpandError{fmt.Sprintf("invalid expand path %q", item)}
			}
			next, ok := node[p]
			if !ok {
				next = expandTree{}
				node[p] = next
			}
			node = next
		}
	}
	return root, nil
}

// Expand loads the relations named by the expand parameter into the
// records' Expand maps. Each related collection's view rule applies to the
// caller; relations the caller may not see are left out, not reported.
func (s *Service) Expand(ctx context.Context, caller *Caller, c *schema.Collection, records []*schema.Record, expand string) error {
	if strings.TrimSpace(expand) == "" || len(records) == 0 {
		return nil
	}
	tree, err := parseExpand(expand)
	if err != nil {
		return err
	}
	return s.expandLevel(ctx, caller, c, records, tree)
}

func (s *Service) expandLevel(ctx context.Context, caller *Caller, c *schema.Collection, records []*schema.Record, tree expandTree) error {
	snap := s.Store.Schema()
	for name, sub := range tree {
		var loaded []*schema.Record
		var err error
		if f := c.Field(name); f != nil {
			ro, ok := f.Options.(*schema.RelationOptions)
			if !ok {
				return &ExpandError{fmt.Sprintf("cannot expand %q: not a relation field of %s", name, c.Name)}
			}
			target := snap.Lookup(ro.CollectionID)
			if target == nil {
				continue
			}
			loaded, err = s.expandRelation(ctx, caller, f, target, records)
		} else if i := strings.LastIndex(name, "_via_"); i > 0 {
			other := snap.Lookup(name[:i])
			var bf *schema.Field
			if other != nil {
				bf = other.Field(name[i+len("_via_"):])
			}
			ro, ok := fieldRelation(bf)
			if other == nil || !ok || ro.CollectionID != c.ID {
				return &ExpandError{fmt.Sprintf("cannot expand %q: no relation field %q of collection %q points at %s", name, name[i+len("_via_"):], name[:i], c.Name)}
			}
			loaded, err = s.expandBack(ctx, caller, name, other, bf, records)
		} else {
			return &ExpandError{fmt.Sprintf("cannot expand %q: unknown field of %s", name, c.Name)}
		}
		if err != nil {
			return err
		}
		if len(sub) > 0 && len(loaded) > 0 {
			if err := s.expandLevel(ctx, caller, loaded[0].Collection, loaded, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldRelation(f *schema.Field) (*schema.RelationOptions, bool) {
	if f == nil {
		return nil, false
	}
	ro, ok := f.Options.(*schema.RelationOptions)
	return ro, ok
}

// expandRelation loads the targets of relation field f for all records at once.
func (s *Service) expandRelation(ctx context.Context, caller *Caller, f *schema.Field, target *schema.Collection, records []*schema.Record) ([]*schema.Record, error) {
	filters, err := rule(caller, target, auth.ActionView, target.ViewRule)
	if errors.Is(err, ErrSuperusersOnly) || errors.Is(err, ErrOutOfScope) {
		return nil, nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, r := range records {
		for _, id := range r.GetStrings(f.Name) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	found, err := s.Store.FindMany(ctx, target, ids, caller.Request, filters...)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*schema.Record, len(found))
	for _, r := range found {
		byID[r.ID()] = r
	}
	for _, r := range records {
		if f.Multiple() {
			var list []*schema.Record
			for _, id := range r.GetStrings(f.Name) {
				if x := byID[id]; x != nil {
					list = append(list, x)
				}
			}
			if len(list) > 0 {
				setExpand(r, f.Name, list)
			}
		} else if x := byID[r.GetString(f.Name)]; x != nil {
			setExpand(r, f.Name, x)
		}
	}
	return found, nil
}

// expandBack loads, for every record, the records of other whose relation
// field bf points at it.
func (s *Service) expandBack(ctx context.Context, caller *Caller, name string, other *schema.Collection, bf *schema.Field, records []*schema.Record) ([]*schema.Record, error) {
	filters, err := rule(caller, other, auth.ActionView, other.ViewRule)
	if errors.Is(err, ErrSuperusersOnly) || errors.Is(err, ErrOutOfScope) {
		return nil, nil
	}
	// The parents' ids go to the database as a bound list, a chunk at a
	// time: spelled out as one OR filter they made a statement that grew
	// with the page and broke past a few hundred parents.
	var ids []string
	parents := map[string]*schema.Record{}
	for _, r := range records {
		if parents[r.ID()] != nil || !schema.ValidID(r.ID()) {
			continue
		}
		ids = append(ids, r.ID())
		parents[r.ID()] = r
	}
	var loaded []*schema.Record
	// A record of other that points at parents of several chunks is loaded
	// once per chunk; they all share the first copy.
	byID := map[string]*schema.Record{}
	for start := 0; start < len(ids); start += store.MaxReferencedIDs {
		chunk := ids[start:min(start+store.MaxReferencedIDs, len(ids))]
		inChunk := make(map[string]bool, len(chunk))
		for _, id := range chunk {
			inChunk[id] = true
		}
		found, err := s.Store.FindReferencing(ctx, other, bf, chunk, maxBackRelations*len(chunk), caller.Request, filters...)
		if err != nil {
			return nil, err
		}
		for _, x := range found {
			if first := byID[x.ID()]; first != nil {
				x = first
			} else {
				byID[x.ID()] = x
				loaded = append(loaded, x)
			}
			for _, id := range x.GetStrings(bf.Name) {
				p := parents[id]
				if p == nil || !inChunk[id] {
					continue
				}
				list, _ := p.Expand[name].([]*schema.Record)
				if len(list) < maxBackRelations {
					setExpand(p, name, append(list, x))
				}
			}
		}
	}
	return loaded, nil
}

func setExpand(r *schema.Record, name string, v any) {
	if r.Expand == nil {
		r.Expand = map[string]any{}
	}
	r.Expand[name] = v
}
