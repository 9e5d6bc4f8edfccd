package schema

import "fmt"

func init() { Register("editor", func() Options { return &EditorOptions{} }) }

// DefaultEditorMaxSize is the size cap of an editor value when MaxSize is 0.
const DefaultEditorMaxSize = 5 << 20

// EditorOptions are the options of an editor (rich text, HTML) field.
// MaxSize is in bytes, 0 meaning DefaultEditorMaxSize. ConvertURLs only
// tells the admin UI's editor how to write links; the server ignores it.
type EditorOptions struct {
	MaxSize     int64 `json:"maxSize"`
	ConvertURLs bool  `json:"convertURLs"`
}

// Storage implements Options.
func (o *EditorOptions) Storage(*Field) Storage { return StoreText }

// Zero implements Options.
func (o *EditorOptions) Zero(*Field) any { return "" }

// MaxBytes is the effective size cap.
func (o *EditorOptions) MaxBytes() int64 {
	if o.MaxSize <= 0 {
		return DefaultEditorMaxSize
	}
	return o.MaxSize
}

// CheckOptions implements Options.
func (o *EditorOptions) CheckOptions(*Field, *Collection, Lookup) Errors {
	errs := Errors{}
	if o.MaxSize < 0 {
		errs.Add("maxSize", NewFieldError("validation_min_greater_equal_than_required", "Must be no less than 0."))
	}
	return errs
}

// Normalize implements Options: like text, the value is taken as given.
func (o *EditorOptions) Normalize(_ *Field, v any) (any, *FieldError) { return normalizeString(v) }

// Validate implements Options.
func (o *EditorOptions) Validate(f *Field, v any) *FieldError {
	s, ok := v.(string)
	if !ok {
		return ErrInvalid("Must be a string.")
	}
	if s == "" {
		if f.Required {
			return ErrRequired()
		}
		return nil
	}
	if max := o.MaxBytes(); int64(len(s)) > max {
		return NewFieldError("validation_content_size_limit", fmt.Sprintf("The maximum allowed content size is %d bytes.", max))
	}
	return nil
}
