package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Event is something that happened in the sender's product, accepted once per
// idempotency key of its tenant.
type Event struct {
	ID             string    `gorm:"primaryKey;size:40;index:idx_events_created_id,priority:2"`
	TenantID       string    `gorm:"size:255;not null;index:idx_events_tenant;uniqueIndex:idx_events_tenant_idempotency_key,priority:1"`
	Type           string    `gorm:"size:255;not null;index"`
	Payload        string    `gorm:"type:text;not null"` // the JSON object as received, key order kept
	OccurredAt     time.Time `gorm:"not null"`
	IdempotencyKey string    `gorm:"size:255;not null;uniqueIndex:idx_events_tenant_idempotency_key,priority:2"`
	RequestHash    string    `gorm:"size:64;not null"` // sha256 of the canonical request, to tell a retry from a conflicting reuse of the key
	// CreatedAt, with ID, orders the walk of retention's PruneEvents.
	CreatedAt time.Time `gorm:"index:idx_events_created_id,priority:1"`
}

// ErrIdempotencyConflict is returned when an idempotency key was already used
// for a different request.
var ErrIdempotencyConflict = errors.New("idempotency key already used with a different request")

// Ingested is the outcome of IngestEvent.
type Ingested struct {
	Event      Event
	Deliveries []Delivery
	// Replayed is true when the key had been seen before and nothing new was written.
	Replayed bool
}

// legacyIdempotencyIndex is the unique index on idempotency_key alone that
// hookd created before keys were scoped per tenant. AutoMigrate creates the
// new index but drops no old one, so Migrate drops this one.
const legacyIdempotencyIndex = "idx_events_idempotency_key"

// IngestEvent stores ev and one pending delivery per endpoint in a single
// transaction, so either the event and all its deliveries are durable or
// nothing is. If ev's tenant used ev.IdempotencyKey before with the same
// RequestHash, the earlier event and its deliveries are returned with
// Replayed set; with a different hash it fails with ErrIdempotencyConflict.
func (s *Store) IngestEvent(ctx context.Context, ev Event, endpoints []Endpoint) (Ingested, error) {
	deliveries := newDeliveries(ev, endpoints)
	// The unique index on (tenant_id, idempotency_key) decides: a key seen
	// before (or written by a concurrent request that won the race) fails
	// the insert.
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		if len(deliveries) > 0 {
			return tx.CreateInBatches(deliveries, 200).Error
		}
		return nil
	})
	if err == nil {
		return Ingested{Event: ev, Deliveries: deliveries}, nil
	}
	if !isUniqueViolation(err) {
		return Ingested{}, fmt.Errorf("ingest event: %w", err)
	}
	// The key exists, written by an earlier request or a concurrent one that won the race.
	prior, found, err := s.PriorEvent(ctx, ev.TenantID, ev.IdempotencyKey, ev.RequestHash)
	if err != nil {
		return Ingested{}, err
	}
	if !found {
		return Ingested{}, fmt.Errorf("ingest event: idempotency key of tenant %s conflicts but is not found", ev.TenantID)
	}
	return prior, nil
}

// NewEvent is one event of a batch to store, with the endpoints it goes to.
type NewEvent struct {
	Event     Event
	Endpoints []Endpoint
}

// ErrKeyTaken is IngestEvents' answer when an event's idempotency key was
// stored meanwhile (by a concurrent request): nothing of the batch is
// stored; look the keys up again.
var ErrKeyTaken = errors.New("an idempotency key of the batch was stored meanwhile")

// IngestEvents stores a batch of new events, each with one pending delivery
// per endpoint, in one transaction: all of them or, on any error, none.
func (s *Store) IngestEvents(ctx context.Context, batch []NewEvent) ([]Ingested, error) {
	out := make([]Ingested, len(batch))
	events := make([]Event, len(batch))
	var deliveries []Delivery
	for i, b := range batch {
		events[i] = b.Event
		ds := newDeliveries(b.Event, b.Endpoints)
		out[i] = Ingested{Event: b.Event, Deliveries: ds}
		deliveries = append(deliveries, ds...)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.CreateInBatches(&events, 100).Error; err != nil {
			return err
		}
		if len(deliveries) > 0 {
			return tx.CreateInBatches(deliveries, 200).Error
		}
		return nil
	})
	switch {
	case err == nil:
		return out, nil
	case isUniqueViolation(err):
		return nil, ErrKeyTaken
	default:
		return nil, fmt.Errorf("ingest %d events: %w", len(batch), err)
	}
}

// newDeliveries are the pending deliveries of ev, one per endpoint.
func newDeliveries(ev Event, endpoints []Endpoint) []Delivery {
	deliveries := make([]Delivery, len(endpoints))
	for i, ep := range endpoints {
		deliveries[i] = Delivery{
			ID:         NewID("dlv"),
			EndpointID: ep.ID,
			EventID:    ev.ID,
			Status:     DeliveryPending,
			CreatedAt:  ev.CreatedAt,
			UpdatedAt:  ev.CreatedAt,
		}
	}
	return deliveries
}

// PriorEvent finds the event the tenant already stored under key. found is
// false if there is none. If there is one and its RequestHash is hash, it is
// returned with its deliveries and Replayed set; with another hash the error
// is ErrIdempotencyConflict.
func (s *Store) PriorEvent(ctx context.Context, tenantID, key, hash string) (in Ingested, found bool, err error) {
	var prior Event
	err = s.db.WithContext(ctx).Take(&prior, "tenant_id = ? AND idempotency_key = ?", tenantID, key).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Ingested{}, false, nil
	}
	if err != nil {
		return Ingested{}, false, fmt.Errorf("load event by idempotency key: %w", err)
	}
	if prior.RequestHash != hash {
		return Ingested{}, true, ErrIdempotencyConflict
	}
	var prev []Delivery
	if err := s.db.WithContext(ctx).Where("event_id = ?", prior.ID).Order("id").Find(&prev).Error; err != nil {
		return Ingested{}, true, fmt.Errorf("load deliveries of event %s: %w", prior.ID, err)
	}
	return Ingested{Event: prior, Deliveries: prev, Replayed: true}, true, nil
}

// GetEvent loads one event by id; ErrNotFound if there is none.
func (s *Store) GetEvent(ctx context.Context, id string) (*Event, error) {
	var e Event
	err := s.db.WithContext(ctx).Take(&e, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load event %s: %w", id, err)
	}
	return &e, nil
}

// EventFilter selects events for ListEvents. Empty fields match all.
type EventFilter struct {
	TenantID string
	Type     string
	Since    time.Time
	Until    time.Time
	After    string
	Limit    int
}

// ListEvents returns events newest first, paged by id.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	q := eq(s.db.WithContext(ctx).Model(&Event{}), "tenant_id", f.TenantID, "type", f.Type)
	var out []Event
	if err := newestFirst(q, f.Since, f.Until, f.After, f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}
