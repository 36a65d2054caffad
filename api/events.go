package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
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
	var occurred time.Time
	if req.OccurredAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *req.OccurredAt)
		if err != nil {
			return invalid("occurred_at", "must be an RFC 3339 time like \"2024-05-01T12:00:00Z\"")
		}
		occurred = t.UTC()
	}

	in, err := a.ingest(c.Request.Context(), ingestRequest{
		Type: req.Type, TenantID: req.TenantID, Payload: compact.Bytes(), OccurredAt: occurred,
		OccurredAtGiven: req.OccurredAt != nil, IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	if in.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	listed := in.Deliveries[:min(len(in.Deliveries), maxListedDeliveries)]
	out := acceptedJSON{eventJSON: toEventJSON(&in.Event), DeliveryCount: len(in.Deliveries), Deliveries: make([]deliveryJSON, len(listed))}
	for i := range listed {
		out.Deliveries[i] = toDeliveryJSON(&listed[i])
	}
	c.JSON(http.StatusAccepted, out)
	return nil
}

// acceptedJSON answers POST /v1/events: the event, how many deliveries it
// has and the first maxListedDeliveries of them.
type acceptedJSON struct {
	eventJSON
	DeliveryCount int            `json:"delivery_count"`
	Deliveries    []deliveryJSON `json:"deliveries"`
}

// eventPageJSON answers GET /v1/events/{id}: the event and one page of its
// deliveries, newest first; deliveries_next_cursor, passed back as cursor,
// reads the next page (null on the last).
type eventPageJSON struct {
	eventJSON
	Deliveries           []deliveryJSON `json:"deliveries"`
	DeliveriesNextCursor *string        `json:"deliveries_next_cursor"`
}

// maxListedDeliveries bounds the deliveries POST /v1/events lists; GET
// /v1/events/{id} pages through all of them.
const maxListedDeliveries = 250

// ingestRequest is a validated event to accept.
type ingestRequest struct {
	Type, TenantID  string
	Payload         []byte // compact JSON object
	OccurredAt      time.Time
	OccurredAtGiven bool
	IdempotencyKey  string
	// Endpoints, when set, are the only endpoints the event goes to (test
	// events); otherwise the tenant's subscribed endpoints.
	Endpoints []models.Endpoint
}

// ingest stores the event with its deliveries in one transaction and starts
// them. A request that repeats a stored event's tenant, Idempotency-Key and
// body is answered with the stored event before any check: it was accepted
// then, whatever its schema or endpoints have become since. A new event is
// checked against its catalog schema and the profile of every target
// endpoint first. Errors are API errors where the caller is at fault.
func (a *API) ingest(ctx context.Context, r ingestRequest) (models.Ingested, error) {
	now := a.now().UTC()
	if !r.OccurredAtGiven {
		r.OccurredAt = now
	}
	hash := requestHash(r)
	in, found, err := a.store.PriorEvent(ctx, r.TenantID, r.IdempotencyKey, hash)
	if err != nil {
		return in, idempotencyError(err)
	}
	endpoints := r.Endpoints
	if endpoints == nil {
		if endpoints, err = a.store.SubscribedEndpoints(ctx, r.TenantID, r.Type); err != nil {
			return models.Ingested{}, err
		}
	}
	if !found {
		if err := a.checkEvent(ctx, r, endpoints); err != nil {
			return models.Ingested{}, err
		}
		ev := models.Event{
			ID: models.NewID("evt"), TenantID: r.TenantID, Type: r.Type, Payload: string(r.Payload),
			OccurredAt: r.OccurredAt, IdempotencyKey: r.IdempotencyKey, RequestHash: hash, CreatedAt: now,
		}
		if in, err = a.store.IngestEvent(ctx, ev, endpoints); err != nil {
			return in, idempotencyError(err)
		}
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
	if err := a.startFanOut(ctx, &in.Event, pending, byID); err != nil {
		a.log.Error("event.start_failed", "event_id", in.Event.ID, "error", err)
		return in, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "the event is stored but its deliveries could not be started yet; retry with the same Idempotency-Key"}
	}
	if !in.Replayed {
		if a.metrics != nil {
			a.metrics.EventsAccepted.Inc()
			a.metrics.DeliveriesStarted.Add(float64(len(in.Deliveries)))
		}
		a.log.Info("event.accepted", "event_id", in.Event.ID, "event_type", in.Event.Type,
			"tenant_id", in.Event.TenantID, "deliveries", len(in.Deliveries))
	}
	return in, nil
}

// checkEvent checks a new event against its catalog schema and once against
// each wire profile among the endpoints it goes to.
func (a *API) checkEvent(ctx context.Context, r ingestRequest, endpoints []models.Endpoint) error {
	if err := a.checkSchema(ctx, r.Type, r.Payload); err != nil {
		return err
	}
	uses := map[string]int{}
	for _, ep := range endpoints {
		uses[ep.Profile]++
	}
	for _, name := range slices.Sorted(maps.Keys(uses)) {
		p, err := profile.Lookup(name)
		if err != nil {
			return err
		}
		if err := p.CheckEvent(r.Type, r.Payload); err != nil {
			n := fmt.Sprintf("%d endpoints", uses[name])
			if uses[name] == 1 {
				n = "1 endpoint"
			}
			return invalid("payload", "%s with profile %s cannot carry this event: %s", n, name, err)
		}
	}
	return nil
}

// requestHash identifies an event request, to tell a retry from another
// event sent with the same Idempotency-Key.
func requestHash(r ingestRequest) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(r.Type), []byte(r.TenantID), r.Payload} {
		h.Write(part)
		h.Write([]byte{0})
	}
	if r.OccurredAtGiven {
		h.Write([]byte(r.OccurredAt.Format(time.RFC3339Nano)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// idempotencyError is the 409 of a key reused for another event; other errors pass.
func idempotencyError(err error) error {
	if errors.Is(err, models.ErrIdempotencyConflict) {
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Field: "Idempotency-Key",
			Message: "Idempotency-Key was already used for a different event of this tenant"}
	}
	return err
}

// listEvents: GET /v1/events?tenant_id=&type=&since=&until=&limit=&cursor=
func (a *API) listEvents(c *gin.Context) error {
	limit, cursor, err := page(c, "evt_")
	if err != nil {
		return err
	}
	f := models.EventFilter{TenantID: c.Query("tenant_id"), Type: c.Query("type"), After: cursor, Limit: limit + 1}
	if f.Since, err = timeQuery(c, "since"); err != nil {
		return err
	}
	if f.Until, err = timeQuery(c, "until"); err != nil {
		return err
	}
	evs, err := a.store.ListEvents(c.Request.Context(), f)
	if err != nil {
		return err
	}
	listPage(c, evs, limit, func(e models.Event) string { return e.ID },
		func(e *models.Event) any { return toEventJSON(e) })
	return nil
}

// getEvent: GET /v1/events/{id}?limit=&cursor=, with one page of its deliveries.
func (a *API) getEvent(c *gin.Context) error {
	limit, cursor, err := page(c, "dlv_")
	if err != nil {
		return err
	}
	id := c.Param("id")
	ev, err := a.store.GetEvent(c.Request.Context(), id)
	if err != nil {
		return storeError(err, "event", id)
	}
	ds, err := a.store.ListDeliveries(c.Request.Context(), models.DeliveryFilter{EventID: id, After: cursor, Limit: limit + 1})
	if err != nil {
		return err
	}
	out := eventPageJSON{eventJSON: toEventJSON(ev)}
	if len(ds) > limit {
		ds = ds[:limit]
		out.DeliveriesNextCursor = &ds[limit-1].ID
	}
	out.Deliveries = make([]deliveryJSON, len(ds))
	for i := range ds {
		out.Deliveries[i] = toDeliveryJSON(&ds[i])
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// marshalPure encodes v as JSON without escaping <, > and &.
func marshalPure(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
