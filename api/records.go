package api

import (
	"context"
	"math"
	"net/http"
	"strconv"

	"github.com/plinthdev/plinth/auth"
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
	page, perPage, err := pageParams(r)
	if err != nil {
		return err
	}
	key, cacheable := s.publicCacheKey(r, c, c.ListRule)
	if cacheable && s.cache.serve(w, r, key) {
		return nil
	}
	gen := s.cache.generation()
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
	if cacheable {
		bp := bufPool.Get().(*[]byte)
		buf := appendPage((*bp)[:0], result, page, perPage, ro.enc)
		writeCached(w, r, s.cache.store(key, gen, buf))
		putBuf(bp, buf)
		return nil
	}
	writePage(w, result, page, perPage, ro.enc)
	return nil
}

// pageParams reads page and perPage as PocketBase does: a value that is
// not an integer is a 400, zero or negative means the default (page 1, 30
// per page), perPage is capped at maxPerPage. A page whose offset does not
// fit in 64 bits is a 400 too, rather than an overflow that would wrap to a
// negative offset.
func pageParams(r *http.Request) (page, perPage int, err error) {
	q := r.URL.Query()
	parse := func(name string, def int) (int, error) {
		v := q.Get(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, badRequest("Invalid "+name+" parameter: it must be an integer.", err)
		}
		if n <= 0 {
			return def, nil
		}
		return int(n), nil
	}
	if page, err = parse("page", 1); err != nil {
		return 0, 0, err
	}
	if perPage, err = parse("perPage", 30); err != nil {
		return 0, 0, err
	}
	perPage = min(perPage, maxPerPage)
	if int64(page-1) > math.MaxInt64/int64(perPage) {
		return 0, 0, badRequest("Invalid page parameter: the page is too large.", nil)
	}
	return page, perPage, nil
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
	key, cacheable := s.publicCacheKey(r, c, c.ViewRule)
	if cacheable && s.cache.serve(w, r, key) {
		return nil
	}
	gen := s.cache.generation()
	cl := s.caller(r, nil)
	rec, err := s.records.View(r.Context(), cl, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.records.Expand(r.Context(), cl, c, []*schema.Record{rec}, ro.expand); err != nil {
		return err
	}
	if cacheable {
		bp := bufPool.Get().(*[]byte)
		buf := rec.AppendJSON((*bp)[:0], ro.enc.schemaOptions())
		writeCached(w, r, s.cache.store(key, gen, buf))
		putBuf(bp, buf)
		return nil
	}
	writeRecord(w, http.StatusOK, rec, ro.enc)
	return nil
}

// readHookReporter is implemented by record hooks that can say whether
// any read hook is bound: such a hook may change an answer per caller,
// so its reads are never served from the public cache.
type readHookReporter interface {
	HasReadHooks() bool
}

// publicCacheKey is the public cache's key for a read under rule, and
// whether the read may use the cache.
func (s *Server) publicCacheKey(r *http.Request, c *schema.Collection, rule *string) (string, bool) {
	if s.cache == nil {
		return "", false
	}
	if h, ok := s.cfg.RecordHooks.(readHookReporter); s.cfg.RecordHooks != nil && (!ok || h.HasReadHooks()) {
		s.cache.bypass()
		return "", false
	}
	key, ok := s.cache.key(r, c, rule)
	if !ok {
		s.cache.bypass()
	}
	return key, ok
}

// write runs one record write in its own transaction and answers with the
// resulting record (expanded as asked).
func (s *Server) write(w http.ResponseWriter, r *http.Request, action string, op func(ctx context.Context, tx *store.Tx, cl *record.Caller, c *schema.Collection, body map[string]any) (*schema.Record, error)) error {
	c, err := s.collection(r)
	if err != nil {
		return err
	}
	// A caller no rule can let through is refused before its body is
	// read and decoded (up to the collection's limit, file parts too).
	if !c.IsView() {
		if err := record.MayAttempt(s.caller(r, nil), c, action); err != nil {
			return err
		}
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
	return s.write(w, r, auth.ActionCreate, s.records.Create)
}

func (s *Server) updateRecord(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	return s.write(w, r, auth.ActionUpdate, func(ctx context.Context, tx *store.Tx, cl *record.Caller, c *schema.Collection, body map[string]any) (*schema.Record, error) {
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
