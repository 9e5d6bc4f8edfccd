package api

import (
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// protectedCacheControl is sent with files of protected fields, whose
// URLs carry a short-lived token and whose access depends on the viewer.
const protectedCacheControl = "private, no-store"

// multipartMemory is how much of a multipart body is kept in memory; the
// rest of the file parts goes to temporary files, which net/http removes
// after the request.
const multipartMemory = 8 << 20

// fileServer is the file side of the API: the storage and the thumbnail
// cache over it.
type fileServer struct {
	st     files.Storage
	thumbs *files.Thumbnailer
}

// initFiles wires the configured storage into the server and the record
// service. Without a storage, uploads are refused and file URLs are 404.
func (s *Server) initFiles() {
	if s.cfg.Files == nil {
		return
	}
	s.files = &fileServer{
		st:     s.cfg.Files,
		thumbs: files.NewThumbnailer(s.cfg.Files, files.ThumbOptions{Logger: s.log}),
	}
	s.records.Files = s.cfg.Files
	s.records.Log = s.log
	s.records.WatchDeletes()
}

// fileTx runs fn in a write transaction whose context carries a
// files.Changes (see record.WithFileChanges): files written for it are
// deleted again when fn fails, and the files it replaced or dropped are
// deleted once it has committed. When the commit itself fails, its outcome
// is unknown (a PostgreSQL connection lost during COMMIT), so nothing is
// deleted: a new file is kept in case the record was stored, an old one
// in case it was not, and the sweeper removes whichever is unreferenced.
func (s *Server) fileTx(ctx context.Context, fn func(ctx context.Context, tx *store.Tx) error) error {
	if s.files == nil {
		return s.store.Tx(ctx, func(tx *store.Tx) error { return fn(ctx, tx) })
	}
	ch := files.NewChanges(s.files.st, s.log)
	ctx = record.WithFileChanges(ctx, ch)
	var fnErr error
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		fnErr = fn(ctx, tx)
		return fnErr
	})
	switch {
	case err == nil:
		_ = ch.Commit(ctx) // failures are logged; the sweeper retries
	case fnErr != nil:
		_ = ch.Rollback(ctx)
	default:
		if added, removed, prefixes := ch.Pending(); len(added)+len(removed)+len(prefixes) > 0 {
			s.log.WarnContext(ctx, "files: transaction failed to commit; its files are left for the sweeper",
				"added", len(added), "removed", len(removed)+len(prefixes), "err", err)
		}
	}
	return err
}

// truncate deletes every record of c through the store; one files.Changes
// collects the deleted records' files and deletes them after the commit.
// (By name, not by the collection's key prefix: a record created while
// the truncation commits keeps its files.)
func (s *Server) truncate(ctx context.Context, c *schema.Collection) error {
	if s.files == nil {
		return s.store.Truncate(ctx, c)
	}
	ch := files.NewChanges(s.files.st, s.log)
	if err := s.store.Truncate(record.WithFileChanges(ctx, ch), c); err != nil {
		_ = ch.Rollback(ctx) // nothing was written; drops the scheduled deletions
		return err
	}
	_ = ch.Commit(ctx)
	return nil
}

// readRecordBody is readBody for record writes: file parts of a multipart
// body become uploads, each named under its field key in the body (after
// any plain values of the same key, as PocketBase merges them).
func (s *Server) readRecordBody(w http.ResponseWriter, r *http.Request) (map[string]any, []*files.Upload, error) {
	body, err := s.decodeBody(w, r, true)
	if err != nil {
		return nil, nil, err
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File) == 0 {
		return body, nil, nil
	}
	uploads, err := s.takeUploads(body, r.MultipartForm.File)
	return body, uploads, err
}

// batchUploads hands the file parts of a multipart batch, named
// "requests.<index>.<field key>" as the SDK sends them, to their requests.
func (s *Server) batchUploads(r *http.Request, reqs []batchRequest) error {
	if r.MultipartForm == nil || len(r.MultipartForm.File) == 0 {
		return nil
	}
	parts := make([]map[string][]*multipart.FileHeader, len(reqs))
	bad := schema.Errors{}
	for key, fhs := range r.MultipartForm.File {
		rest, ok := strings.CutPrefix(key, "requests.")
		idx, field, ok2 := strings.Cut(rest, ".")
		i, err := strconv.Atoi(idx)
		if !ok || !ok2 || err != nil || i < 0 || i >= len(reqs) || field == "" {
			bad.Add(key, schema.NewFieldError("validation_invalid_batch_file", "Batch file parts must be named requests.<index>.<field>."))
			continue
		}
		if parts[i] == nil {
			parts[i] = map[string][]*multipart.FileHeader{}
		}
		parts[i][field] = fhs
	}
	if len(bad) > 0 {
		return &Error{Status: http.StatusBadRequest, Message: "Invalid batch file parts.", Data: bad}
	}
	for i, p := range parts {
		if p == nil {
			continue
		}
		if reqs[i].Body == nil {
			reqs[i].Body = map[string]any{}
		}
		uploads, err := s.takeUploads(reqs[i].Body, p)
		if err != nil {
			return err
		}
		reqs[i].uploads = uploads
	}
	return nil
}

