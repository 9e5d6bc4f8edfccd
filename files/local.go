package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gabriel-vasile/mimetype"
)

// Names the local store keeps beside the objects. Both start with a dot, which
// no key segment may (see ValidSegment), so they never collide with a key
// and List never reports them.
const (
	tmpPrefix  = ".tmp."
	metaPrefix = ".meta."
)

// Local is a [Storage] on the local file system: the object with key
// "a/b/c.jpg" is the file <root>/a/b/c.jpg, so the tree can be copied to or
// from a bucket as is. Writes are atomic (temporary file in the same
// directory, fsync, rename, fsync of the directory); the content type
// lives in a hidden sidecar file (.meta.<name>) and is sniffed from the
// content when the sidecar is missing (a tree copied in by hand).
//
// All access goes through an [os.Root], so even a symlink planted inside
// the tree cannot make the store read or write outside it.
type Local struct {
	root *os.Root
	dir  string
}

// NewLocal opens (creating it if needed, mode 0700) the directory dir as a
// local store.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("files: local storage needs a directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("files: create storage dir: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("files: open storage dir: %w", err)
	}
	return &Local{root: root, dir: dir}, nil
}

// Dir returns the directory the store was opened on.
func (l *Local) Dir() string { return l.dir }

type localMeta struct {
	ContentType string `json:"contentType"`
}

// Put implements [Storage].
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if contentType == "" {
		contentType = defaultContentType
	}
	dir, name := splitKey(key)
	if dir == "" {
		dir = "."
	}
	f, tmp, err := l.createTemp(dir)
	if err != nil {
		return fmt.Errorf("files: put %s: %w", key, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = l.root.Remove(tmp)
		}
	}()
	var src io.Reader = ctxReader{ctx, r}
	if size >= 0 {
		src = &exactReader{r: src, remaining: size}
	}
	_, err = io.Copy(f, src)
	if err == nil {
		// The data must be on disk before the rename makes it visible,
		// or a crash could leave a complete-looking but empty file.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("files: put %s: %w", key, err)
	}

	// The sidecar goes first: a crash between the two renames leaves a
	// stray sidecar (harmless) rather than a file with no content type.
	meta, _ := json.Marshal(localMeta{ContentType: contentType})
	if err := l.writeMeta(dir, name, meta); err != nil {
		return fmt.Errorf("files: put %s: %w", key, err)
	}
	if err := l.root.Rename(tmp, key); err != nil {
		return fmt.Errorf("files: put %s: %w", key, err)
	}
	renamed = true
	if err := l.syncDir(dir); err != nil {
		return fmt.Errorf("files: put %s: sync dir: %w", key, err)
	}
	return nil
}

// createTemp creates dir (and its parents) and a new temporary file in it.
// A concurrent Delete may prune a freshly made, still empty directory
// before the file exists, a parent even while MkdirAll is creating its
// child; and a concurrent Put may recreate one between MkdirAll's look
// and its mkdir, which then fails with EEXIST. Both steps are retried
// for either race (for OpenFile, EEXIST would be a temp-name collision,
// which a retry with a new name also cures).
func (l *Local) createTemp(dir string) (*os.File, string, error) {
	for attempt := 0; ; attempt++ {
		err := l.root.MkdirAll(dir, 0o755)
		if err == nil {
			tmp := dir + "/" + tmpPrefix + randomString(16)
			var f *os.File
			if f, err = l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
				return f, tmp, nil
			}
		}
		racing := errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist)
		if !racing || attempt >= 5 {
			return nil, "", err
		}
	}
}

func (l *Local) writeMeta(dir, name string, data []byte) error {
	f, tmp, err := l.createTemp(dir)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = l.root.Rename(tmp, dir+"/"+metaPrefix+name)
	}
	if err != nil {
		_ = l.root.Remove(tmp)
	}
	return err
}

func (l *Local) syncDir(dir string) error {
	d, err := l.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open implements [Storage].
func (l *Local) Open(ctx context.Context, key string) (*Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := l.root.Open(key)
	if err != nil {
		return nil, l.mapErr("open", key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, l.mapErr("open", key, err)
	}
	attrs := localAttrs(key, fi)
	attrs.ContentType = l.readMeta(key)
	if attrs.ContentType == "" {
		// No sidecar (a tree copied in by hand): sniff, as at upload.
		mt, err := mimetype.DetectReader(f)
		if err == nil {
			attrs.ContentType = mt.String()
		}
		if _, serr := f.Seek(0, io.SeekStart); serr != nil {
			f.Close()
			return nil, fmt.Errorf("files: open %s: %w", key, serr)
		}
		if attrs.ContentType == "" {
			attrs.ContentType = defaultContentType
		}
	}
	return &Object{ReadSeekCloser: f, Attributes: attrs}, nil
}

// Attributes implements [Storage].
func (l *Local) Attributes(ctx context.Context, key string) (Attributes, error) {
	if err := ValidateKey(key); err != nil {
		return Attributes{}, err
	}
	if err := ctx.Err(); err != nil {
		return Attributes{}, err
	}
	fi, err := l.root.Stat(key)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return Attributes{}, l.mapErr("stat", key, err)
	}
	attrs := localAttrs(key, fi)
	attrs.ContentType = l.readMeta(key)
	if attrs.ContentType == "" {
		obj, err := l.Open(ctx, key)
		if err != nil {
			return Attributes{}, err
		}
		obj.Close()
		attrs.ContentType = obj.ContentType
	}
	return attrs, nil
}

// Exists implements [Storage].
func (l *Local) Exists(ctx context.Context, key string) (bool, error) {
	if err := ValidateKey(key); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fi, err := l.root.Stat(key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return false, nil
		}
		return false, fmt.Errorf("files: stat %s: %w", key, err)
	}
	return fi.Mode().IsRegular(), nil
}

