package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures an [S3] store. Plinth's environment variables are in
// docs/files.md (PLINTH_S3_ENDPOINT, PLINTH_S3_BUCKET, ...).
type S3Config struct {
	// Endpoint is the service's host[:port] ("s3.amazonaws.com",
	// "127.0.0.1:9000", "<account>.r2.cloudflarestorage.com") or a URL
	// with a scheme ("https://minio.example.com", "http://127.0.0.1:9000"),
	// in which case the scheme decides TLS and UseSSL is ignored.
	Endpoint string
	// Bucket must exist (see [S3.Check]).
	Bucket string
	// Region, e.g. "us-east-1". Empty: asked of the service once
	// (GetBucketLocation), which most S3-compatible services answer.
	Region string
	// AccessKey and Secret are static credentials. Both empty: anonymous
	// requests (public buckets only).
	AccessKey string
	Secret    string
	// ForcePathStyle addresses the bucket as http://host/bucket/key
	// instead of http://bucket.host/key. MinIO and most self-hosted
	// services need it.
	ForcePathStyle bool
	// UseSSL selects https for an Endpoint without a scheme.
	UseSSL bool
	// Prefix, when set, is put before every key ("plinth" stores key
	// "c/r/f.jpg" as object "plinth/c/r/f.jpg"), so that one bucket can
	// serve several applications. Whole segments, like a key.
	Prefix string
	// MaxRetries bounds the client's retries of a failed request
	// (default 3; the client's own default of 10 can hold a request for
	// a long time when the service is down).
	MaxRetries int
	// Transport replaces the HTTP transport (tests, custom TLS roots).
	Transport http.RoundTripper
}

// S3 is a [Storage] in an S3-compatible bucket (AWS S3, MinIO, Cloudflare
// R2, Backblaze B2, Wasabi, ...), through github.com/minio/minio-go.
type S3 struct {
	client    *minio.Client
	core      minio.Core
	bucket    string
	prefix    string // "" or "seg/.../"
	transport *http.Transport
}

// unknownSizePartSize bounds the memory of a Put of unknown size: the
// client buffers one part at a time, and its own default for an unknown
// size (object maximum / 10,000 parts) would be hundreds of MiB.
const unknownSizePartSize = 16 << 20

// NewS3 returns an S3 store. It makes no request; call [S3.Check] at start-up
// to fail early on a wrong endpoint, bucket or credentials.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("files: S3 bucket is required")
	}
	host, secure, err := parseEndpoint(cfg.Endpoint, cfg.UseSSL)
	if err != nil {
		return nil, err
	}
	prefix, err := validatePrefix(cfg.Prefix)
	if err != nil {
		return nil, fmt.Errorf("files: S3 prefix: %w", err)
	}
	if prefix != "" {
		prefix += "/"
	}
	s := &S3{bucket: cfg.Bucket, prefix: prefix}
	rt := cfg.Transport
	if rt == nil {
		tr, err := minio.DefaultTransport(secure)
		if err != nil {
			return nil, fmt.Errorf("files: S3 transport: %w", err)
		}
		s.transport = tr
		rt = tr
	}
	opts := &minio.Options{
		Secure:     secure,
		Region:     cfg.Region,
		Transport:  rt,
		MaxRetries: cfg.MaxRetries,
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 3
	}
	// Empty keys make the client send anonymous requests.
	opts.Creds = credentials.NewStaticV4(cfg.AccessKey, cfg.Secret, "")
	if cfg.ForcePathStyle {
		opts.BucketLookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, opts)
	if err != nil {
		return nil, fmt.Errorf("files: S3 client: %w", err)
	}
	s.client = client
	s.core = minio.Core{Client: client}
	return s, nil
}

// parseEndpoint accepts host[:port] or http(s)://host[:port][/].
func parseEndpoint(endpoint string, useSSL bool) (host string, secure bool, err error) {
	if endpoint == "" {
		return "", false, errors.New("files: S3 endpoint is required")
	}
	if !strings.Contains(endpoint, "://") {
		if strings.ContainsAny(endpoint, "/?#@ ") {
			return "", false, fmt.Errorf("files: S3 endpoint %q: want host[:port] or a URL", endpoint)
		}
		return endpoint, useSSL, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, fmt.Errorf("files: S3 endpoint: %w", err)
	}
	switch u.Scheme {
	case "https":
		secure = true
	case "http":
	default:
		return "", false, fmt.Errorf("files: S3 endpoint %q: scheme must be http or https", endpoint)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false, fmt.Errorf("files: S3 endpoint %q: want scheme://host[:port] without a path", endpoint)
	}
	return u.Host, secure, nil
}

// Check verifies that the bucket exists and the credentials can reach it.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("files: S3 bucket %q: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("files: S3 bucket %q does not exist", s.bucket)
	}
	return nil
}

func (s *S3) name(key string) string { return s.prefix + key }

