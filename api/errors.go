package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
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

// decodeJSON reads the request body into dst strictly: one JSON value, no
// unknown fields, within the body limit. Errors name the offending field.
func decodeJSON(c *gin.Context, dst any) error {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedType, Message: "Content-Type must be application/json"}
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "request body must hold exactly one JSON object"}
	}
	if field, ok := nulString(reflect.ValueOf(dst), ""); ok {
		return invalid(field, "must not contain the NUL character (\\u0000)")
	}
	return nil
}

// nulString finds a decoded string holding a NUL character: PostgreSQL's
// text cannot store one, and no field of hookd has a use for it. It names the
// field as its JSON path ("headers.X-Team"). Raw JSON (event payloads, JSON
// Schemas) is kept as written, escapes included, so it is not searched.
func nulString(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return nulString(v.Elem(), path)
	case reflect.String:
		return path, strings.IndexByte(v.String(), 0) >= 0
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if f.Anonymous && f.Tag.Get("json") == "" {
				name = ""
			}
			if p, ok := nulString(v.Field(i), joinPath(path, name)); ok {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // json.RawMessage and []byte
		}
		for i := range v.Len() {
			if p, ok := nulString(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if strings.IndexByte(key, 0) >= 0 {
				return path, true
			}
			if p, ok := nulString(iter.Value(), joinPath(path, key)); ok {
				return p, true
			}
		}
	}
	return "", false
}

func joinPath(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "":
		return name
	}
	return path + "." + name
}

func jsonError(err error) *Error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Message: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
	case errors.Is(err, io.EOF):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "request body is empty; a JSON object is required"}
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "request body is not valid JSON: " + err.Error()}
	case errors.As(err, &te):
		if te.Field == "" {
			return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "request body must be a JSON object"}
		}
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation, Field: te.Field,
			Message: fmt.Sprintf("%s: must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation, Field: field,
			Message: fmt.Sprintf("%s: unknown field", field)}
	}
	// Errors from a field's own UnmarshalJSON (e.g. the retry schedule).
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation, Message: err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	case "int", "int64", "float64":
		return "a number"
	}
	return k
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

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
