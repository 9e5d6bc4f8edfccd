package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Storage is a blob store addressed by keys (see [ValidateKey]). Every
// method validates its key or prefix and returns an error wrapping
// [ErrInvalidKey] for a bad one before touching anything. Implementations
// are safe for concurrent use.
type Storage interface {
	// Put stores the content of r under key, replacing any object there.
	// size is the exact length of the content, or -1 when unknown; a
	// reader that yields a different number of bytes than a non-negative
	// size is an error and nothing is stored. contentType is kept and
	// returned by Open and Attributes ("" stores
	// "application/octet-stream"). Readers never see a partial object.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error

	// Open returns the object for reading and seeking, with its
	// attributes. The content is streamed: seeking and reading a range
	// does not fetch the whole object. The caller must Close it.
	// A missing key is an error wrapping [ErrNotFound].
	Open(ctx context.Context, key string) (*Object, error)

	// Attributes returns the object's attributes without its content.
	// A missing key is an error wrapping [ErrNotFound].
	Attributes(ctx context.Context, key string) (Attributes, error)

	// Exists reports whether an object has the key.
	Exists(ctx context.Context, key string) (bool, error)

	// Delete removes the object. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// DeletePrefix removes every object under the prefix, that is whose
	// key starts with prefix + "/" (a record's "collectionId/recordId", or
	// a collection's "collectionId"). It matches whole segments only:
	// "c/r1" does not touch "c/r10/x", nor an object named "c/r1" itself.
	// The empty prefix is refused, so a bug cannot wipe the store.
	DeletePrefix(ctx context.Context, prefix string) error

	// List calls fn for every object under the prefix (whole segments, as
	// for DeletePrefix; "" lists everything), in no particular order, with
	// Key, Size and ModTime set (ContentType and ETag may be empty). An
	// error from fn stops the listing and is returned. Objects whose keys
	// are not valid keys (left in a bucket by other tools) are skipped.
	List(ctx context.Context, prefix string, fn func(Attributes) error) error

	// Close releases the store's resources.
	Close() error
}

// Attributes describe a stored object.
type Attributes struct {
	Key         string
	Size        int64
	ModTime     time.Time
	ContentType string
	// ETag identifies this version of the content (unquoted). S3 gives
	// its own; the local store derives one from the size and modification
	// time. [Serve] uses it as a strong validator.
	ETag string
}

// Object is an open stored object: its content, which the caller must
// close, and its attributes.
type Object struct {
	io.ReadSeekCloser
	Attributes
}

// DeleteFile deletes a record file and all its thumbnails. A missing file is
// not an error.
func DeleteFile(ctx context.Context, st Storage, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	var errs []error
	if err := st.Delete(ctx, key); err != nil {
		errs = append(errs, err)
	}
	if err := st.DeletePrefix(ctx, thumbsPrefix(key)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	return nil
}

// ctxReader fails reads once ctx is done, so a Put of a slow or endless
// reader stops when the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// defaultContentType is stored for a Put without a content type.
const defaultContentType = "application/octet-stream"

// exactReader yields exactly remaining bytes of r and fails if r has fewer
// or more. The check for more happens with the last bytes, so an upload of
// an overlong reader fails instead of storing a cut object.
type exactReader struct {
	r         io.Reader
	remaining int64
	done      bool
}

var errTooLong = errors.New("files: content longer than its declared size")

func (e *exactReader) Read(p []byte) (int, error) {
	if e.done || e.remaining == 0 {
		if !e.done {
			e.done = true
			if err := e.probe(); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.remaining {
		p = p[:e.remaining]
	}
	n, err := e.r.Read(p)
	e.remaining -= int64(n)
	if e.remaining == 0 {
		e.done = true
		if perr := e.probe(); perr != nil {
			return 0, perr
		}
		return n, io.EOF
	}
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// probe reads one byte past the declared end.
func (e *exactReader) probe() error {
	var b [1]byte
	for range 3 {
		n, err := e.r.Read(b[:])
		if n > 0 {
			return errTooLong
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return nil
}
