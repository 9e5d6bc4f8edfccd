package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/store"
)

// Prefix is where archives live in the file storage (the data directory's
// storage, or the S3 bucket), so that every instance sees the same ones.
// Two segments: never taken for a record's file, never swept.
const Prefix = "_backups"

// namePattern is PocketBase's rule for backup names.
var namePattern = regexp.MustCompile(`^[a-z0-9_-]+\.zip$`)

// ErrInvalidName is returned for a name other than [a-z0-9_-]+.zip.
var ErrInvalidName = errors.New("backup names are made of a-z, 0-9, _ and - and end in .zip")

// ErrNotFound is returned for a backup that does not exist.
var ErrNotFound = errors.New("backup not found")

// ErrExists is returned when creating a backup under a name in use.
var ErrExists = errors.New("a backup with this name exists")

// Info describes a stored archive, as PocketBase's backups API lists it.
type Info struct {
	Key      string `json:"key"`
	Size     int64  `json:"size"`
	Modified string `json:"modified"`
}

// Service keeps archives in the file storage (or in Archives): made from
// the store, uploaded, listed, read back and deleted.
type Service struct {
	Store *store.Store
	// Files is the storage of file fields: what an archive includes and
	// a restore puts back.
	Files files.Storage
	// Archives is where archives are kept, under Prefix (PocketBase's
	// backups.s3); nil keeps them in Files.
	Archives files.Storage
	Version  string
}

// archives is where the archives are kept.
func (s *Service) archives() files.Storage {
	if s.Archives != nil {
		return s.Archives
	}
	return s.Files
}

// Key is the storage key of the archive name, or ErrInvalidName.
func Key(name string) (string, error) { return key(name) }

func key(name string) (string, error) {
	if !namePattern.MatchString(name) {
		return "", ErrInvalidName
	}
	return Prefix + "/" + name, nil
}

// DefaultName is the name of a backup made at t without one, as
// PocketBase names them.
func DefaultName(t time.Time) string {
	return "pb_backup_" + t.UTC().Format("20060102150405") + ".zip"
}

// List returns the stored archives, newest first.
func (s *Service) List(ctx context.Context) ([]Info, error) {
	out := []Info{}
	err := s.archives().List(ctx, Prefix, func(a files.Attributes) error {
		name := strings.TrimPrefix(a.Key, Prefix+"/")
		if namePattern.MatchString(name) {
			out = append(out, Info{Key: name, Size: a.Size, Modified: a.ModTime.UTC().Format("2006-01-02 15:04:05.000Z")})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Modified != out[j].Modified {
			return out[i].Modified > out[j].Modified
		}
		return out[i].Key < out[j].Key
	})
	return out, err
}

// Create makes an archive named name (DefaultName when empty) in the
// storage. It is written to a temporary file first, so the storage never
// holds half an archive.
func (s *Service) Create(ctx context.Context, name string) (string, error) {
	if name == "" {
		name = DefaultName(time.Now())
	}
	k, err := key(name)
	if err != nil {
		return "", err
	}
	if ok, err := s.archives().Exists(ctx, k); err != nil {
		return "", err
	} else if ok {
		return "", ErrExists
	}
	tmp, err := os.CreateTemp("", "plinth-backup-*.zip")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := Write(ctx, s.Store, s.Files, tmp, s.Version); err != nil {
		return "", err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	if err := s.archives().Put(ctx, k, tmp, size, "application/zip"); err != nil {
		return "", fmt.Errorf("backup: store %s: %w", name, err)
	}
	return name, nil
}

// Upload stores an archive read from r (size bytes) under name, after
// checking that it is one: a zip whose manifest this Plinth reads.
func (s *Service) Upload(ctx context.Context, name string, r io.ReaderAt, size int64) error {
	k, err := key(name)
	if err != nil {
		return err
	}
	if _, err := ReadManifest(r, size); err != nil {
		return err
	}
	if ok, err := s.archives().Exists(ctx, k); err != nil {
		return err
	} else if ok {
		return ErrExists
	}
	return s.archives().Put(ctx, k, io.NewSectionReader(r, 0, size), size, "application/zip")
}

// Open returns a stored archive for reading; the caller closes it.
func (s *Service) Open(ctx context.Context, name string) (*files.Object, error) {
	k, err := key(name)
	if err != nil {
		return nil, ErrNotFound
	}
	obj, err := s.archives().Open(ctx, k)
	if errors.Is(err, files.ErrNotFound) {
		return nil, ErrNotFound
	}
	return obj, err
}

// Delete removes a stored archive.
func (s *Service) Delete(ctx context.Context, name string) error {
	k, err := key(name)
	if err != nil {
		return ErrNotFound
	}
	if ok, err := s.archives().Exists(ctx, k); err != nil {
		return err
	} else if !ok {
		return ErrNotFound
	}
	return s.archives().Delete(ctx, k)
}

// Prune keeps the keep newest archives whose names start with prefix
// (scheduled backups) and deletes the others.
func (s *Service) Prune(ctx context.Context, prefix string, keep int) error {
	list, err := s.List(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, b := range list {
		if !strings.HasPrefix(b.Key, prefix) {
			continue
		}
		if n++; n > keep {
			if err := s.Delete(ctx, b.Key); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// RestoreInPlace restores the stored archive name into the running
// instance (see the package function RestoreInPlace).
func (s *Service) RestoreInPlace(ctx context.Context, name string) (*Manifest, error) {
	obj, err := s.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	// A zip is read by offset: a copy on local disk serves every storage.
	tmp, err := os.CreateTemp("", "plinth-restore-*.zip")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, obj)
	if err != nil {
		return nil, fmt.Errorf("restore: read %s: %w", name, err)
	}
	return RestoreInPlace(ctx, s.Store, s.Files, tmp, size)
}
