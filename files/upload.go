package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"strconv"
	"strings"

	"github.com/gabriel-vasile/mimetype"

	"github.com/plinthdev/plinth/schema"
)

// Validation codes, PocketBase's.
const (
	CodeFileSizeLimit   = "validation_file_size_limit"
	CodeInvalidMIMEType = "validation_invalid_mime_type"
)

// Upload is one uploaded file waiting to be stored: validate it before the
// database transaction, write it (Put, or [Changes.Put]) inside or just
// before it, and let [Changes] delete it again if the transaction fails.
type Upload struct {
	// Field is the name of the file field the upload is for (without a
	// "+"/"-" modifier), for error keys.
	Field string
	// OriginalName is the client's file name, untrusted; only for display.
	OriginalName string
	// Name is the stored file name (see [Sanitize]): the value to put in
	// the record and the last segment of the key.
	Name string
	// Size is the content length in bytes.
	Size int64
	// ContentType is sniffed from the content, never taken from the
	// client, e.g. "image/png" or "text/plain; charset=utf-8".
	ContentType string

	mime *mimetype.MIME
	open func() (io.ReadCloser, error)
}

// NewUpload makes an Upload from a parsed multipart file. It reads the
// first few KiB to sniff the content type; the content itself stays where
// the multipart parser put it (memory or a temporary file) until Put.
func NewUpload(field string, fh *multipart.FileHeader) (*Upload, error) {
	if fh == nil {
		return nil, errors.New("files: nil file header")
	}
	return NewUploadFunc(field, fh.Filename, fh.Size, func() (io.ReadCloser, error) { return fh.Open() })
}

// NewUploadBytes makes an Upload of in-memory content (tests, imports,
// files made by the server).
func NewUploadBytes(field, originalName string, data []byte) *Upload {
	u, _ := NewUploadFunc(field, originalName, int64(len(data)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	return u
}

// NewUploadFunc makes an Upload whose content open returns, as many times
// as needed; size must be its exact length. The content is opened once
// here to sniff its type.
func NewUploadFunc(field, originalName string, size int64, open func() (io.ReadCloser, error)) (*Upload, error) {
	if open == nil {
		return nil, errors.New("files: nil open func")
	}
	if size < 0 {
		return nil, fmt.Errorf("files: upload %q: negative size", originalName)
	}
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("files: upload %q: open: %w", originalName, err)
	}
	mt, err := mimetype.DetectReader(rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("files: upload %q: sniff: %w", originalName, err)
	}
	return &Upload{
		Field:        field,
		OriginalName: originalName,
		Name:         sanitizeName(originalName, mt.Extension()),
		Size:         size,
		ContentType:  mt.String(),
		mime:         mt,
		open:         open,
	}, nil
}

// Open returns the content. The caller closes it.
func (u *Upload) Open() (io.ReadCloser, error) { return u.open() }

// Validate checks the upload against the field's options: size against
// MaxBytes and the sniffed type against MimeTypes (aliases such as
// "application/x-pdf" for "application/pdf" count). It returns nil or a
// *schema.FieldError with code [CodeFileSizeLimit] or [CodeInvalidMIMEType],
// to be keyed by the field's name.
func (u *Upload) Validate(opts *schema.FileOptions) *schema.FieldError {
	if opts == nil {
		opts = &schema.FileOptions{}
	}
	if limit := opts.MaxBytes(); u.Size > limit {
		return schema.NewFieldError(CodeFileSizeLimit,
			"The file exceeds the maximum allowed size of "+strconv.FormatInt(limit, 10)+" bytes.")
	}
	if !u.allowsMIME(opts) {
		return schema.NewFieldError(CodeInvalidMIMEType,
			fmt.Sprintf("The file type %q is not allowed; allowed: %s.", u.mediaType(), strings.Join(opts.MimeTypes, ", ")))
	}
	if !schema.ValidFileName(u.Name) {
		// Cannot happen with Sanitize's names; kept as a last guard.
		return schema.ErrInvalid("Invalid file name.")
	}
	return nil
}

func (u *Upload) allowsMIME(opts *schema.FileOptions) bool {
	if opts.AllowsMIME(u.ContentType) {
		return true
	}
	if u.mime == nil {
		return false
	}
	for _, allowed := range opts.MimeTypes {
		if u.mime.Is(allowed) {
			return true
		}
	}
	return false
}

// mediaType is ContentType without parameters.
func (u *Upload) mediaType() string {
	mt, _, _ := strings.Cut(u.ContentType, ";")
	return strings.TrimSpace(mt)
}

// Key returns the key the upload is stored under for the record.
func (u *Upload) Key(collectionID, recordID string) (string, error) {
	return Key(collectionID, recordID, u.Name)
}

// Put writes the content to st under key with the sniffed content type.
// Prefer [Changes.Put], which also remembers the key for a rollback.
func (u *Upload) Put(ctx context.Context, st Storage, key string) error {
	rc, err := u.open()
	if err != nil {
		return fmt.Errorf("files: open upload %q: %w", u.OriginalName, err)
	}
	defer rc.Close()
	return st.Put(ctx, key, rc, u.Size, u.ContentType)
}
