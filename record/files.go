package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Validation codes of file fields, PocketBase's (size and type codes are
// files.CodeFileSizeLimit and files.CodeInvalidMIMEType).
const (
	// CodeInvalidFile: a file field names a file that the record did not
	// have and that was not uploaded with the request.
	CodeInvalidFile = "validation_invalid_file"
	// CodeTooManyFiles: more files than the field's maxSelect.
	CodeTooManyFiles = "validation_too_many_files"
	// CodeNotFileField: a file was uploaded for a field that is not a
	// file field.
	CodeNotFileField = "validation_not_file_field"
)

// ErrNoFileChanges is returned when a write carries uploads but its
// context has no files.Changes (see WithFileChanges) to store them in.
var ErrNoFileChanges = errors.New("record: uploads need a files.Changes in the context")

type fileChangesKey struct{}

// WithFileChanges returns ctx carrying ch, the file side of the
// transaction the context's writes run in: Create and Update store the
// request's uploads through it and schedule the files they replace or
// remove, deletes (cascades included) schedule the deleted records'
// files. The caller commits ch after the database commit and rolls it
// back when the transaction fails (see files.Changes).
func WithFileChanges(ctx context.Context, ch *files.Changes) context.Context {
	return context.WithValue(ctx, fileChangesKey{}, ch)
}

// FileChanges returns the files.Changes of ctx, or nil.
func FileChanges(ctx context.Context) *files.Changes {
	ch, _ := ctx.Value(fileChangesKey{}).(*files.Changes)
	return ch
}

// HasFiles reports whether c has a file field.
func HasFiles(c *schema.Collection) bool {
	for _, f := range c.Fields {
		if _, ok := f.Options.(*schema.FileOptions); ok {
			return true
		}
	}
	return false
}

// FileField returns the file field of r whose value names filename, or
// nil: the field a stored file belongs to.
func FileField(r *schema.Record, filename string) *schema.Field {
	if filename == "" {
		return nil
	}
	for _, f := range r.Collection.Fields {
		if _, ok := f.Options.(*schema.FileOptions); ok && slices.Contains(r.GetStrings(f.Name), filename) {
			return f
		}
	}
	return nil
}

// fileNames lists every file name r's file fields hold.
func fileNames(r *schema.Record) []string {
	var out []string
	for _, f := range r.Collection.Fields {
		if _, ok := f.Options.(*schema.FileOptions); ok {
			out = append(out, r.GetStrings(f.Name)...)
		}
	}
	return out
}

// filePlan is the file side of one create or update: the uploads to store
// and the names the record no longer holds.
type filePlan struct {
	put     []*files.Upload
	removed []string
}

// planFiles checks the file fields of r (as Apply left it; current is the
// stored record on update, nil on create) against the caller's uploads,
// adding failures to errs without overwriting earlier ones:
//
//   - every upload must target a file field and pass its size and type
//     limits;
//   - every name a file field holds must be one it already held or a file
//     uploaded for it with this request, so a client can never point a
//     record at a file it did not upload;
//   - no more names than maxSelect.
//
// It returns the uploads the record ends up naming (to store) and the
// names it dropped (to delete after the commit).
func planFiles(caller *Caller, current, r *schema.Record, errs schema.Errors) *filePlan {
	add := func(key string, fe *schema.FieldError) {
		if _, seen := errs[key]; !seen {
			errs.Add(key, fe)
		}
	}
	c := r.Collection
	uploads := make(map[string]*files.Upload)
	if caller != nil {
		for _, u := range caller.Uploads {
			f := c.Field(u.Field)
			if f == nil {
				continue // Apply reported the unknown key
			}
			opts, ok := f.Options.(*schema.FileOptions)
			if !ok {
				// Replaces Apply's complaint about the value's type.
				errs.Add(u.Field, schema.NewFieldError(CodeNotFileField, "This field does not accept files."))
				continue
			}
			if fe := u.Validate(opts); fe != nil {
				add(u.Field, fe)
				continue
			}
			uploads[u.Name] = u
		}
	}
	plan := &filePlan{}
	for _, f := range c.Fields {
		opts, ok := f.Options.(*schema.FileOptions)
		if !ok {
			continue
		}
		names := r.GetStrings(f.Name)
		var had []string
		if current != nil {
			had = current.GetStrings(f.Name)
		}
		var invalid []string
		for _, name := range names {
			if slices.Contains(had, name) {
				continue
			}
			if u := uploads[name]; u != nil && u.Field == f.Name {
				plan.put = append(plan.put, u)
				continue
			}
			invalid = append(invalid, name)
		}
		if len(invalid) > 0 {
			add(f.Name, schema.NewFieldError(CodeInvalidFile, "Invalid new files: "+quoteNames(invalid)+"; upload them, or name files the record already has."))
		}
		if limit := max(opts.MaxSelect, 1); len(names) > limit {
			add(f.Name, schema.NewFieldError(CodeTooManyFiles, "The maximum allowed files is "+strconv.Itoa(limit)+"."))
		}
		for _, name := range had {
			if !slices.Contains(names, name) {
				plan.removed = append(plan.removed, name)
			}
		}
	}
	return plan
}

