package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"
)

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

// optionalJSON decodes a body if there is one; an empty body leaves dst as is.
func optionalJSON(c *gin.Context, dst any) error {
	if !hasBody(c) {
		return nil
	}
	return decodeJSON(c, dst)
}

// hasBody reports whether the request carries a body. When its length is
// not known (chunked), it reads ahead one byte and keeps it for the decoder.
func hasBody(c *gin.Context) bool {
	r := c.Request
	if r.ContentLength >= 0 || r.Body == nil || r.Body == http.NoBody {
		return r.ContentLength > 0
	}
	br := bufio.NewReader(r.Body)
	_, err := br.Peek(1)
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	return !errors.Is(err, io.EOF)
}

// noBody is for the POST routes that take no body (unpause, retry, loading
// a preset): none, or {}, is accepted; anything else is refused with the
// error shape, as the other routes refuse what they do not know: an unknown
// field is 422 naming it, a body that is not one JSON object (null
// included) 400, another Content-Type 415, a body over the limit 413.
func noBody(c *gin.Context) error {
	if !hasBody(c) {
		return nil
	}
	var body *struct{}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body == nil {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: "request body must be a JSON object: send none, or {}"}
	}
	return nil
}
