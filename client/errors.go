package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Error is an answer of the API other than 2xx, decoded from its
// {status, message, data} body. Use errors.As to get it from an error
// returned by the client.
type Error struct {
	// Status is the HTTP status code, e.g. 400 or 404.
	Status int `json:"status"`
	// Message is the API's human-readable message.
	Message string `json:"message"`
	// Data holds details; for a validation failure (400) it maps each
	// invalid field to {"code": ..., "message": ...}. See FieldCode.
	Data map[string]any `json:"data"`
	// MFAID is set on the 401 that asks for a second authentication
	// factor; send it with the second factor.
	MFAID string `json:"mfaId,omitempty"`
	// Method and Path are the request that failed, for messages.
	Method string `json:"-"`
	// Path is the request's path, without the query.
	Path string `json:"-"`
}

// Error formats the status, request and message.
func (e *Error) Error() string {
	s := fmt.Sprintf("plinth: %d", e.Status)
	if e.Method != "" {
		s += " " + e.Method + " " + e.Path
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if fields := e.Fields(); len(fields) > 0 {
		parts := make([]string, len(fields))
		for i, f := range fields {
			parts[i] = f + " (" + e.FieldCode(f) + ")"
		}
		s += " [" + strings.Join(parts, ", ") + "]"
	}
	return s
}

// FieldCode returns the error code the API gave for the named field, such
// as "validation_required", or "" when that field has none.
func (e *Error) FieldCode(name string) string {
	f, _ := e.Data[name].(map[string]any)
	code, _ := f["code"].(string)
	return code
}

// FieldMessage returns the message the API gave for the named field, or
// "".
func (e *Error) FieldMessage(name string) string {
	f, _ := e.Data[name].(map[string]any)
	msg, _ := f["message"].(string)
	return msg
}

// Fields returns the names of the fields that have an error code in Data,
// sorted.
func (e *Error) Fields() []string {
	var out []string
	for name := range e.Data {
		if e.FieldCode(name) != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// IsStatus reports whether err is, or wraps, an [*Error] with the given
// status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// decodeError builds the Error for a non-2xx answer. A body that is not in
// the API's shape (a proxy's HTML page, say) leaves Message to the status
// text and the body's start.
func decodeError(method, path string, status int, body []byte) *Error {
	var wire struct {
		Status  int             `json:"status"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
		MFAID   string          `json:"mfaId"`
	}
	e := &Error{}
	if err := json.Unmarshal(body, &wire); err == nil && (wire.Message != "" || wire.Status != 0) {
		e.Message, e.MFAID = wire.Message, wire.MFAID
		json.Unmarshal(wire.Data, &e.Data) // data that is not an object is dropped
	} else {
		e.Message = http.StatusText(status)
		if text := strings.TrimSpace(string(body)); text != "" {
			if len(text) > 200 {
				text = text[:200] + "..."
			}
			e.Message += ": " + text
		}
	}
	e.Status, e.Method, e.Path = status, method, path
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return e
}
