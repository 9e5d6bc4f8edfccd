package api

import (
	"context"
	"net/http"

	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// maxPerPage caps perPage, as PocketBase does.
const maxPerPage = 1000

// readOptions are the expand and fields parameters every record response takes.
type readOptions struct {
	expand string
	enc    encodeOptions
}

func parseReadOptions(r *http.Request) (readOptions, error) {
	q := r.URL.Query()
	p, err := schema.ParseProjection(q.Get("fields"))
	if err != nil {
		return readOptions{}, badRequest("Invalid fields parameter: "+err.Error(), err)
	}
	return readOptions{expand: q.Get("expand"), enc: encodeOptions{projection: p, viewer: authRecord(r)}}, nil
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request) error {
	c, err := s.collection(r)
	if err != nil {
		return err
	}
	ro, err := parseReadOptions(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := intParam(r, "page", 1)
	if err != nil {
		return err
	}
	perPage, err := intParam(r, "perPage", 30)
	if err != nil {
		return err
	}
	if perPage == 0 {
		perPage = 30
	}
	page, perPage = max(page, 1), min(max(perPage, 1), maxPerPage)
	cl := s.caller(r, nil)
	result, err := s.records.List(r.Context(), cl, c, record.ListParams{
		Filter: q.Get("filter"), Sort: q.Get("sort"), Page: page, PerPage: perPage, SkipTotal: boolParam(r, "skipTotal"),
	})
	if err != nil {
		return err
	}
	if err := s.records.Expand(r.Context(), cl, c, result.Items, ro.expand); err != nil {
		return err
	}
	writePage(w, result, page, perPage, ro.enc)
	return nil
}

func (s *Server) viewRecord(w http.ResponseWriter, r *http.Request) error {
	c, err := s.collection(r)
	if err != nil {
		return err
	}
	ro, err := parseReadOptions(r)
	if err != nil {
		return err
	}
	cl := s.caller(r, nil)
	rec, err := s.records.View(r.Context(), cl, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.records.Expand(r.Context(), cl, c, []*schema.Record{rec}, ro.expand); err != nil {
		return err
	}
	writeRecord(w, http.StatusOK, rec, ro.enc)
	return nil
}

// write runs one record write in its own transaction and answers with the
// resulting record (expanded as asked).
func (s *Server) write(w http.ResponseWriter, r *http.Request, op func(ctx context.Context, tx *store.Tx, cl *record.Caller, c *schema.Collection, body map[string]any) (*schema.Record, error)) error {
	c, err := s.collection(r)
	if err != nil {
		return err
	}
	ro, err := parseReadOptions(r)
	if err != nil {
		return err
	}
	body, uploads, err := s.readRecordBody(w, r)
	if err != nil {
		return err
	}
	cl := s.caller(r, body)
	cl.Uploads = uploads
	// bcrypt runs here, not while the transaction holds the writer.
	ctx := s.records.HashAhead(r.Context(), cl, c, r.PathValue("id"), body)
	var rec *schema.Record
	err = s.fileTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		rec, err = op(ctx, tx, cl, c, body)
		return err
	})
	if err != nil {
		return err
	}
	if err := s.records.Expand(r.Context(), cl, c, []*schema.Record{rec}, ro.expand); err != nil {
		return err
	}
	writeRecord(w, http.StatusOK, rec, ro.enc)
	return nil
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request) error {
	return s.write(w, r, s.records.Create)
}

func (s *Server) updateRecord(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	return s.write(w, r, func(ctx context.Context, tx *store.Tx, cl *record.Caller, c *schema.Collection, body map[string]any) (*schema.Record, error) {
		return s.records.Update(ctx, tx, cl, c, id, body)
	})
}

func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request) error {
	c, err := s.collection(r)
	if err != nil {
		return err
	}
	cl := s.caller(r, nil)
	err = s.fileTx(r.Context(), func(ctx context.Context, tx *store.Tx) error {
		_, err := s.records.Delete(ctx, tx, cl, c, r.PathValue("id"))
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
