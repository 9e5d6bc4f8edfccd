package schema

import (
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

func init() { Register("file", func() Options { return &FileOptions{MaxSelect: 1} }) }

// DefaultFileMaxSize is the size cap of one uploaded file when MaxSize is 0.
const DefaultFileMaxSize = 5 << 20

// FileOptions are the options of a file field. The value is the stored file
// name (single, MaxSelect ≤ 1) or a list of them. MaxSize is per file in
// bytes (0 meaning DefaultFileMaxSize); MimeTypes, when not empty, lists
// the accepted content types; Thumbs lists the thumbnail sizes that may be
// requested besides the default one; Protected files need a file token.
type FileOptions struct {
	MaxSelect int      `json:"maxSelect"`
	MaxSize   int64    `json:"maxSize"`
	MimeTypes []string `json:"mimeTypes"`
	Thumbs    []string `json:"thumbs"`
	Protected bool     `json:"protected"`
}

// Storage implements Options.
func (o *FileOptions) Storage(*Field) Storage { return listStorage(o.MaxSelect) }

// Zero implements Options.
func (o *FileOptions) Zero(*Field) any { return listZero(o.MaxSelect) }

// MaxBytes is the effective per-file size cap.
func (o *FileOptions) MaxBytes() int64 {
	if o.MaxSize <= 0 {
		return DefaultFileMaxSize
	}
	return o.MaxSize
}

// AllowsMIME reports whether a file of the given content type (parameters
// such as "; charset=utf-8" are ignored) may be uploaded.
func (o *FileOptions) AllowsMIME(contentType string) bool {
	if len(o.MimeTypes) == 0 {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	for _, allowed := range o.MimeTypes {
		if strings.EqualFold(allowed, mt) {
			return true
		}
	}
	return false
}

// HasThumb reports whether thumb is one of the field's Thumbs.
func (o *FileOptions) HasThumb(thumb string) bool { return slices.Contains(o.Thumbs, thumb) }

var thumbPattern = regexp.MustCompile(`^(\d{1,5})x(\d{1,5})([tbf]?)$`)

// ParseThumb parses a thumbnail size: "WxH" (crop to fill from the center),
// "WxHt" (from the top), "WxHb" (from the bottom), "WxHf" (fit inside,
// no crop), "0xH" or "Wx0" (resize keeping the aspect ratio). Mode is 0 for
// the center crop and otherwise 't', 'b' or 'f'. "0x0" is invalid.
func ParseThumb(s string) (width, height int, mode byte, ok bool) {
	m := thumbPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, 0, false
	}
	width, _ = strconv.Atoi(m[1])
	height, _ = strconv.Atoi(m[2])
	if width == 0 && height == 0 {
		return 0, 0, 0, false
	}
	if m[3] != "" {
		mode = m[3][0]
	}
	return width, height, mode, true
}

// CheckOptions implements Options.
func (o *FileOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	errs := Errors{}
	if o.MaxSelect < 0 {
		errs.Add("maxSelect", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	}
	if o.MaxSize < 0 {
		errs.Add("maxSize", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	}
	for _, mt := range o.MimeTypes {
		if t, params, err := mime.ParseMediaType(mt); err != nil || len(params) > 0 || !strings.Contains(t, "/") {
			errs.Add("mimeTypes", NewFieldError("validation_invalid_mime_type", "Invalid MIME type "+quoteShort(mt)+"."))
			break
		}
	}
	for _, t := range o.Thumbs {
		if _, _, _, ok := ParseThumb(t); !ok {
			errs.Add("thumbs", NewFieldError("validation_invalid_thumb_format", "Invalid thumb format "+quoteShort(t)+": use WxH, WxHt, WxHb, WxHf, 0xH or Wx0."))
			break
		}
	}
	return errs
}

// Normalize implements Options: file names, as a select field takes its
// values. Uploads are turned into names by the record layer before this.
func (o *FileOptions) Normalize(_ *Field, v any) (any, *FieldError) {
	out, err := normalizeList(v, o.MaxSelect > 1)
	if err != nil {
		return nil, err
	}
	if err := checkFileNames(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Validate implements Options.
func (o *FileOptions) Validate(f *Field, v any) *FieldError {
	list, err := canonicalList(v, o.MaxSelect > 1)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	if err := checkFileNames(list); err != nil {
		return err
	}
	return checkCount(list, 0, o.MaxSelect)
}

// Modify implements Modifier like a select field's ("-" removes files by
// name; "+" appends names, which the record layer uses for uploads).
func (o *FileOptions) Modify(_ *Field, current any, op string, arg any) (any, *FieldError) {
	out, err := modifyList(current, op, arg, o.MaxSelect > 1)
	if err != nil {
		return nil, err
	}
	if err := checkFileNames(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidFileName reports whether s can be a stored file name: 1–255 bytes,
// no path separators, no control characters, not "." or "..", and not
// starting with a dot.
func ValidFileName(s string) bool {
	if s == "" || len(s) > 255 || s[0] == '.' || strings.ContainsAny(s, `/\`) {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) < 0
}

func checkFileNames(v any) *FieldError {
	var list []string
	switch x := v.(type) {
	case string:
		if x != "" {
			list = []string{x}
		}
	case []string:
		list = x
	}
	for _, name := range list {
		if !ValidFileName(name) {
			return ErrInvalid(fmt.Sprintf("Invalid file name %s.", quoteShort(name)))
		}
	}
	return nil
}
