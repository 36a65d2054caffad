package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

type eventRequest struct {
	Type       string          `json:"type"`
	TenantID   string          `json:"tenant_id"`
	Payload    json.RawMessage `json:"payload"`
	OccurredAt *string         `json:"occurred_at"`
}

type eventJSON struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	TenantID   string          `json:"tenant_id"`
	Payload    json.RawMessage `json:"payload"`
	OccurredAt time.Time       `json:"occurred_at"`
	CreatedAt  time.Time       `json:"created_at"`
}

func toEventJSON(e *models.Event) eventJSON {
	return eventJSON{ID: e.ID, Type: e.Type, TenantID: e.TenantID, Payload: json.RawMessage(e.Payload),
		OccurredAt: e.OccurredAt, CreatedAt: e.CreatedAt}
}

// createEvent accepts an event once per Idempotency-Key. The event and one
// pending delivery per subscribed endpoint are committed together before any
// workflow starts, so a 202 means every matching endpoint will get the event.
func (a *API) createEvent(c *gin.Context) error {
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: "Idempotency-Key",
			Message: "Idempotency-Key header is required: a unique key per event makes retries safe"}
	}
	if len(key) > 255 || !tenantPattern.MatchString(key) {
		return invalid("Idempotency-Key", "must be 1 to 255 printable characters without spaces")
	}
	var req eventRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Type == "" {
		return invalid("type", "is required")
	}
	if len(req.Type) > 255 || !eventTypePattern.MatchString(req.Type) {
		return invalid("type", "must be dot-separated words of letters, digits, '_', '-' or ':', like \"lead.created\"")
	}
	if req.TenantID == "" {
		return invalid("tenant_id", "is required")
	}
	if !tenantPattern.MatchString(req.TenantID) {
		return invalid("tenant_id", "must be 1 to 255 printable characters without spaces")
	}
	payload := bytes.TrimSpace(req.Payload)
	if len(payload) == 0 || bytes.Equal(payload, []byte("null")) {
		return invalid("payload", "is required")
	}
	if payload[0] != '{' {
		return invalid("payload", "must be a JSON object")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, payload); err != nil {
		return invalid("payload", "is not valid JSON")
	}
	now := a.now().UTC()
	occurred := now
	if req.OccurredAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *req.OccurredAt)
		if err != nil {
			return invalid("occurred_at", "must be an RFC 3339 time like \"2024-05-01T12:00:00Z\"")
		}
		occurred = t.UTC()
	}

	ctx := c.Request.Context()
	endpoints, err := a.store.SubscribedEndpoints(ctx, req.TenantID, req.Type)
	if err != nil {
		return err
	}
	for _, ep := range endpoints {
		p, err := profile.Lookup(ep.Profile)
		if err != nil {
			return err
		}
		if err := p.CheckEvent(req.Type, compact.Bytes()); err != nil {
			return invalid("payload", "endpoint %s (profile %s) cannot carry this event: %s", ep.ID, ep.Profile, err)
		}
	}

	h := sha256.New()
	for _, part := range [][]byte{[]byte(req.Type), []byte(req.TenantID), compact.Bytes()} {
		h.Write(part)
		h.Write([]byte{0})
	}
	if req.OccurredAt != nil {
		h.Write([]byte(occurred.Format(time.RFC3339Nano)))
	}
	ev := models.Event{
		ID: models.NewID("evt"), TenantID: req.TenantID, Type: req.Type, Payload: compact.String(),
		OccurredAt: occurred, IdempotencyKey: key, RequestHash: hex.EncodeToString(h.Sum(nil)), CreatedAt: now,
	}
	in, err := a.store.IngestEvent(ctx, ev, endpoints)
	if errors.Is(err, models.ErrIdempotencyConflict) {
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Field: "Idempotency-Key",
			Message: "Idempotency-Key was already used for a different event"}
	}
	if err != nil {
		return err
	}

	// Start (or, on a replayed request, make sure of) the deliveries that are
	// still pending. Starting is idempotent by workflow id.
	byID := make(map[string]*models.Endpoint, len(endpoints))
	for i := range endpoints {
		byID[endpoints[i].ID] = &endpoints[i]
	}
	var pending []models.Delivery
	for _, d := range in.Deliveries {
		if !d.Terminal() {
			pending = append(pending, d)
		}
	}
	if err := a.startDeliveries(ctx, &in.Event, pending, byID, models.TriggerSchedule); err != nil {
		a.log.Error("event.start_failed", "event_id", in.Event.ID, "error", err)
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "the event is stored but its deliveries could not be started yet; retry with the same Idempotency-Key"}
	}
	if in.Replayed {
		c.Header("Idempotent-Replayed", "true")
	} else {
		a.log.Info("event.accepted", "event_id", in.Event.ID, "event_type", in.Event.Type,
			"tenant_id", in.Event.TenantID, "deliveries", len(in.Deliveries))
	}
	out := struct {
		eventJSON
		Deliveries []deliveryJSON `json:"deliveries"`
	}{eventJSON: toEventJSON(&in.Event), Deliveries: make([]deliveryJSON, len(in.Deliveries))}
	for i := range in.Deliveries {
		out.Deliveries[i] = toDeliveryJSON(&in.Deliveries[i])
	}
	c.JSON(http.StatusAccepted, out)
	return nil
}
