package operations

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

// EventStore is what ingesting and reading events need of the store.
type EventStore interface {
	PriorEvent(ctx context.Context, tenantID, key, hash string) (in models.Ingested, found bool, err error)
	IngestEvent(ctx context.Context, ev models.Event, endpoints []models.Endpoint) (models.Ingested, error)
	IngestEvents(ctx context.Context, batch []models.NewEvent) ([]models.Ingested, error)
	SubscribedEndpoints(ctx context.Context, tenantID, eventType string) ([]models.Endpoint, error)
	GetEvent(ctx context.Context, id string) (*models.Event, error)
	ListEvents(ctx context.Context, f models.EventFilter) ([]models.Event, error)
}

// EventInput is an event to ingest, as a caller sends it.
type EventInput struct {
	Type       string          `json:"type"`
	TenantID   string          `json:"tenant_id"`
	Payload    json.RawMessage `json:"payload"`
	OccurredAt *string         `json:"occurred_at"` // RFC 3339; now when absent
	// IdempotencyKey makes retries safe: one event per key and tenant.
	IdempotencyKey string `json:"-"`
}

// CheckIdempotencyKey refuses a key that is not 1 to 255 printable
// characters without spaces.
func CheckIdempotencyKey(key string) error {
	if len(key) > 255 || !tenantPattern.MatchString(key) {
		return invalid("Idempotency-Key", tokenRule)
	}
	return nil
}

// Ingest accepts an event once per tenant and Idempotency-Key. It validates
// the input, then stores the event and one pending delivery per subscribed
// endpoint in one transaction, then starts their workflows: a nil error
// means every matching endpoint will get the event. A repeated request is
// answered with the stored event (Replayed); the same key with another
// event is a Conflict.
func (o *Ops) Ingest(ctx context.Context, in EventInput) (models.Ingested, error) {
	r, err := validateEvent(in)
	if err != nil {
		return models.Ingested{}, err
	}
	return o.ingest(ctx, r)
}

// validateEvent checks an EventInput field by field, in the order the API
// always has, and compacts its payload.
func validateEvent(in EventInput) (ingestRequest, error) {
	r := ingestRequest{Type: in.Type, TenantID: in.TenantID, IdempotencyKey: in.IdempotencyKey}
	if err := CheckIdempotencyKey(in.IdempotencyKey); err != nil {
		return r, err
	}
	switch {
	case in.Type == "":
		return r, invalid("type", "is required")
	case len(in.Type) > 255 || !eventTypePattern.MatchString(in.Type):
		return r, invalid("type", "must be dot-separated words of letters, digits, '_', '-' or ':', like \"lead.created\"")
	case in.TenantID == "":
		return r, invalid("tenant_id", "is required")
	case !tenantPattern.MatchString(in.TenantID):
		return r, invalid("tenant_id", tokenRule)
	}
	payload := bytes.TrimSpace(in.Payload)
	switch {
	case len(payload) == 0 || bytes.Equal(payload, []byte("null")):
		return r, invalid("payload", "is required")
	case payload[0] != '{':
		return r, invalid("payload", "must be a JSON object")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, payload); err != nil {
		return r, invalid("payload", "is not valid JSON")
	}
	r.Payload = compact.Bytes()
	if in.OccurredAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.OccurredAt)
		if err != nil {
			return r, invalid("occurred_at", "must be an RFC 3339 time like \"2024-05-01T12:00:00Z\"")
		}
		r.OccurredAt, r.OccurredAtGiven = t.UTC(), true
	}
	return r, nil
}

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
// endpoint first.
func (o *Ops) ingest(ctx context.Context, r ingestRequest) (models.Ingested, error) {
	now := o.now().UTC()
	if !r.OccurredAtGiven {
		r.OccurredAt = now
	}
	hash := requestHash(r)
	in, found, err := o.store.PriorEvent(ctx, r.TenantID, r.IdempotencyKey, hash)
	if err != nil {
		return in, idempotencyError(err)
	}
	endpoints := r.Endpoints
	if endpoints == nil {
		if endpoints, err = o.store.SubscribedEndpoints(ctx, r.TenantID, r.Type); err != nil {
			return models.Ingested{}, err
		}
	}
	if !found {
		if in, err = o.storeEvent(ctx, r, hash, now, endpoints); err != nil {
			return in, err
		}
	}
	if err := o.startPending(ctx, &in, endpoints); err != nil {
		return in, err
	}
	if !in.Replayed {
		o.accepted(&in)
	}
	return in, nil
}

// storeEvent checks a new event, then stores it with its deliveries.
func (o *Ops) storeEvent(ctx context.Context, r ingestRequest, hash string, now time.Time, endpoints []models.Endpoint) (models.Ingested, error) {
	if err := o.checkEvent(ctx, r, endpoints); err != nil {
		return models.Ingested{}, err
	}
	in, err := o.store.IngestEvent(ctx, newEvent(r, hash, now), endpoints)
	if err != nil {
		return in, idempotencyError(err)
	}
	return in, nil
}

// newEvent is the event a checked request stores.
func newEvent(r ingestRequest, hash string, now time.Time) models.Event {
	return models.Event{
		ID: models.NewID("evt"), TenantID: r.TenantID, Type: r.Type, Payload: string(r.Payload),
		OccurredAt: r.OccurredAt, IdempotencyKey: r.IdempotencyKey, RequestHash: hash, CreatedAt: now,
	}
}

// startPending starts (or, on a replayed request, makes sure of) the
// deliveries that are still pending. Starting is idempotent by workflow id.
func (o *Ops) startPending(ctx context.Context, in *models.Ingested, endpoints []models.Endpoint) error {
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
	if err := o.startFanOut(ctx, &in.Event, pending, byID); err != nil {
		o.log.Error("event.start_failed", "event_id", in.Event.ID, "error", err)
		return &Error{Kind: Unavailable,
			Message: "the event is stored but its deliveries could not be started yet; retry with the same Idempotency-Key"}
	}
	return nil
}

// accepted counts and logs a newly accepted event.
func (o *Ops) accepted(in *models.Ingested) {
	if o.metrics != nil {
		o.metrics.EventsAccepted.Inc()
		o.metrics.DeliveriesStarted.Add(float64(len(in.Deliveries)))
	}
	o.log.Info("event.accepted", "event_id", in.Event.ID, "event_type", in.Event.Type,
		"tenant_id", in.Event.TenantID, "deliveries", len(in.Deliveries))
}

// checkEvent checks a new event against its catalog schema and once against
// each wire profile among the endpoints it goes to.
func (o *Ops) checkEvent(ctx context.Context, r ingestRequest, endpoints []models.Endpoint) error {
	if err := o.checkSchema(ctx, r.Type, r.Payload); err != nil {
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

// idempotencyError is the Conflict of a key reused for another event; other errors pass.
func idempotencyError(err error) error {
	if errors.Is(err, models.ErrIdempotencyConflict) {
		return &Error{Kind: Conflict, Field: "Idempotency-Key",
			Message: "Idempotency-Key was already used for a different event of this tenant"}
	}
	return err
}
