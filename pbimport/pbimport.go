// Package pbimport moves a PocketBase application into Plinth: the
// collections of its pb_data/data.db (fields, indexes, rules, auth
// options), every record as it is stored (ids, dates, password hashes, so
// users keep their passwords; superusers too), OAuth2 links and login
// origins, and the files under pb_data/storage. Run it against a stopped
// PocketBase; it only reads pb_data.
//
// Running it again updates what an earlier run imported (records are
// matched by id) and leaves everything else in place.
package pbimport

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Report says what an import moved.
type Report struct {
	Collections int            // collections created or updated
	Records     map[string]int // records per collection name
	Files       int            // files copied
	Skipped     []string       // what was left out, and why
}

// systemRows are PocketBase's system collections whose rows move over:
// superusers, OAuth2 links, known login origins, and the short-lived
// state of logins in progress (one-time passwords, with their bcrypt
// hashes, and first factors of MFA logins), whose tables have the same
// fields here: a user who asked for a code just before the move can still
// sign in with it, and expired rows are cleaned up as any others.
var systemRows = map[string]bool{"_superusers": true, "_externalAuths": true, "_authOrigins": true, "_otps": true, "_mfas": true}

// Progress is told, after each batch of records, how many of a
// collection's records are in (done of total); nil tells nothing.
type Progress func(collection string, done, total int)