// Put implements [Storage].
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if contentType == "" {
		contentType = defaultContentType
	}
	opts := minio.PutObjectOptions{ContentType: contentType}
	body := r
	if size < 0 {
		opts.PartSize = unknownSizePartSize
	} else {
		// A reader longer than size would otherwise be cut silently.
		body = &exactReader{r: r, remaining: size}
	}
	if _, err := s.client.PutObject(ctx, s.bucket, s.name(key), body, size, opts); err != nil {
		return fmt.Errorf("files: put %s: %w", key, err)
	}
	return nil
}

// Open implements [Storage]. One HEAD gives the attributes; the content is
// then fetched lazily by ranged GETs from the current offset, pinned to the
// ETag seen by the HEAD so that a replaced object fails instead of mixing
// two versions.
func (s *S3) Open(ctx context.Context, key string) (*Object, error) {
	attrs, err := s.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	rd := &s3Reader{ctx: ctx, s: s, key: key, etag: attrs.ETag, size: attrs.Size}
	return &Object{ReadSeekCloser: rd, Attributes: attrs}, nil
}

// Attributes implements [Storage].
func (s *S3) Attributes(ctx context.Context, key string) (Attributes, error) {
	if err := ValidateKey(key); err != nil {
		return Attributes{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return Attributes{}, s.mapErr("stat", key, err)
	}
	ct := info.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	return Attributes{Key: key, Size: info.Size, ModTime: info.LastModified, ContentType: ct, ETag: info.ETag}, nil
}

// Exists implements [Storage].
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.Attributes(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Delete implements [Storage].
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{}); err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	return nil
}

// DeletePrefix implements [Storage]: the listing is fed to multi-object
// deletes (1,000 keys a request).
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	p, err := validatePrefix(prefix)
	if err != nil {
		return err
	}
	if p == "" {
		return fmt.Errorf("%w: empty prefix for DeletePrefix", ErrInvalidKey)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objs := make(chan minio.ObjectInfo)
	listErr := make(chan error, 1)
	go func() {
		defer close(objs)
		for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.name(p) + "/", Recursive: true}) {
			if obj.Err != nil {
				listErr <- obj.Err
				return
			}
			select {
			case objs <- minio.ObjectInfo{Key: obj.Key}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var errs []error
	for rerr := range s.client.RemoveObjects(ctx, s.bucket, objs, minio.RemoveObjectsOptions{}) {
		if rerr.Err != nil && !isNoSuchKey(rerr.Err) {
			errs = append(errs, fmt.Errorf("%s: %w", rerr.ObjectName, rerr.Err))
		}
	}
	select {
	case err := <-listErr:
		errs = append(errs, err)
	default:
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("files: delete prefix %s: %w", p, err)
	}
	return nil
}

// List implements [Storage].
func (s *S3) List(ctx context.Context, prefix string, fn func(Attributes) error) error {
	p, err := validatePrefix(prefix)
	if err != nil {
		return err
	}
	listPrefix := s.prefix
	if p != "" {
		listPrefix += p + "/"
	}
	// Cancelling stops the listing goroutine when fn fails early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: listPrefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("files: list %s: %w", p, obj.Err)
		}
		key, ok := strings.CutPrefix(obj.Key, s.prefix)
		if !ok || ValidateKey(key) != nil {
			continue
		}
		if err := fn(Attributes{Key: key, Size: obj.Size, ModTime: obj.LastModified, ContentType: obj.ContentType, ETag: obj.ETag}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Close implements [Storage].
func (s *S3) Close() error {
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	return nil
}

func (s *S3) mapErr(op, key string, err error) error {
	if isNoSuchKey(err) {
		return fmt.Errorf("files: %s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("files: %s %s: %w", op, key, err)
}

func isNoSuchKey(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && er.Code == minio.NoSuchKey
}

// s3Reader reads an object by ranged GETs: Seek only moves the offset, and
// the next Read opens a GET from there to the end, which is what
// http.ServeContent needs for Range requests (seek, then copy n bytes).
type s3Reader struct {
	ctx  context.Context
	s    *S3
	key  string
	etag string
	size int64
	off  int64
	body io.ReadCloser
}

func (r *s3Reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		var opts minio.GetObjectOptions
		if r.etag != "" {
			if err := opts.SetMatchETag(r.etag); err != nil {
				return 0, err
			}
		}
		if r.off > 0 {
			if err := opts.SetRange(r.off, 0); err != nil {
				return 0, err
			}
		}
		body, _, _, err := r.s.core.GetObject(r.ctx, r.s.bucket, r.s.name(r.key), opts)
		if err != nil {
			return 0, r.s.mapErr("read", r.key, err)
		}
		r.body = body
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	if err == io.EOF && r.off < r.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (r *s3Reader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, fmt.Errorf("files: seek: invalid whence %d", whence)
	}
	if abs < 0 {
		return 0, errors.New("files: seek: negative position")
	}
	if abs != r.off && r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.off = abs
	return abs, nil
}

func (r *s3Reader) Close() error {
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}
