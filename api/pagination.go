package api

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// page reads limit (1–250, default 50) and cursor (an id of the given
// prefix) from the query string.
func page(c *gin.Context, prefix string) (limit int, cursor string, err error) {
	if limit, err = limitQuery(c, 50); err != nil {
		return 0, "", err
	}
	cursor = c.Query("cursor")
	if cursor != "" && !validID(cursor, prefix) {
		return 0, "", queryError("cursor", "is not a cursor this list returned")
	}
	return limit, cursor, nil
}

// timeQuery reads an optional RFC 3339 query parameter.
func timeQuery(c *gin.Context, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, queryError(name, "must be an RFC 3339 time like 2024-05-01T12:00:00Z")
	}
	return t.UTC(), nil
}

func queryError(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: field, Message: field + ": " + msg}
}

func validID(id, prefix string) bool {
	return idPattern.MatchString(id) && len(id) > len(prefix) && id[:len(prefix)] == prefix
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
	v := c.Query("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 250 {
		return 0, queryError("limit", "must be a whole number from 1 to 250")
	}
	return n, nil
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
