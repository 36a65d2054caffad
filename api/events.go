package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

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

// createEvent: POST /v1/events with an Idempotency-Key (operations.Ingest).
// A 202 means every matching endpoint will get the event.
func (a *API) createEvent(c *gin.Context) error {
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: "Idempotency-Key",
			Message: "Idempotency-Key header is required: a unique key per event makes retries safe"}
	}
	if err := operations.CheckIdempotencyKey(key); err != nil {
		return err
	}
	in := operations.EventInput{IdempotencyKey: key}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ingested, err := a.ops.Ingest(c.Request.Context(), in)
	if err != nil {
		return err
	}
	if ingested.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	listed := ingested.Deliveries[:min(len(ingested.Deliveries), maxListedDeliveries)]
	out := acceptedJSON{eventJSON: toEventJSON(&ingested.Event), DeliveryCount: len(ingested.Deliveries),
		Deliveries: make([]deliveryJSON, len(listed))}
	for i := range listed {
		out.Deliveries[i] = toDeliveryJSON(&listed[i])
	}
	c.JSON(http.StatusAccepted, out)
	return nil
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
	evs, err := a.ops.ListEvents(c.Request.Context(), f)
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
	ev, ds, err := a.ops.GetEvent(c.Request.Context(), c.Param("id"), cursor, limit+1)
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

// batchEventJSON is one event of a batch's answer: the event, its key,
// whether it was stored before (a retried batch), and how many deliveries
// it has (GET /v1/events/{id} lists them).
type batchEventJSON struct {
	eventJSON
	IdempotencyKey string `json:"idempotency_key"`
	Replayed       bool   `json:"replayed"`
	DeliveryCount  int    `json:"delivery_count"`
}

// createEventBatch: POST /v1/events/batch {"events": [...]} with up to
// operations.MaxBatchEvents events, each with its own idempotency_key, all
// or nothing (operations.IngestBatch). A 202 means every matching endpoint
// of every event will get it.
func (a *API) createEventBatch(c *gin.Context) error {
	in, err := decodeBatch(c)
	if err != nil {
		return err
	}
	ingested, err := a.ops.IngestBatch(c.Request.Context(), in)
	if err != nil {
		return err
	}
	out := make([]batchEventJSON, len(ingested))
	replayed := true
	for i := range ingested {
		e := &ingested[i]
		out[i] = batchEventJSON{eventJSON: toEventJSON(&e.Event), IdempotencyKey: e.Event.IdempotencyKey,
			Replayed: e.Replayed, DeliveryCount: len(e.Deliveries)}
		replayed = replayed && e.Replayed
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusAccepted, gin.H{"events": out})
	return nil
}

// decodeBatch reads a batch strictly, event by event, so that an unknown or
// mistyped field of one event is named with its index ("events[3].colour").
func decodeBatch(c *gin.Context) (operations.BatchInput, error) {
	var raw struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := decodeJSON(c, &raw); err != nil {
		return operations.BatchInput{}, err
	}
	in := operations.BatchInput{Events: make([]operations.BatchEventInput, len(raw.Events))}
	for i, item := range raw.Events {
		at := fmt.Sprintf("events[%d]", i)
		dec := json.NewDecoder(bytes.NewReader(item))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in.Events[i]); err != nil {
			e := jsonError(err)
			if e.Field == "" && e.Code == CodeInvalidJSON {
				return in, invalid(at, "must be an event object")
			}
			if e.Field != "" {
				e.Message = at + "." + e.Message
				e.Field = at + "." + e.Field
			}
			return in, e
		}
		if field, ok := nulString(reflect.ValueOf(&in.Events[i]), at); ok {
			return in, invalid(field, "must not contain the NUL character (\\u0000)")
		}
	}
	return in, nil
}
