package api

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
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

// listDeliveries: GET /v1/deliveries?endpoint_id=&event_id=&status=&tenant_id=&event_type=&since=&until=&limit=&cursor=
// Newest first; next_cursor is null on the last page. The filters are read
// by operations.DeliveryQuery, as the dashboard reads them.
func (a *API) listDeliveries(c *gin.Context) error {
	f, err := operations.DeliveryQuery{
		EndpointID: c.Query("endpoint_id"), EventID: c.Query("event_id"), Status: c.Query("status"),
		TenantID: c.Query("tenant_id"), EventType: c.Query("event_type"),
		Since: c.Query("since"), Until: c.Query("until"), Cursor: c.Query("cursor"), Limit: c.Query("limit"),
	}.Filter()
	if err != nil {
		return queryFault(err)
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