// takeUploads turns file parts into uploads (sniffing each one's type)
// and appends their stored names to the body values of their keys.
func (s *Server) takeUploads(body map[string]any, parts map[string][]*multipart.FileHeader) ([]*files.Upload, error) {
	if s.files == nil {
		return nil, &Error{Status: http.StatusBadRequest, Message: "File uploads are not enabled on this server."}
	}
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic order of names within a key
	var out []*files.Upload
	for _, key := range keys {
		field, _ := schema.SplitModifier(key)
		var names []any
		for _, fh := range parts[key] {
			u, err := files.NewUpload(field, fh)
			if err != nil {
				return nil, fmt.Errorf("read upload for %s: %w", key, err)
			}
			out = append(out, u)
			names = append(names, u.Name)
		}
		switch v := body[key].(type) {
		case nil:
			body[key] = names
		case []any:
			body[key] = append(v, names...)
		default:
			body[key] = append([]any{v}, names...)
		}
	}
	return out, nil
}

// fileToken issues a short-lived token with which the caller's record can
// read protected files (POST /api/files/token).
func (s *Server) fileToken(w http.ResponseWriter, r *http.Request) error {
	token, err := s.sys.auth.FileToken(r.Context(), s.caller(r, nil))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
	return nil
}

// serveFile serves GET and HEAD /api/files/{collection}/{recordId}/{filename}.
// Files of unprotected fields are public to whoever has the URL, as in
// PocketBase. A protected field's file needs a viewer for whom the
// collection's view rule holds: the record of the file token in ?token=,
// else the request's own Authorization; anyone else gets the same 404 as
// for a missing file. thumb=WxH serves a thumbnail when the size is
// allowed and the file is an image, else the original; download=1 makes
// it an attachment.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) error {
	if s.files == nil {
		return notFound()
	}
	c := s.store.Schema().Lookup(r.PathValue("collection"))
	id, name := r.PathValue("recordId"), r.PathValue("filename")
	if c == nil || c.IsView() || !schema.ValidID(id) || !schema.ValidFileName(name) || !files.ValidSegment(name) {
		return notFound()
	}
	rec, err := s.store.FindOne(r.Context(), c, id, nil)
	if err != nil {
		return err
	}
	f := record.FileField(rec, name)
	if f == nil {
		return notFound()
	}
	opts, _ := f.Options.(*schema.FileOptions)
	cacheControl := ""
	if opts.Protected {
		if err := s.checkFileAccess(r, c, id); err != nil {
			return err
		}
		cacheControl = protectedCacheControl
	}
	key, err := files.Key(c.ID, rec.ID(), name)
	if err != nil {
		return err
	}
	served := key
	if spec := r.URL.Query().Get("thumb"); spec != "" && files.AllowedThumb(opts, spec) {
		thumb, err := s.files.thumbs.Thumb(r.Context(), key, spec)
		switch {
		case err == nil:
			served = thumb
		case !errors.Is(err, files.ErrNoThumb):
			return err
		}
	}
	return files.Serve(w, r, s.files.st, served, files.ServeOptions{
		Download:     boolParam(r, "download"),
		CacheControl: cacheControl,
	})
}

// checkFileAccess evaluates the view rule of c for the record id with the
// viewer of a protected file request, in the "protectedFile" request
// context. A refusal is a 404, as in PocketBase.
func (s *Server) checkFileAccess(r *http.Request, c *schema.Collection, id string) error {
	cl := s.caller(r, nil)
	if token := strings.TrimSpace(r.URL.Query().Get("token")); token != "" {
		if viewer, _, err := s.tokens.Verify(r.Context(), token, auth.TypeFile); err == nil {
			cl.Auth, cl.Key = viewer, nil
		}
	}
	cl.Request.Auth = cl.Auth
	cl.Request.Context = "protectedFile"
	_, err := s.records.View(r.Context(), cl, c, id)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, record.ErrSuperusersOnly), errors.Is(err, record.ErrOutOfScope):
		return &Error{Status: http.StatusNotFound, Message: "The requested resource wasn't found.", Cause: errors.New("insufficient permissions to access the file resource")}
	}
	return err
}

// schemaFiles collects what a schema change makes unreferenced: the files
// of collections it deletes and of file fields it removes. The names held
// by a field about to be removed are read before the change (the change
// drops the column); a file written to such a field in between is left to
// the sweeper. commit checks against the schema after the change, so a
// field or collection that survived after all keeps its files.
type schemaFiles struct {
	s           *Server
	collections []string // ids of collections to be deleted
	fields      []removedField
}