// Delete implements [Storage]. Directories left empty are removed.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := l.root.Lstat(key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil
		}
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a directory is not an object
	}
	if err := l.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	dir, name := splitKey(key)
	if dir == "" {
		dir = "."
	}
	if err := l.root.Remove(dir + "/" + metaPrefix + name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	l.pruneDirs(key)
	return nil
}

// DeletePrefix implements [Storage]. Directories left empty are removed.
func (l *Local) DeletePrefix(ctx context.Context, prefix string) error {
	p, err := validatePrefix(prefix)
	if err != nil {
		return err
	}
	if p == "" {
		return fmt.Errorf("%w: empty prefix for DeletePrefix", ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := l.root.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil
		}
		return fmt.Errorf("files: delete prefix %s: %w", p, err)
	}
	if !fi.IsDir() {
		return nil // an object, not a prefix of any: as on S3
	}
	if err := l.root.RemoveAll(p); err != nil {
		return fmt.Errorf("files: delete prefix %s: %w", p, err)
	}
	l.pruneDirs(p)
	return nil
}

// pruneDirs removes the now empty parent directories of key, up to the
// root. Removal stops at the first directory that is not empty, which is
// also how it stays safe against a concurrent Put (see createTemp).
func (l *Local) pruneDirs(key string) {
	for d := path.Dir(key); d != "." && d != "/"; d = path.Dir(d) {
		if err := l.root.Remove(d); err != nil {
			return
		}
	}
}

// List implements [Storage].
func (l *Local) List(ctx context.Context, prefix string, fn func(Attributes) error) error {
	p, err := validatePrefix(prefix)
	if err != nil {
		return err
	}
	start := p
	if start == "" {
		start = "."
	}
	err = fs.WalkDir(l.root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == start && (errors.Is(err, fs.ErrNotExist) || isNotDir(err)) {
				return fs.SkipAll
			}
			if errors.Is(err, fs.ErrNotExist) {
				// Deleted while listing (the Sweeper deletes as it
				// goes, and Delete prunes empty directories).
				return nil
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if name == start && !d.IsDir() {
			return nil // an object, not a prefix of any: as on S3
		}
		if name != start && strings.HasPrefix(d.Name(), ".") {
			// Temporary and sidecar files, and anything hidden.
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || ValidateKey(name) != nil {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while listing
			}
			return err
		}
		return fn(localAttrs(name, fi))
	})
	if err != nil {
		return fmt.Errorf("files: list %s: %w", p, err)
	}
	return nil
}

// RemoveStaleTemp deletes temporary files older than the cutoff that a
// crash or a kill during Put left behind. The [Sweeper] calls it.
func (l *Local) RemoveStaleTemp(ctx context.Context, olderThan time.Time) (int, error) {
	removed := 0
	err := fs.WalkDir(l.root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || !fi.ModTime().Before(olderThan) {
			return nil
		}
		if err := l.root.Remove(name); err == nil {
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("files: remove stale temp files: %w", err)
	}
	return removed, nil
}

// Close implements [Storage].
func (l *Local) Close() error { return l.root.Close() }

func (l *Local) readMeta(key string) string {
	dir, name := splitKey(key)
	if dir == "" {
		dir = "."
	}
	data, err := l.root.ReadFile(dir + "/" + metaPrefix + name)
	if err != nil || len(data) > 4096 {
		return ""
	}
	var m localMeta
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	return m.ContentType
}

func (l *Local) mapErr(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
		return fmt.Errorf("files: %s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("files: %s %s: %w", op, key, err)
}

func localAttrs(key string, fi fs.FileInfo) Attributes {
	mt := fi.ModTime()
	return Attributes{
		Key:     key,
		Size:    fi.Size(),
		ModTime: mt,
		// Size and nanosecond mtime change whenever the file is
		// replaced (a rename brings a new inode and a new mtime).
		ETag: strconv.FormatInt(mt.UnixNano(), 36) + "-" + strconv.FormatInt(fi.Size(), 36),
	}
}

// isNotDir reports ENOTDIR: a key that runs through a file ("a.jpg/x").
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
