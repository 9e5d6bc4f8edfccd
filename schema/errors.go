package schema

import (
	"sort"
	"strings"
)

// FieldError is one validation failure of one field, in PocketBase's shape:
// a stable machine code (e.g. "validation_required") and a human message.
type FieldError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *FieldError) Error() string { return e.Message }

// NewFieldError returns a *FieldError with the given code and message.
func NewFieldError(code, message string) *FieldError {
	return &FieldError{Code: code, Message: message}
}

// Common validation failures shared by several field types.
var (
	ErrRequired = func() *FieldError { return NewFieldError("validation_required", "Cannot be blank.") }
	ErrInvalid  = func(msg string) *FieldError { return NewFieldError("validation_invalid_value", msg) }
)

// Errors collects validation failures keyed by field (or option) name. Nested
// errors (for example the options of one field inside a collection) are
// expressed as Errors values.
type Errors map[string]any

// Error implements error, listing the failing keys in a stable order.
func (e Errors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		switch v := e[k].(type) {
		case *FieldError:
			b.WriteString(v.Message)
		case Errors:
			b.WriteString("(" + v.Error() + ")")
		}
	}
	return b.String()
}

// Add records err under key unless err is nil. It returns e for chaining.
func (e Errors) Add(key string, err *FieldError) Errors {
	if err != nil {
		e[key] = err
	}
	return e
}

// OrNil returns nil when e is empty, so callers can `return errs.OrNil()`.
func (e Errors) OrNil() error {
	if len(e) == 0 {
		return nil
	}
	return e
}