func quoteNames(names []string) string {
	if len(names) > 5 {
		names = append(names[:5:5], "…")
	}
	out := make([]string, len(names))
	for i, n := range names {
		if len(n) > 60 {
			n = n[:60] + "…"
		}
		out[i] = strconv.Quote(n)
	}
	return strings.Join(out, ", ")
}

// storeFiles writes the plan's uploads under r's key prefix and schedules
// the removed files for deletion after the commit, through the context's
// files.Changes. Without one (callers outside the API), uploads are an
// error and removals are left to a Changes committed by tx.AfterCommit
// when the service has a storage, else to the sweeper.
func (s *Service) storeFiles(ctx context.Context, tx *store.Tx, r *schema.Record, plan *filePlan) error {
	if len(plan.put) == 0 && len(plan.removed) == 0 {
		return nil
	}
	ch := FileChanges(ctx)
	if ch == nil {
		if len(plan.put) > 0 {
			return ErrNoFileChanges
		}
		if ch = s.afterCommitChanges(ctx, tx); ch == nil {
			return nil
		}
	}
	c := r.Collection
	for _, u := range plan.put {
		if _, err := ch.Put(ctx, u, c.ID, r.ID()); err != nil {
			return fmt.Errorf("store file of field %s: %w", u.Field, err)
		}
	}
	s.removeFiles(ch, c.ID, r.ID(), plan.removed)
	return nil
}

// afterCommitChanges returns a files.Changes committed after tx commits,
// or nil when the service has no storage.
func (s *Service) afterCommitChanges(ctx context.Context, tx *store.Tx) *files.Changes {
	if s.Files == nil {
		return nil
	}
	ch := files.NewChanges(s.Files, s.Log)
	tx.AfterCommit(func() { _ = ch.Commit(context.WithoutCancel(ctx)) })
	return ch
}

// removeFiles schedules names for deletion at commit. A name that cannot
// be a key (data imported from elsewhere) has no file to delete.
func (s *Service) removeFiles(ch *files.Changes, collectionID, recordID string, names []string) {
	for _, name := range names {
		if err := ch.Remove(collectionID, recordID, name); err != nil && !errors.Is(err, files.ErrInvalidKey) {
			s.logger().Warn("files: cannot schedule removal", "collection", collectionID, "record", recordID, "err", err)
		}
	}
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// WatchDeletes makes every record delete of the store (direct, cascaded,
// or by truncation) schedule the deletion of the record's files for after
// the commit: through the context's files.Changes when there is one, else
// through one committed by tx.AfterCommit. Call it once, before serving.
func (s *Service) WatchDeletes() {
	s.Store.OnDelete(HasFiles, func(ctx context.Context, tx *store.Tx, r *schema.Record) error {
		names := fileNames(r)
		if len(names) == 0 {
			return nil
		}
		ch := FileChanges(ctx)
		if ch == nil {
			if ch = s.afterCommitChanges(ctx, tx); ch == nil {
				return nil
			}
		}
		// The record's own names, not its whole key prefix: a record
		// created again with the same id in the same transaction keeps
		// its new files. Leftovers under the prefix go to the sweeper.
		s.removeFiles(ch, r.Collection.ID, r.ID(), names)
		return nil
	})
}

// FileReferenced reports whether the record recordID of the collection
// with id collectionID still names filename in one of its file fields: the
// files.ReferencedFunc of the sweeper. A missing collection or record is
// false; a database failure is an error.
func (s *Service) FileReferenced(ctx context.Context, collectionID, recordID, filename string) (bool, error) {
	c := s.Store.Schema().Lookup(collectionID)
	if c == nil || c.ID != collectionID || c.IsView() || !schema.ValidID(recordID) {
		return false, nil
	}
	r, err := s.Store.FindOne(ctx, c, recordID, nil)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return FileField(r, filename) != nil, nil
}
