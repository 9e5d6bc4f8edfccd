// Package backup writes and restores portable archives of a Plinth
// instance: a zip of the collections, every record as JSON lines, the
// stored parameters and the files. The records are the store's values,
// not a database's dump, so an archive made on SQLite restores into
// PostgreSQL and the reverse.
//
// An archive is made online: the database is read in one consistent
// snapshot (see store.Export) while writes go on. Files are copied after
// the snapshot; one uploaded meanwhile may be in the archive without a
// record that names it, which restore keeps and the file sweep removes.
package backup

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gabriel-vasile/mimetype"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Format names the archive format in its manifest.
const Format = "plinth-backup/1"

// Manifest is manifest.json, the first entry of an archive.
type Manifest struct {
	Format      string         `json:"format"`
	Version     string         `json:"version"` // of the Plinth that wrote it
	Dialect     string         `json:"dialect"` // the database it was made on
	Created     string         `json:"created"`
	Collections int            `json:"collections"`
	Records     map[string]int `json:"records"` // per collection name
	Files       int            `json:"files"`
}

// Write writes an archive of st and fileStore to w.
func Write(ctx context.Context, st *store.Store, fileStore files.Storage, w io.Writer, version string) (*Manifest, error) {
	zw := zip.NewWriter(w)
	m := &Manifest{Format: Format, Version: version, Dialect: st.Dialect().Name(),
		Created: schema.FormatDate(time.Now()), Records: map[string]int{}}
	err := st.Export(ctx, func(e *store.Export) error {
		list := e.Collections()
		m.Collections = len(list)
		if err := writeJSON(zw, "collections.json", list); err != nil {
			return err
		}
		params, err := e.Params(ctx)
		if err != nil {
			return err
		}
		if err := writeJSON(zw, "params.json", params); err != nil {
			return err
		}
		for _, name := range store.ExportTables {
			rows, err := e.Table(ctx, name)
			if err != nil {
				return err
			}
			if err := writeJSON(zw, "tables/"+name+".json", rows); err != nil {
				return err
			}
		}
		for _, c := range list {
			if c.IsView() {
				continue
			}
			f, err := zw.Create("records/" + c.ID + ".jsonl")
			if err != nil {
				return err
			}
			bw := bufio.NewWriter(f)
			enc := json.NewEncoder(bw)
			n := 0
			err = e.Records(ctx, c, func(r *schema.Record) error {
				n++
				return enc.Encode(recordValues(r))
			})
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			m.Records[c.Name] = n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	err = fileStore.List(ctx, "", func(a files.Attributes) error {
		if strings.HasPrefix(a.Key, Prefix+"/") {
			return nil // archives are not part of archives
		}
		obj, err := fileStore.Open(ctx, a.Key)
		if err != nil {
			if errors.Is(err, files.ErrNotFound) {
				return nil // deleted since it was listed
			}
			return err
		}
		defer obj.Close()
		f, err := zw.CreateHeader(&zip.FileHeader{Name: "storage/" + a.Key, Method: zip.Store, Modified: a.ModTime})
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, obj); err != nil {
			return err
		}
		m.Files++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backup: files: %w", err)
	}
	if err := writeJSON(zw, "manifest.json", m); err != nil {
		return nil, err
	}
	return m, zw.Close()
}

// recordValues is a record as JSON: every stored field, hidden ones and
// password hashes included.
func recordValues(r *schema.Record) map[string]any {
	out := make(map[string]any, len(r.Collection.Fields))
	for _, f := range r.Collection.Fields {
		if f.Storage() != schema.StoreNone {
			out[f.Name] = r.Get(f.Name)
		}
	}
	return out
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	f, err := zw.Create(name)
	if err != nil {
		return err
	}
	return json.NewEncoder(f).Encode(v)
}

// ReadManifest checks that r is an archive this Plinth reads and returns
// its manifest.
func ReadManifest(r io.ReaderAt, size int64) (*Manifest, error) {
	a, err := openZip(r, size)
	if err != nil {
		return nil, err
	}
	return &a.manifest, nil
}

// archive is an opened archive: its entries, manifest, collections and
// parameters.
type archive struct {
	zip      *zip.Reader
	entries  map[string]*zip.File
	manifest Manifest
	list     []*schema.Collection
	params   map[string]string
}

// openZip reads the zip's entries and checks its manifest.
func openZip(r io.ReaderAt, size int64) (*archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %w", err)
	}
	a := &archive{zip: zr, entries: map[string]*zip.File{}}
	for _, f := range zr.File {
		a.entries[f.Name] = f
	}
	if err := readJSON(a.entries, "manifest.json", &a.manifest); err != nil {
		return nil, err
	}
	if a.manifest.Format != Format {
		return nil, fmt.Errorf("unknown archive format %q (want %s)", a.manifest.Format, Format)
	}
	return a, nil
}

// openArchive is openZip, then the collections and parameters read.
func openArchive(r io.ReaderAt, size int64) (*archive, error) {
	a, err := openZip(r, size)
	if err != nil {
		return nil, err
	}
	if err := readJSON(a.entries, "collections.json", &a.list); err != nil {
		return nil, err
	}
	if err := readJSON(a.entries, "params.json", &a.params); err != nil {
		return nil, err
	}
	return a, nil
}

// loader is where an archive's data goes: the store as it is (Restore)
// or the transaction that replaces its content (RestoreInPlace, through
// store.Replacement).
type loader interface {
	Collection(id string) *schema.Collection
	Records(ctx context.Context, c *schema.Collection, recs []*schema.Record) error
	SetParam(ctx context.Context, key, value string) error
	Table(ctx context.Context, name string, rows []map[string]any) error
}

// load writes the archive's records, parameters (but those in keep) and
// plain tables to l.
func (a *archive) load(ctx context.Context, l loader, keep map[string]bool) error {
	for _, bc := range a.list {
		if bc.IsView() {
			continue
		}
		c := l.Collection(bc.ID)
		if c == nil {
			return fmt.Errorf("collection %s (%s) is missing here: is this Plinth older than the archive's (%s)?", bc.Name, bc.ID, a.manifest.Version)
		}
		err := readRecords(a.entries["records/"+bc.ID+".jsonl"], c, func(recs []*schema.Record) error {
			return l.Records(ctx, c, recs)
		})
		if err != nil {
			return err
		}
	}
	for k, v := range a.params {
		if keep[k] {
			continue
		}
		if err := l.SetParam(ctx, k, v); err != nil {
			return err
		}
	}
	for _, name := range store.ExportTables {
		var rows []map[string]any
		if a.entries["tables/"+name+".json"] != nil {
			if err := readJSON(a.entries, "tables/"+name+".json", &rows); err != nil {
				return err
			}
		}
		if err := l.Table(ctx, name, rows); err != nil {
			return err
		}
	}
	return nil
}

// restoreFiles puts the archive's files in fileStore (files are added:
// keys are unique per upload, so an existing key holds the same file).
func (a *archive) restoreFiles(ctx context.Context, fileStore files.Storage) error {
	for _, f := range a.zip.File {
		key, ok := strings.CutPrefix(f.Name, "storage/")
		if !ok || strings.HasSuffix(f.Name, "/") {
			continue
		}
		if err := files.ValidateKey(key); err != nil {
			return fmt.Errorf("file %s: %w", f.Name, err)
		}
		if err := restoreFile(ctx, fileStore, key, f); err != nil {
			return err
		}
	}
	return nil
}

// storeLoader loads into the store as it is, each write its own
// transaction (Restore into a new target).
type storeLoader struct{ st *store.Store }

func (l storeLoader) Collection(id string) *schema.Collection { return l.st.Schema().Lookup(id) }
func (l storeLoader) Records(ctx context.Context, c *schema.Collection, recs []*schema.Record) error {
	return l.st.ImportRecords(ctx, c, recs)
}
func (l storeLoader) SetParam(ctx context.Context, key, value string) error {
	return l.st.SetParam(ctx, key, value)
}
func (l storeLoader) Table(ctx context.Context, name string, rows []map[string]any) error {
	return l.st.ImportTable(ctx, name, rows)
}

// Restore reads the archive into st and fileStore. The target must hold
// no collection of its own yet (a new data directory or database): the
// archive's collections, records, parameters and files are added to it,
// so a failed restore leaves a target to throw away, never a mixed one.
func Restore(ctx context.Context, st *store.Store, fileStore files.Storage, r io.ReaderAt, size int64) (*Manifest, error) {
	a, err := openArchive(r, size)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := checkEmpty(ctx, st); err != nil {
		return nil, err
	}
	var own []*schema.Collection
	for _, c := range a.list {
		if !c.System {
			own = append(own, c)
		}
	}
	if err := st.ImportCollections(ctx, own, false); err != nil {
		return nil, fmt.Errorf("restore: collections: %w", err)
	}
	if err := a.load(ctx, storeLoader{st}, nil); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := a.restoreFiles(ctx, fileStore); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return &a.manifest, nil
}

// usersID is the users collection every new instance starts with.
const usersID = "_pb_users_auth_"

// checkEmpty refuses a target that holds collections or records of its
// own: only what a new instance starts with (system collections, an
// empty users collection) may be there.
func checkEmpty(ctx context.Context, st *store.Store) error {
	for _, c := range st.Schema().Collections() {
		if c.System || c.IsView() {
			continue
		}
		if c.ID != usersID {
			return fmt.Errorf("restore: the target already has collection %q; restore into a new data directory or database", c.Name)
		}
		page, err := st.List(ctx, store.ListQuery{Collection: c, PerPage: 1, SkipTotal: true})
		if err != nil {
			return err
		}
		if len(page.Items) > 0 {
			return fmt.Errorf("restore: the target already has records in %q; restore into a new data directory or database", c.Name)
		}
	}
	return nil
}

// readRecords reads the JSON lines of f as records of c and passes them
// to put in batches of up to 1,000.
func readRecords(f *zip.File, c *schema.Collection, put func([]*schema.Record) error) error {
	if f == nil {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	dec.UseNumber()
	var batch []*schema.Record
	for {
		var cols map[string]any
		if err := dec.Decode(&cols); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("restore: %s: %w", f.Name, err)
		}
		for k, v := range cols {
			if n, ok := v.(json.Number); ok {
				cols[k], _ = n.Float64()
			}
		}
		batch = append(batch, store.RecordFromColumns(c, cols))
		if len(batch) == 1000 {
			if err := put(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) == 0 {
		return nil
	}
	return put(batch)
}

func restoreFile(ctx context.Context, fileStore files.Storage, key string, f *zip.File) error {
	// The content type is detected again, as on upload: zip entries carry
	// none.
	rc, err := f.Open()
	if err != nil {
		return err
	}
	mt, err := mimetype.DetectReader(rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("restore: file %s: %w", key, err)
	}
	if rc, err = f.Open(); err != nil {
		return err
	}
	defer rc.Close()
	if err := fileStore.Put(ctx, key, rc, int64(f.UncompressedSize64), mt.String()); err != nil {
		return fmt.Errorf("restore: file %s: %w", key, err)
	}
	return nil
}

func readJSON(entries map[string]*zip.File, name string, v any) error {
	f := entries[name]
	if f == nil {
		return fmt.Errorf("restore: the archive has no %s", name)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("restore: %s: %w", name, err)
	}
	return nil
}

// inPlaceKeep are the parameters an in-place restore leaves as they are:
// the running instance signs tokens and seals secrets with them, and
// would not pick new ones up before a restart.
var inPlaceKeep = map[string]bool{"token_secret": true, "encryption_key": true}

// RestoreInPlace replaces the content of a running instance's store with
// the archive's, in one transaction (store.Replace): it succeeds whole or
// leaves the data as it was, and the instance serves on. The archive's
// files are added first (files the old records used stay until the file
// sweep removes them). The token secret and the sealing key stay the
// instance's: sessions go on, and secrets sealed by another instance do
// not open (restore such an archive with Restore into a new target).
func RestoreInPlace(ctx context.Context, st *store.Store, fileStore files.Storage, r io.ReaderAt, size int64) (*Manifest, error) {
	a, err := openArchive(r, size)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := a.restoreFiles(ctx, fileStore); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	err = st.Replace(ctx, a.list, func(rep *store.Replacement) error { return a.load(ctx, rep, inPlaceKeep) })
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return &a.manifest, nil
}
