package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// collection resolves the {collection} path value (id or name).
func (s *Server) collection(r *http.Request) (*schema.Collection, error) {
	c := s.store.Schema().Lookup(r.PathValue("collection"))
	if c == nil {
		return nil, &Error{Status: http.StatusNotFound, Message: "Missing collection context."}
	}
	return c, nil
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	conds, err := parseCollectionFilter(q.Get("filter"))
	if err != nil {
		return err
	}
	all := s.store.Schema().Collections()
	items := make([]*schema.Collection, 0, len(all))
	for _, c := range all {
		if matchesAll(c, conds) {
			items = append(items, c)
		}
	}
	if q.Get("sort") != "" {
		desc := strings.HasPrefix(q.Get("sort"), "-")
		sort.SliceStable(items, func(i, j int) bool {
			if desc {
				return items[i].Name > items[j].Name
			}
			return items[i].Name < items[j].Name
		})
	}
	page, perPage, err := pageParams(r)
	if err != nil {
		return err
	}
	total := len(items)
	start := int(min(int64(page-1)*int64(perPage), int64(total)))
	end := min(start+perPage, total)
	totalItems, totalPages := total, (total+perPage-1)/perPage
	if boolParam(r, "skipTotal") {
		totalItems, totalPages = -1, -1
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"page": page, "perPage": perPage, "totalItems": totalItems, "totalPages": totalPages,
		"items": items[start:end],
	})
	return nil
}

// collectionCond is one `key op value` term of a collections filter.
type collectionCond struct{ key, op, val string }

// parseCollectionFilter supports the filters clients use on collections:
// terms `name|type|id|system` `=`, `!=` or `~` a quoted or bare value,
// joined by &&. Collections are not a table, so the record filter compiler
// does not apply; anything else is a 400 rather than a silent mismatch.
func parseCollectionFilter(f string) ([]collectionCond, error) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	var out []collectionCond
	for _, part := range strings.Split(f, "&&") {
		part = strings.TrimSpace(part)
		var cond collectionCond
		for _, op := range []string{"!=", "~", "="} {
			if i := strings.Index(part, op); i > 0 {
				cond = collectionCond{strings.TrimSpace(part[:i]), op, strings.Trim(strings.TrimSpace(part[i+len(op):]), `"'`)}
				break
			}
		}
		switch cond.key {
		case "name", "type", "id", "system":
		default:
			return nil, badRequest("Invalid collections filter: use name, type, id or system with =, != or ~, joined by &&.", nil)
		}
		out = append(out, cond)
	}
	return out, nil
}

func matchesAll(c *schema.Collection, conds []collectionCond) bool {
	for _, cond := range conds {
		var have string
		switch cond.key {
		case "name":
			have = c.Name
		case "type":
			have = c.Type
		case "id":
			have = c.ID
		case "system":
			have = strconv.FormatBool(c.System)
		}
		eq := strings.EqualFold(have, cond.val)
		switch cond.op {
		case "=":
			if !eq {
				return false
			}
		case "!=":
			if eq {
				return false
			}
		case "~":
			if !strings.Contains(strings.ToLower(have), strings.ToLower(strings.Trim(cond.val, "%"))) {
				return false
			}
		}
	}
	return true
}

func (s *Server) viewCollection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.collection(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// unmarshalCollection decodes a collection, naming an unknown field type.
func unmarshalCollection(data []byte, into *schema.Collection) error {
	if err := json.Unmarshal(data, into); err != nil {
		var ute *schema.UnknownTypeError
		if errors.As(err, &ute) {
			return &Error{Status: http.StatusBadRequest, Message: "Failed to load the submitted data.",
				Data: schema.Errors{"fields": schema.NewFieldError("validation_invalid_type", ute.Error())}, Cause: err}
		}
		return badRequest("Failed to parse the request body: "+err.Error(), err)
	}
	return nil
}

// decodeCollection reads a collection from the body.
func (s *Server) decodeCollection(w http.ResponseWriter, r *http.Request, into *schema.Collection) error {
	data, err := s.readRaw(w, r)
	if err != nil {
		return err
	}
	return unmarshalCollection(data, into)
}

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) error {
	var c schema.Collection
	if err := s.decodeCollection(w, r, &c); err != nil {
		return err
	}
	if c.ID != "" && s.store.Schema().Lookup(c.ID) != nil {
		return &Error{Status: http.StatusBadRequest, Message: "Failed to create collection.",
			Data: schema.Errors{"id": schema.NewFieldError("validation_invalid_id", "The id is already in use.")}}
	}
	saved, err := s.store.SaveCollection(r.Context(), &c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, saved)
	return nil
}

// updateCollection applies a partial update: the body's keys replace the
// stored collection's, as PocketBase's PATCH does.
func (s *Server) updateCollection(w http.ResponseWriter, r *http.Request) error {
	old, err := s.collection(r)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(old)
	if err != nil {
		return err
	}
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(raw, &merged); err != nil {
		return err
	}
	body, err := s.readRaw(w, r)
	if err != nil {
		return err
	}
	var patch map[string]json.RawMessage
	if err := json.Unmarshal(body, &patch); err != nil {
		return badRequest("Failed to parse the request body: it must be a JSON object.", err)
	}
	for k, v := range patch {
		merged[k] = v
	}
	merged["id"], _ = json.Marshal(old.ID)
	mergedJSON, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	var c schema.Collection
	if err := unmarshalCollection(mergedJSON, &c); err != nil {
		return err
	}
	sf := s.schemaFiles()
	if err := sf.collectionChanged(r.Context(), old, &c); err != nil {
		return err
	}
	saved, err := s.store.SaveCollection(r.Context(), &c)
	if err != nil {
		return err
	}
	sf.commit(r.Context())
	writeJSON(w, http.StatusOK, saved)
	return nil
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.collection(r)
	if err != nil {
		return err
	}
	sf := s.schemaFiles()
	sf.collectionDeleted(c)
	if err := s.store.DeleteCollection(r.Context(), c); err != nil {
		return err
	}
	sf.commit(r.Context())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) truncateCollection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.collection(r)
	if err != nil {
		return err
	}
	if err := s.truncate(r.Context(), c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) importCollections(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Collections   []*schema.Collection `json:"collections"`
		DeleteMissing bool                 `json:"deleteMissing"`
	}
	data, err := s.readRaw(w, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return badRequest("Failed to parse the request body: "+err.Error(), err)
	}
	if len(body.Collections) == 0 {
		return &Error{Status: http.StatusBadRequest, Message: "Failed to import collections.",
			Data: schema.Errors{"collections": schema.ErrRequired()}}
	}
	sf, err := s.importFiles(r.Context(), body.Collections, body.DeleteMissing)
	if err != nil {
		return err
	}
	if err := s.store.ImportCollections(r.Context(), body.Collections, body.DeleteMissing); err != nil {
		return err
	}
	sf.commit(r.Context())
	w.WriteHeader(http.StatusNoContent)
	return nil
}