// Import reads the PocketBase data directory dir (the folder holding
// data.db and storage/) into st and fileStore.
func Import(ctx context.Context, st *store.Store, fileStore files.Storage, dir string, progress Progress) (*Report, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	path := filepath.Join(dir, "data.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("pbimport: %s is not a PocketBase data directory: %w", dir, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"mode": {"ro"}, "_pragma": {"query_only(ON)", "busy_timeout(5000)"}}.Encode())
	if err != nil {
		return nil, fmt.Errorf("pbimport: open %s: %w", path, err)
	}
	defer db.Close()
	list, err := readCollections(ctx, db)
	if err != nil {
		return nil, err
	}
	rep := &Report{Records: map[string]int{}}
	var imported []*schema.Collection
	for _, c := range list {
		if !c.System {
			imported = append(imported, c)
		} else if !systemRows[c.Name] {
			rep.Skipped = append(rep.Skipped, c.Name+" (short-lived PocketBase system data)")
		}
	}
	if err := st.ImportCollections(ctx, imported, false); err != nil {
		return nil, fmt.Errorf("pbimport: collections: %w", err)
	}
	rep.Collections = len(imported)
	snap := st.Schema()
	for _, pc := range list {
		if pc.IsView() || pc.System && !systemRows[pc.Name] {
			continue
		}
		c := snap.Lookup(pc.ID)
		if c == nil || c.Name != pc.Name {
			c = snap.Lookup(pc.Name)
		}
		if c == nil {
			rep.Skipped = append(rep.Skipped, pc.Name+" (no such collection here)")
			continue
		}
		n, err := copyRows(ctx, db, st, pc.Name, c, progress)
		if err != nil {
			return nil, err
		}
		rep.Records[c.Name] = n
	}
	n, err := copyFiles(ctx, fileStore, filepath.Join(dir, "storage"))
	if err != nil {
		return nil, err
	}
	rep.Files = n
	return rep, nil
}

// readCollections reads PocketBase's _collections table (v0.23 and
// later) into collection definitions, in the shape of its export JSON.
func readCollections(ctx context.Context, db *sql.DB) ([]*schema.Collection, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, system, type, name, fields, indexes, listRule, viewRule, createRule, updateRule, deleteRule, options FROM _collections ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("pbimport: read _collections (PocketBase 0.23 or later is needed): %w", err)
	}
	defer rows.Close()
	var out []*schema.Collection
	for rows.Next() {
		var id, typ, name, fields, indexes, options string
		var system bool
		var rules [5]sql.NullString
		if err := rows.Scan(&id, &system, &typ, &name, &fields, &indexes, &rules[0], &rules[1], &rules[2], &rules[3], &rules[4], &options); err != nil {
			return nil, fmt.Errorf("pbimport: read _collections: %w", err)
		}
		def := map[string]any{}
		if options != "" {
			if err := json.Unmarshal([]byte(options), &def); err != nil {
				return nil, fmt.Errorf("pbimport: collection %s: options: %w", name, err)
			}
		}
		def["id"], def["name"], def["type"], def["system"] = id, name, typ, system
		def["fields"], def["indexes"] = json.RawMessage(orEmpty(fields)), json.RawMessage(orEmpty(indexes))
		for i, key := range []string{"listRule", "viewRule", "createRule", "updateRule", "deleteRule"} {
			if rules[i].Valid {
				def[key] = rules[i].String
			} else {
				def[key] = nil
			}
		}
		raw, err := json.Marshal(def)
		if err != nil {
			return nil, err
		}
		c := &schema.Collection{}
		if err := json.Unmarshal(raw, c); err != nil {
			return nil, fmt.Errorf("pbimport: collection %s: %w", name, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func orEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "[]"
	}
	return s
}

// copyRows copies the rows of PocketBase's table into c.
func copyRows(ctx context.Context, db *sql.DB, st *store.Store, table string, c *schema.Collection, progress Progress) (int, error) {
	quoted := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
	var count int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoted).Scan(&count); err != nil {
		return 0, fmt.Errorf("pbimport: read %s: %w", table, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT * FROM `+quoted)
	if err != nil {
		return 0, fmt.Errorf("pbimport: read %s: %w", table, err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var batch []*schema.Record
	total := 0
	flush := func() error {
		if err := st.ImportRecords(ctx, c, batch); err != nil {
			return fmt.Errorf("pbimport: %w", err)
		}
		total += len(batch)
		batch = batch[:0]
		progress(c.Name, total, count)
		return nil
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("pbimport: read %s: %w", table, err)
		}
		cols := make(map[string]any, len(names))
		for i, n := range names {
			cols[n] = vals[i]
		}
		batch = append(batch, store.RecordFromColumns(c, cols))
		if len(batch) == 1000 {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return total, flush()
}

// copyFiles copies storage/<collectionId>/<recordId>/<file>, the layout
// both use; PocketBase's thumbnails (thumbs_* folders) are left to be
// made again on demand.
func copyFiles(ctx context.Context, fileStore files.Storage, root string) (int, error) {
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if d.IsDir() {
			if len(parts) == 3 || strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir // thumbs_<file>/, or PocketBase's own
			}
			return nil
		}
		if len(parts) != 3 || strings.HasPrefix(parts[2], ".") || strings.HasSuffix(parts[2], ".attrs") {
			return nil
		}
		key, err := files.Key(parts[0], parts[1], parts[2])
		if err != nil {
			return nil // not a record file
		}
		if err := putFile(ctx, fileStore, key, path); err != nil {
			return fmt.Errorf("pbimport: file %s: %w", rel, err)
		}
		n++
		return nil
	})
	return n, err
}

func putFile(ctx context.Context, fileStore files.Storage, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	mt, err := mimetype.DetectReader(f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return fileStore.Put(ctx, key, f, info.Size(), mt.String())
}

// Settings returns PocketBase's application settings (the settings row
// of its _params table) as the JSON object its settings API shows, for
// Plinth's settings PATCH, which takes the same shape. Settings that
// PocketBase stored encrypted (PB_ENCRYPTION_KEY) cannot be read: the
// error says so.
func Settings(ctx context.Context, dir string) ([]byte, error) {
	path := filepath.Join(dir, "data.db")
	db, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"mode": {"ro"}, "_pragma": {"query_only(ON)"}}.Encode())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var raw string
	if err := db.QueryRowContext(ctx, `SELECT value FROM _params WHERE id = 'settings'`).Scan(&raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("pbimport: settings: %w", err)
	}
	if !json.Valid([]byte(raw)) {
		return nil, errors.New("pbimport: the settings are encrypted (PocketBase ran with an encryption key); set them again in Plinth")
	}
	return []byte(raw), nil
}

// KeepKnown returns the settings object pb with only the keys that the
// settings object known has too (recursively, for objects), and the paths
// of the keys it dropped, for settings PocketBase has and Plinth does not
// (S3 configured in the settings, say).
func KeepKnown(pb, known []byte) ([]byte, []string, error) {
	var in, tmpl any
	if err := json.Unmarshal(pb, &in); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(known, &tmpl); err != nil {
		return nil, nil, err
	}
	var dropped []string
	out := keepKnown(in, tmpl, "", &dropped)
	data, err := json.Marshal(out)
	return data, dropped, err
}

func keepKnown(in, tmpl any, path string, dropped *[]string) any {
	obj, ok := in.(map[string]any)
	t, tok := tmpl.(map[string]any)
	if !ok || !tok {
		return in
	}
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		sub, known := t[k]
		if !known {
			*dropped = append(*dropped, path+k)
			continue
		}
		out[k] = keepKnown(obj[k], sub, path+k+".", dropped)
	}
	return out
}
