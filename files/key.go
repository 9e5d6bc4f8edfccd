package files

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/plinthdev/plinth/schema"
)

// MaxKeyLen is the longest key accepted, S3's limit for an object name.
// The local store allows the same so that keys move between the two.
const MaxKeyLen = 1024

// thumbDirPrefix starts the directory that holds an original's thumbnails.
const thumbDirPrefix = "thumbs_"

// ErrInvalidKey is returned (wrapped) for a key or prefix that is not a
// sequence of safe names. Callers serving files should answer 404 for it,
// as for [ErrNotFound].
var ErrInvalidKey = errors.New("files: invalid key")

// ErrNotFound is returned (wrapped) when no object has the key.
var ErrNotFound = errors.New("files: not found")

// ValidateKey reports whether key can address an object: 1 to MaxKeyLen
// bytes of valid UTF-8, made of "/"-separated segments that each pass
// [ValidSegment]. So there is no leading or trailing "/", no empty, "." or
// ".." segment, no backslash, NUL or other control character: a valid key
// joined under a directory always stays inside it.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalidKey)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if !ValidSegment(seg) {
			return fmt.Errorf("%w: bad segment %q", ErrInvalidKey, truncate(seg, 40))
		}
	}
	return nil
}

// ValidSegment reports whether s may be one segment of a key: what
// [schema.ValidFileName] accepts (1–255 bytes, no path separators, no
// control characters, not starting with a dot, so never "." or "..") and
// valid UTF-8. Stored file names, record ids and collection ids all pass.
// Names starting with a dot are reserved for the local store's own
// temporary and metadata files.
func ValidSegment(s string) bool {
	return schema.ValidFileName(s) && utf8.ValidString(s)
}

// validatePrefix checks a List or DeletePrefix prefix: "" (everything) or
// one or more whole segments, with an optional trailing "/". It returns the
// prefix without the trailing slash. Prefixes always match whole segments,
// so "c/r1" never matches "c/r10/x".
func validatePrefix(prefix string) (string, error) {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		if prefix != "" {
			return "", fmt.Errorf("%w: prefix %q", ErrInvalidKey, prefix)
		}
		return "", nil
	}
	if err := ValidateKey(p); err != nil {
		return "", err
	}
	return p, nil
}

// Key returns the key of a record's file, <collectionId>/<recordId>/<filename>,
// or an error wrapping [ErrInvalidKey] when a part is not a safe segment.
func Key(collectionID, recordID, filename string) (string, error) {
	for _, s := range [...]string{collectionID, recordID, filename} {
		if !ValidSegment(s) {
			return "", fmt.Errorf("%w: bad segment %q", ErrInvalidKey, truncate(s, 40))
		}
	}
	k := collectionID + "/" + recordID + "/" + filename
	if len(k) > MaxKeyLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	return k, nil
}

// RecordPrefix is the prefix of every file of a record (for DeletePrefix).
func RecordPrefix(collectionID, recordID string) (string, error) {
	for _, s := range [...]string{collectionID, recordID} {
		if !ValidSegment(s) {
			return "", fmt.Errorf("%w: bad segment %q", ErrInvalidKey, truncate(s, 40))
		}
	}
	return collectionID + "/" + recordID, nil
}

// CollectionPrefix is the prefix of every file of a collection.
func CollectionPrefix(collectionID string) (string, error) {
	if !ValidSegment(collectionID) {
		return "", fmt.Errorf("%w: bad segment %q", ErrInvalidKey, truncate(collectionID, 40))
	}
	return collectionID, nil
}

// ThumbKey returns the key of the thumbnail spec (e.g. "100x100t") of the
// original file key: <dir>/thumbs_<name>/<spec>_<name>, PocketBase's layout.
func ThumbKey(originalKey, spec string) (string, error) {
	if err := ValidateKey(originalKey); err != nil {
		return "", err
	}
	dir, name := splitKey(originalKey)
	k := thumbDirPrefix + name + "/" + spec + "_" + name
	if dir != "" {
		k = dir + "/" + k
	}
	if err := ValidateKey(k); err != nil {
		return "", err
	}
	return k, nil
}

// thumbsPrefix is the prefix holding every thumbnail of an original key.
func thumbsPrefix(originalKey string) string {
	dir, name := splitKey(originalKey)
	if dir == "" {
		return thumbDirPrefix + name
	}
	return dir + "/" + thumbDirPrefix + name
}

// KeyInfo is a key taken apart by [ParseKey].
type KeyInfo struct {
	CollectionID string
	RecordID     string
	// Filename is the stored name of the original file, also for a
	// thumbnail's key.
	Filename string
	// Thumb is the thumbnail spec ("100x100") for a thumbnail's key, "" for
	// an original.
	Thumb string
}

// ParseKey takes apart a record file key or a thumbnail key. ok is false for
// any other shape (including keys that fail [ValidateKey]); callers such as
// the [Sweeper] leave such objects alone.
func ParseKey(key string) (info KeyInfo, ok bool) {
	if ValidateKey(key) != nil {
		return KeyInfo{}, false
	}
	parts := strings.Split(key, "/")
	switch len(parts) {
	case 3:
		return KeyInfo{CollectionID: parts[0], RecordID: parts[1], Filename: parts[2]}, true
	case 4:
		name, found := strings.CutPrefix(parts[2], thumbDirPrefix)
		if !found || name == "" {
			return KeyInfo{}, false
		}
		spec, found := strings.CutSuffix(parts[3], "_"+name)
		if !found {
			return KeyInfo{}, false
		}
		if _, err := ParseThumbSpec(spec); err != nil {
			return KeyInfo{}, false
		}
		return KeyInfo{CollectionID: parts[0], RecordID: parts[1], Filename: name, Thumb: spec}, true
	}
	return KeyInfo{}, false
}

// splitKey splits a valid key at its last "/".
func splitKey(key string) (dir, name string) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", key
	}
	return key[:i], key[i+1:]
}

// truncate shortens s for error messages without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
