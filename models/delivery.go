package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryHeld      = "held"      // its endpoint is paused; no attempt is made until unpause
	DeliverySucceeded = "succeeded" // an attempt got a 2xx
	DeliveryFailed    = "failed"    // every scheduled attempt failed
	DeliveryCancelled = "cancelled" // its endpoint was deleted
)

// Delivery is one event to one endpoint; one Temporal workflow.
type Delivery struct {
	ID             string `gorm:"primaryKey;size:40"`
	EndpointID     string `gorm:"size:40;not null;uniqueIndex:idx_deliveries_endpoint_event,priority:1;index:idx_deliveries_endpoint_id,priority:1"`
	EventID        string `gorm:"size:40;not null;uniqueIndex:idx_deliveries_endpoint_event,priority:2;index:idx_deliveries_event"`
	Status         string `gorm:"size:16;not null;index:idx_deliveries_status_id,priority:1"`
	AttemptCount   int    `gorm:"not null;default:0"`
	LastStatusCode int    `gorm:"not null;default:0"`
	LastError      string `gorm:"size:1024;not null;default:''"`
	LastAttemptAt  *time.Time
	NextAttemptAt  *time.Time
	CreatedAt      time.Time `gorm:"index:idx_deliveries_endpoint_id,priority:2"`
	UpdatedAt      time.Time
}

// Terminal reports whether no more scheduled attempts will be made.
func (d *Delivery) Terminal() bool {
	return d.Status == DeliverySucceeded || d.Status == DeliveryFailed || d.Status == DeliveryCancelled
}

// GetDelivery loads one delivery by id; ErrNotFound if there is none.
func (s *Store) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	err := s.db.WithContext(ctx).Take(&d, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load delivery %s: %w", id, err)
	}
	return &d, nil
}

// DeliveryFilter selects deliveries for ListDeliveries. Empty fields match all.
type DeliveryFilter struct {
	EndpointID string
	EventID    string
	Status     string
	Since      time.Time // created at or after
	Until      time.Time // created before
	After      string    // cursor: ids strictly less than this (newest first)
	Limit      int
}

// ListDeliveries returns deliveries newest first. Delivery ids grow with time,
// so paging by id is stable while new deliveries are inserted.
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	q := eq(s.db.WithContext(ctx).Model(&Delivery{}), "endpoint_id", f.EndpointID, "event_id", f.EventID, "status", f.Status)
	var out []Delivery
	if err := newestFirst(q, f.Since, f.Until, f.After, f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// DeliveryWork is what one attempt needs: the delivery, its endpoint and its event.
type DeliveryWork struct {
	Delivery Delivery
	Endpoint Endpoint
	Event    Event
}

// LoadDeliveryWork loads a delivery with its endpoint and event. ErrNotFound if
// any of the three is gone (the endpoint was deleted).
func (s *Store) LoadDeliveryWork(ctx context.Context, deliveryID string) (*DeliveryWork, error) {
	var w DeliveryWork
	db := s.db.WithContext(ctx)
	for _, step := range []struct {
		dest any
		id   func() string
	}{
		{&w.Delivery, func() string { return deliveryID }},
		{&w.Endpoint, func() string { return w.Delivery.EndpointID }},
		{&w.Event, func() string { return w.Delivery.EventID }},
	} {
		err := db.Take(step.dest, "id = ?", step.id()).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("load delivery %s: %w", deliveryID, err)
		}
	}
	return &w, nil
}

// ListUnstarted returns up to limit pending deliveries that have had no
// attempt and were created before olderThan: those whose workflow may never
// have been started (the process died between commit and start). They come
// in id order, starting after the id afterID ("" for the first page), so a
// caller pages through them all with the last id of each page as the next
// cursor.
func (s *Store) ListUnstarted(ctx context.Context, olderThan time.Time, afterID string, limit int) ([]Delivery, error) {
	var out []Delivery
	q := s.db.WithContext(ctx).
		Where("status = ? AND attempt_count = 0 AND created_at < ?", DeliveryPending, olderThan)
	if afterID != "" {
		q = q.Where("id > ?", afterID)
	}
	err := q.Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list unstarted deliveries: %w", err)
	}
	return out, nil
}
