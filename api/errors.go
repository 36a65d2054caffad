package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/operations"
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

// invalid is a 422 naming the request field at fault.
func invalid(field, format string, a ...any) *Error {
	msg := fmt.Sprintf(format, a...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation, Message: msg, Field: field}
}

// operationCode is the error code of each kind of operations.Error; its
// status is the kind's HTTPStatus.
var operationCode = map[operations.Kind]string{
	operations.Invalid:      CodeValidation,
	operations.NotFound:     CodeNotFound,
	operations.Conflict:     CodeConflict,
	operations.Unavailable:  CodeUnavailable,
	operations.Unauthorized: CodeUnauthorized,
}

// toError renders err in the one error shape: an *Error as it is, an
// operation refused (*operations.Error) by its kind; ok is false for any
// other error, which is hookd's own failure.
func toError(err error) (_ *Error, ok bool) {
	var ae *Error
	if errors.As(err, &ae) {
		return ae, true
	}
	var oe *operations.Error
	if errors.As(err, &oe) {
		if code, known := operationCode[oe.Kind]; known {
			return &Error{Status: oe.Kind.HTTPStatus(), Code: code, Message: oe.Message, Field: oe.Field}, true
		}
	}
	return nil, false
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
// the JSON error shape. Errors that are neither *Error nor *operations.Error
// are logged and answered as 500 without their text, which may hold internals.
func (a *API) renderErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	err := c.Errors.Last().Err
	ae, ok := toError(err)
	if !ok {
		a.log.Error("api.internal_error", "method", c.Request.Method, "path", c.FullPath(), "error", err)
		ae = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
	}
	c.JSON(ae.Status, gin.H{"error": ae})
}
