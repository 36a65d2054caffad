package operations

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/hookd/hookd/models"
)

// Kind says whose fault an Error is and what the caller can do about it.
type Kind int

// The kinds of Error.
const (
	// Invalid: the input is wrong; Field names the part at fault.
	Invalid Kind = iota + 1
	// NotFound: what the input names does not exist.
	NotFound
	// Conflict: the input is fine but the current state refuses it.
	Conflict
	// Unavailable: a part of hookd could not be reached; retry later.
	Unavailable
	// Unauthorized: the credential given (a dashboard session) is not usable.
	Unauthorized
)

// HTTPStatus is the status a front door answers an Error of kind k with;
// 0 for an unknown kind (hookd's own failure: 500).
func (k Kind) HTTPStatus() int {
	switch k {
	case Invalid:
		return http.StatusUnprocessableEntity
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unavailable:
		return http.StatusServiceUnavailable
	case Unauthorized:
		return http.StatusUnauthorized
	}
	return 0
}

// Error is an operation refused for a reason its caller can act on. Any
// other error an operation returns is hookd's own failure. Message is for
// people and may name the request's values; it never holds a secret.
type Error struct {
	Kind    Kind
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// invalid is the Invalid error of a field, its message prefixed with the field.
func invalid(field, format string, a ...any) *Error {
	msg := fmt.Sprintf(format, a...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{Kind: Invalid, Field: field, Message: msg}
}

func notFound(what, id string) *Error {
	return &Error{Kind: NotFound, Message: fmt.Sprintf("%s %s not found", what, id)}
}

// storeError maps the store's ErrNotFound to a NotFound error. An id that is
// not UTF-8 or holds a NUL names nothing (ids are ASCII): SQLite finds
// nothing for it, PostgreSQL refuses to compare it; either way it is not
// found, as any other id hookd never issued.
func storeError(err error, what, id string) error {
	if errors.Is(err, models.ErrNotFound) || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return notFound(what, id)
	}
	return err
}
