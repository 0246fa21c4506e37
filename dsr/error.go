package dsr

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status; anything else is an
// internal error whose text is logged and never shown.
const (
	ECONFLICT      = "conflict"      // 409: the request clashes with current state
	EINTERNAL      = "internal"      // 500: a bug or an outage; details are logged only
	EINVALID       = "invalid"       // 400: malformed input
	EUNPROCESSABLE = "unprocessable" // 422: well-formed input that breaks a rule
	ENOTFOUND      = "not_found"     // 404
	EUNAUTHORIZED  = "unauthorized"  // 401
	EFORBIDDEN     = "forbidden"     // 403
	ETOOLARGE      = "too_large"     // 413
	ERATELIMITED   = "rate_limited"  // 429
	EUNAVAILABLE   = "unavailable"   // 503: a store is down; work on it is retried
	EGONE          = "gone"          // 410: it existed but has expired (a code, a download link)
)

// Error is an error meant for the caller: Code is one of the E* constants and
// Message tells the caller what to change. It never carries personal data.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("lethe error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Because returns e for the caller with cause kept behind it for the logs:
// ErrorCode and ErrorMessage see e, errors.Is and errors.As see both, and
// the text is e's message followed by cause's.
func (e *Error) Because(cause error) error { return &causedError{coded: e, cause: cause} }

// causedError is an *Error and the error that caused it.
type causedError struct {
	coded *Error
	cause error
}

func (e *causedError) Error() string   { return e.coded.Message + ": " + e.cause.Error() }
func (e *causedError) Unwrap() []error { return []error{e.coded, e.cause} }

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// "internal error" for any other error, so internal details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
