package authflow

import (
	"time"

	"github.com/plinthdev/plinth/schema"
)

// Kind classifies an *Error; transports map it to their own status
// (the REST API: 400, 401, 403, 404, 429).
type Kind int

// The kinds of auth flow errors.
const (
	// Invalid is bad input or failed credentials (400).
	Invalid Kind = iota + 1
	// Unauthenticated is a flow that needs an authenticated caller, or a
	// login that needs a second factor (MFAID set) (401).
	Unauthenticated
	// Forbidden is a flow the collection or the record does not allow (403).
	Forbidden
	// NotFound is an unknown record (404).
	NotFound
	// TooManyAttempts is a throttled login (429, RetryAfter set).
	TooManyAttempts
)

// Error is an auth flow's refusal: what the client is told (Message, and
// Data's field errors), kept apart from the Cause that is only logged.
type Error struct {
	Kind    Kind
	Message string
	Data    schema.Errors
	Cause   error
	// MFAID is the pending multi-factor session of an Unauthenticated
	// error that asks for a second authentication method.
	MFAID string
	// RetryAfter is how long a TooManyAttempts caller should wait.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

func invalid(msg string, cause error) *Error {
	return &Error{Kind: Invalid, Message: msg, Cause: cause}
}

func forbidden(msg string) *Error { return &Error{Kind: Forbidden, Message: msg} }

func unauthenticated(msg string) *Error { return &Error{Kind: Unauthenticated, Message: msg} }

// fieldError is a 400 with one field error whose message is msg.
func fieldError(key, code, msg string) *Error {
	return &Error{Kind: Invalid, Message: msg, Data: schema.Errors{key: schema.NewFieldError(code, msg)}}
}

// validationError is the 400 of submitted data that does not validate.
func validationError(data schema.Errors) *Error {
	return &Error{Kind: Invalid, Message: "An error occurred while validating the submitted data.", Data: data}
}

// Required returns the validation error naming the empty values of
// fields (name → value), or nil.
func Required(fields ...string) error {
	errs := schema.Errors{}
	for i := 0; i+1 < len(fields); i += 2 {
		if isBlank(fields[i+1]) {
			errs.Add(fields[i], schema.ErrRequired())
		}
	}
	if len(errs) > 0 {
		return validationError(errs)
	}
	return nil
}

// InvalidToken is the answer to any emailed token that does not verify,
// whatever the reason.
func InvalidToken() *Error {
	return fieldError("token", "validation_invalid_token", "Invalid or expired token.")
}

// InvalidMFA answers an mfaId that is unknown, expired or another
// record's.
func InvalidMFA() *Error {
	return fieldError("mfaId", "validation_invalid_mfa", "Invalid or expired MFA session.")
}

// invalidOTP answers every OTP failure alike.
func invalidOTP() *Error {
	return fieldError("otpId", "validation_invalid_otp", "Invalid or expired OTP.")
}

// selfAuth is the refusal of a self-service flow without an
// authenticated record of the collection.
func selfAuth(auth *schema.Record, c *schema.Collection) error {
	if auth == nil {
		return unauthenticated("The request requires valid record authorization token.")
	}
	if auth.Collection.ID != c.ID {
		return forbidden("The authorized record belongs to another collection.")
	}
	return nil
}
