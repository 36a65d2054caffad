package operations

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd/models"
)

// operationalSchemas are the JSON Schemas of hookd's operational webhooks,
// one file per event type, named for it.
//
//go:embed operational/*.json
var operationalSchemas embed.FS

// OperationalEventTypes are the catalog entries of hookd's operational
// webhooks (endpoint.paused, endpoint.unpaused, endpoint.disabled,
// delivery.exhausted), each with its JSON Schema.
func OperationalEventTypes() ([]models.EventType, error) {
	files, err := operationalSchemas.ReadDir("operational")
	if err != nil {
		return nil, err
	}
	var out []models.EventType
	for _, f := range files {
		raw, err := operationalSchemas.ReadFile("operational/" + f.Name())
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(f.Name(), ".json")
		var doc struct {
			Description string `json:"description"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("schema of %s: %w", name, err)
		}
		schema, err := validSchema(name, raw)
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", name, err)
		}
		out = append(out, models.EventType{Name: name, Description: doc.Description, Schema: string(schema)})
	}
	return out, nil
}

// AddOperationalEventTypes puts hookd's operational event types into the
// catalog, or sets them back to hookd's definition; safe to repeat (every
// process does it at start-up).
func (o *Ops) AddOperationalEventTypes(ctx context.Context) error {
	ts, err := OperationalEventTypes()
	if err != nil {
		return err
	}
	now := o.now().UTC()
	for i := range ts {
		ts[i].CreatedAt, ts[i].UpdatedAt = now, now
	}
	return o.store.UpsertEventTypes(ctx, ts)
}

// Notify ingests an operational webhook as an event of the operational
// tenant (HOOKD_OPERATIONAL_TENANT), once per idempotency key: its
// endpoints subscribed to the type get it as they get any event. A notice
// hookd cannot accept as it is (the key reused with another payload, say
// after the endpoint's URL changed between two tries) is logged and
// dropped: trying again would not help.
func (o *Ops) Notify(ctx context.Context, eventType, idempotencyKey string, payload json.RawMessage, occurredAt time.Time) error {
	at := occurredAt.UTC().Format(time.RFC3339Nano)
	_, err := o.Ingest(ctx, EventInput{Type: eventType, TenantID: o.operationalTenant,
		Payload: bytes.Clone(payload), OccurredAt: &at, IdempotencyKey: idempotencyKey})
	var oe *Error
	if errors.As(err, &oe) && (oe.Kind == Invalid || oe.Kind == Conflict) {
		o.log.Error("notice.dropped", "event_type", eventType, "idempotency_key", idempotencyKey, "error", err)
		return nil
	}
	return err
}
