package api

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/operations"
)

// page reads limit (1–250, default 50) and cursor (an id of the given
// prefix) from the query string.
func page(c *gin.Context, prefix string) (limit int, cursor string, err error) {
	if limit, err = limitQuery(c, 50); err != nil {
		return 0, "", err
	}
	cursor = c.Query("cursor")
	if cursor != "" && !operations.IsID(cursor, prefix) {
		return 0, "", queryError("cursor", "is not a cursor this list returned")
	}
	return limit, cursor, nil
}

// timeQuery reads an optional RFC 3339 query parameter.
func timeQuery(c *gin.Context, name string) (time.Time, error) {
	t, err := operations.ParseTime(name, c.Query(name))
	return t, queryFault(err)
}

// queryFault is an operation's refusal of a query parameter: 400, as for
// every query parameter, where a body field's is 422.
func queryFault(err error) error {
	var oe *operations.Error
	if errors.As(err, &oe) && oe.Kind == operations.Invalid {
		return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: oe.Field, Message: oe.Message}
	}
	return err
}

func queryError(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: field, Message: field + ": " + msg}
}

// listPage answers {"data": items, "next_cursor": …}: items holds limit+1
// elements when there is a next page.
func listPage[T any](c *gin.Context, items []T, limit int, id func(T) string, render func(*T) any) {
	var next *string
	if len(items) > limit {
		items = items[:limit]
		v := id(items[limit-1])
		next = &v
	}
	out := make([]any, len(items))
	for i := range items {
		out[i] = render(&items[i])
	}
	c.JSON(http.StatusOK, gin.H{"data": out, "next_cursor": next})
}

// limitQuery reads limit (1–250) from the query string, def when absent.
func limitQuery(c *gin.Context, def int) (int, error) {
	n, err := operations.ParseLimit(c.Query("limit"), def)
	return n, queryFault(err)
}

// strictQuery is the middleware of a route that reads its query string: it
// answers 400 for a query string that does not parse (?cursor=%%%x), a
// parameter the route does not take (?endpoint_idd=…) or one given twice,
// instead of a silently unfiltered answer.
func strictQuery(names ...string) gin.HandlerFunc {
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	takes := "this route takes no query parameters"
	if len(names) > 0 {
		takes = "this route takes " + strings.Join(names, ", ")
	}
	return h(func(c *gin.Context) error {
		q, err := url.ParseQuery(c.Request.URL.RawQuery)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Code: CodeValidation,
				Message: "the query string is malformed (percent-encode reserved characters): " + err.Error()}
		}
		for _, name := range slices.Sorted(maps.Keys(q)) {
			switch {
			case !known[name]:
				return queryError(name, "unknown query parameter; "+takes)
			case len(q[name]) > 1:
				return queryError(name, "given more than once")
			}
		}
		return nil
	})
}
