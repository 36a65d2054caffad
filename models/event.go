package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Event is something that happened in the sender's product, accepted once per
// idempotency key.
type Event struct {
	ID             string    `gorm:"primaryKey;size:40"`
	TenantID       string    `gorm:"size:255;not null;index:idx_events_tenant"`
	Type           string    `gorm:"size:255;not null;index"`
	Payload        string    `gorm:"type:text;not null"` // the JSON object as received, key order kept
	OccurredAt     time.Time `gorm:"not null"`
	IdempotencyKey string    `gorm:"size:255;not null;uniqueIndex"`
	RequestHash    string    `gorm:"size:64;not null"` // sha256 of the canonical request, to tell a retry from a conflicting reuse of the key
	CreatedAt      time.Time
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

// IngestEvent stores ev and one pending delivery per endpoint in a single
// transaction, so either the event and all its deliveries are durable or
// nothing is. If ev.IdempotencyKey was used before with the same RequestHash,
// the earlier event and its deliveries are returned with Replayed set; with a
// different hash it fails with ErrIdempotencyConflict.
func (s *Store) IngestEvent(ctx context.Context, ev Event, endpoints []Endpoint) (Ingested, error) {
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
	// The unique index on idempotency_key decides: a key seen before (or
	// written by a concurrent request that won the race) fails the insert.
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
	var prior Event
	if err := s.db.WithContext(ctx).Take(&prior, "idempotency_key = ?", ev.IdempotencyKey).Error; err != nil {
		return Ingested{}, fmt.Errorf("load event by idempotency key: %w", err)
	}
	if prior.RequestHash != ev.RequestHash {
		return Ingested{}, ErrIdempotencyConflict
	}
	var prev []Delivery
	if err := s.db.WithContext(ctx).Where("event_id = ?", prior.ID).Order("id").Find(&prev).Error; err != nil {
		return Ingested{}, fmt.Errorf("load deliveries of event %s: %w", prior.ID, err)
	}
	return Ingested{Event: prior, Deliveries: prev, Replayed: true}, nil
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
