package api

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

type deliveryJSON struct {
	ID             string     `json:"id"`
	EndpointID     string     `json:"endpoint_id"`
	EventID        string     `json:"event_id"`
	Status         string     `json:"status"`
	AttemptCount   int        `json:"attempt_count"`
	LastStatusCode int        `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	WorkflowID     string     `json:"workflow_id"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

func toDeliveryJSON(d *models.Delivery) deliveryJSON {
	return deliveryJSON{
		ID: d.ID, EndpointID: d.EndpointID, EventID: d.EventID, Status: d.Status,
		AttemptCount: d.AttemptCount, LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		LastAttemptAt: d.LastAttemptAt, NextAttemptAt: d.NextAttemptAt,
		WorkflowID: workflows.DeliveryWorkflowID(d.EndpointID, d.EventID),
		CreatedAt:  d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

type attemptJSON struct {
	ID             string            `json:"id"`
	Number         int               `json:"number"`
	Trigger        string            `json:"trigger"`
	URL            string            `json:"url"`
	RequestHeaders map[string]string `json:"request_headers"`
	// StatusCode is null when no answer came (refused, timed out, blocked).
	StatusCode      *int    `json:"status_code"`
	Succeeded       bool    `json:"succeeded"`
	LatencyMS       float64 `json:"latency_ms"`
	ResponseExcerpt string  `json:"response_excerpt"`
	// ResponseExcerptBase64 holds the excerpt's exact bytes when they are
	// not valid UTF-8, which response_excerpt shows with U+FFFD in their place.
	ResponseExcerptBase64 string    `json:"response_excerpt_base64,omitempty"`
	Error                 string    `json:"error,omitempty"`
	StartedAt             time.Time `json:"started_at"`
}

func toAttemptJSON(a *models.Attempt) attemptJSON {
	out := attemptJSON{ID: a.ID, Number: a.Number, Trigger: a.Trigger, URL: a.URL, RequestHeaders: a.RequestHeaders,
		Succeeded: a.Succeeded, LatencyMS: a.LatencyMS,
		Error: a.Error, StartedAt: a.StartedAt}
	if a.StatusCode != 0 {
		code := a.StatusCode
		out.StatusCode = &code
	}
	body := a.Body()
	out.ResponseExcerpt = string(body)
	if !utf8.Valid(body) {
		out.ResponseExcerpt = strings.ToValidUTF8(out.ResponseExcerpt, "\uFFFD")
		out.ResponseExcerptBase64 = base64.StdEncoding.EncodeToString(body)
	}
	return out
}

var (
	idPattern     = regexp.MustCompile(`^[a-z]{2,4}_[0-9A-HJKMNP-TV-Z]{26}$`)
	statusPattern = map[string]bool{
		models.DeliveryPending: true, models.DeliveryHeld: true, models.DeliverySucceeded: true,
		models.DeliveryFailed: true, models.DeliveryCancelled: true,
	}
)

// listDeliveries: GET /v1/deliveries?endpoint_id=&event_id=&status=&since=&until=&limit=&cursor=
// Newest first; next_cursor is null on the last page.
func (a *API) listDeliveries(c *gin.Context) error {
	f := models.DeliveryFilter{
		EndpointID: c.Query("endpoint_id"),
		EventID:    c.Query("event_id"),
		Status:     c.Query("status"),
		After:      c.Query("cursor"),
		Limit:      50,
	}
	for _, q := range []struct{ name, val, prefix string }{
		{"endpoint_id", f.EndpointID, "ep_"}, {"event_id", f.EventID, "evt_"}, {"cursor", f.After, "dlv_"},
	} {
		if q.val != "" && (!idPattern.MatchString(q.val) || q.val[:len(q.prefix)] != q.prefix) {
			return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: q.name,
				Message: q.name + ": is not a valid " + q.prefix + "… id"}
		}
	}
	if f.Status != "" && !statusPattern[f.Status] {
		return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: "status",
			Message: "status: must be one of pending, held, succeeded, failed, cancelled"}
	}
	for _, q := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := c.Query(q.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: q.name,
					Message: q.name + ": must be an RFC 3339 time like 2024-05-01T12:00:00Z"}
			}
			*q.dst = t.UTC()
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: "limit",
				Message: "limit: must be a whole number from 1 to 250"}
		}
		f.Limit = n
	}
	limit := f.Limit
	f.Limit++ // one more tells whether there is a next page
	ds, err := a.ops.ListDeliveries(c.Request.Context(), f)
	if err != nil {
		return err
	}
	var next *string
	if len(ds) > limit {
		ds = ds[:limit]
		id := ds[limit-1].ID
		next = &id
	}
	out := make([]deliveryJSON, len(ds))
	for i := range ds {
		out[i] = toDeliveryJSON(&ds[i])
	}
	c.JSON(http.StatusOK, gin.H{"data": out, "next_cursor": next})
	return nil
}

// getDelivery: GET /v1/deliveries/{id}, with every attempt in order.
func (a *API) getDelivery(c *gin.Context) error {
	d, atts, err := a.ops.GetDelivery(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := struct {
		deliveryJSON
		Attempts []attemptJSON `json:"attempts"`
	}{deliveryJSON: toDeliveryJSON(d), Attempts: make([]attemptJSON, len(atts))}
	for i := range atts {
		out.Attempts[i] = toAttemptJSON(&atts[i])
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// retryDelivery: POST /v1/deliveries/{id}/retry (no body, or {}) — one more
// attempt now, outside the schedule (operations.RetryDelivery).
func (a *API) retryDelivery(c *gin.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	d, err := a.ops.RetryDelivery(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusAccepted, toDeliveryJSON(d))
	return nil
}