// removedField is a file field a schema change removes, with the keys of
// the files it held.
type removedField struct {
	collectionID, fieldID string
	keys                  []string
}

// schemaFiles returns an empty plan, or nil without a storage.
func (s *Server) schemaFiles() *schemaFiles {
	if s.files == nil {
		return nil
	}
	return &schemaFiles{s: s}
}

// collectionDeleted plans the removal of every file of c.
func (p *schemaFiles) collectionDeleted(c *schema.Collection) {
	if p == nil || c == nil || c.IsView() || !record.HasFiles(c) {
		return
	}
	p.collections = append(p.collections, c.ID)
}

// collectionChanged plans the removal of the files held by the file fields
// of old that next, its new definition, drops. Fields are matched as the
// store matches them: by id, or by name for a field sent without an id.
func (p *schemaFiles) collectionChanged(ctx context.Context, old, next *schema.Collection) error {
	if p == nil || old == nil || next == nil || old.IsView() {
		return nil
	}
	var removed []*schema.Field
	for _, f := range old.Fields {
		if _, ok := f.Options.(*schema.FileOptions); !ok {
			continue
		}
		nf := next.FieldByID(f.ID)
		if nf == nil {
			if byName := next.Field(f.Name); byName != nil && byName.ID == "" {
				nf = byName
			}
		}
		if nf != nil {
			if _, ok := nf.Options.(*schema.FileOptions); ok {
				continue
			}
		}
		removed = append(removed, f)
	}
	if len(removed) == 0 {
		return nil
	}
	planned := make([]removedField, len(removed))
	for i, f := range removed {
		planned[i] = removedField{collectionID: old.ID, fieldID: f.ID}
	}
	const perPage = 500
	for page := 1; ; page++ {
		res, err := p.s.store.List(ctx, store.ListQuery{Collection: old, Page: page, PerPage: perPage, SkipTotal: true, Sort: "id"})
		if err != nil {
			return fmt.Errorf("list the files of removed fields: %w", err)
		}
		for _, rec := range res.Items {
			for i, f := range removed {
				for _, name := range rec.GetStrings(f.Name) {
					if key, err := files.Key(old.ID, rec.ID(), name); err == nil {
						planned[i].keys = append(planned[i].keys, key)
					}
				}
			}
		}
		if len(res.Items) < perPage {
			break
		}
	}
	p.fields = append(p.fields, planned...)
	return nil
}

// commit deletes the planned files that the schema, as it is now, no
// longer references. Failures are logged; the sweeper retries them.
func (p *schemaFiles) commit(ctx context.Context) {
	if p == nil || len(p.collections)+len(p.fields) == 0 {
		return
	}
	snap := p.s.store.Schema()
	exists := func(id string) *schema.Collection {
		if c := snap.Lookup(id); c != nil && c.ID == id {
			return c
		}
		return nil
	}
	ch := files.NewChanges(p.s.files.st, p.s.log)
	for _, id := range p.collections {
		if exists(id) == nil {
			_ = ch.RemoveCollection(id)
		}
	}
	for _, rf := range p.fields {
		if c := exists(rf.collectionID); c != nil {
			if f := c.FieldByID(rf.fieldID); f != nil {
				if _, ok := f.Options.(*schema.FileOptions); ok {
					continue
				}
			}
		}
		for _, key := range rf.keys {
			if info, ok := files.ParseKey(key); ok {
				_ = ch.Remove(info.CollectionID, info.RecordID, info.Filename)
			}
		}
	}
	_ = ch.Commit(ctx)
}

// importFiles plans the file removals of importing list: the collections
// deleteMissing deletes and the file fields the imported definitions drop
// (collections are matched as the store matches them: by id, then name).
func (s *Server) importFiles(ctx context.Context, list []*schema.Collection, deleteMissing bool) (*schemaFiles, error) {
	p := s.schemaFiles()
	if p == nil {
		return nil, nil
	}
	snap := s.store.Schema()
	kept := map[string]bool{}
	for _, in := range list {
		if in == nil {
			continue
		}
		var old *schema.Collection
		if c := snap.Lookup(in.ID); in.ID != "" && c != nil && c.ID == in.ID {
			old = c
		} else if c := snap.Lookup(in.Name); c != nil && strings.EqualFold(c.Name, in.Name) {
			old = c
		}
		if old == nil {
			continue
		}
		kept[old.ID] = true
		if err := p.collectionChanged(ctx, old, in); err != nil {
			return nil, err
		}
	}
	if deleteMissing {
		for _, c := range snap.Collections() {
			if !kept[c.ID] && !c.System {
				p.collectionDeleted(c)
			}
		}
	}
	return p, nil
}
