package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"

	"github.com/hookd/hookd/models"
)

// Error is the one error shape every route answers with:
//
//	{"error": {"code": "validation_failed", "message": "url: must be http or https", "field": "url"}}
//
// Code is stable and meant for programs; Message is for people; Field names
// the request field at fault, when there is one.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Error codes.
const (
	CodeInvalidJSON     = "invalid_json"
	CodeValidation      = "validation_failed"
	CodeUnauthorized    = "unauthorized"
	CodeNotFound        = "not_found"
	CodeConflict        = "conflict"
	CodeTooLarge        = "payload_too_large"
	CodeMethod          = "method_not_allowed"
	CodeUnavailable     = "unavailable"
	CodeInternal        = "internal_error"
	CodeUnsupportedType = "unsupported_media_type"
)

func invalid(field, format string, a ...any) *Error {
	msg := fmt.Sprintf(format, a...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation, Message: msg, Field: field}
}

func notFound(what, id string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf("%s %s not found", what, id)}
}

// handler is a route that returns its error instead of writing it.
type handler func(c *gin.Context) error

// h adapts a handler to gin: an error is attached to the context and the
// errors middleware renders it.
func h(fn handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			_ = c.Error(err)
			c.Abort()
		}
	}
}

// renderErrors is the middleware that turns the last error of a request into
// the JSON error shape. Errors that are not *Error are logged and answered
// as 500 without their text, which may hold internals.
func (a *API) renderErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	err := c.Errors.Last().Err
	var ae *Error
	if !errors.As(err, &ae) {
		a.log.Error("api.internal_error", "method", c.Request.Method, "path", c.FullPath(), "error", err)
		ae = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
	}
	c.JSON(ae.Status, gin.H{"error": ae})
}

// storeError maps store sentinel errors to API errors. An id that is not
// UTF-8 or holds a NUL names nothing (ids are ASCII): SQLite finds nothing
// for it, PostgreSQL refuses to compare it; either way it is not found, as
// any other id hookd never issued.
func storeError(err error, what, id string) error {
	if errors.Is(err, models.ErrNotFound) || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return notFound(what, id)
	}
	return err
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
