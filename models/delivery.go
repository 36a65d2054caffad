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
	Status         string `gorm:"size:16;not null;index:idx_deliveries_status_id,priority:1;index:idx_deliveries_reconcile,priority:1"`
	AttemptCount   int    `gorm:"not null;default:0"`
	LastStatusCode int    `gorm:"not null;default:0"`
	LastError      string `gorm:"size:1024;not null;default:''"`
	LastAttemptAt  *time.Time
	NextAttemptAt  *time.Time
	// ReconcileAt is when a pending delivery's workflow is due to act next:
	// its creation (the first attempt), its next scheduled attempt, or the
	// moment it was reset for a redelivery. A pending delivery still not
	// touched well after it is suspected orphaned, and the reconciler makes
	// sure its workflow runs (see ListOverdue). NULL once nothing is due
	// from the workflow on its own: finished, or held until an unpause.
	ReconcileAt *time.Time `gorm:"index:idx_deliveries_reconcile,priority:2"`
	CreatedAt   time.Time  `gorm:"index:idx_deliveries_endpoint_id,priority:2"`
	UpdatedAt   time.Time
}

// BeforeCreate makes a new pending delivery due at its creation, so that
// whatever creates deliveries, the reconciler finds one whose workflow was
// never started.
func (d *Delivery) BeforeCreate(*gorm.DB) error {
	if d.ReconcileAt == nil && d.Status == DeliveryPending {
		at := d.CreatedAt
		if at.IsZero() {
			at = time.Now().UTC()
		}
		d.ReconcileAt = &at
	}
	return nil
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
	// TenantID and EventType select by the delivery's event: its tenant, its type.
	TenantID  string
	EventType string
	Since     time.Time // created at or after
	Until     time.Time // created before
	After     string    // cursor: ids strictly less than this (newest first)
	Limit     int
}

// ListDeliveries returns deliveries newest first. Delivery ids grow with time,
// so paging by id is stable while new deliveries are inserted.
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	q := eq(s.db.WithContext(ctx).Model(&Delivery{}), "endpoint_id", f.EndpointID, "event_id", f.EventID, "status", f.Status)
	if f.TenantID != "" || f.EventType != "" {
		events := eq(s.db.Session(&gorm.Session{NewDB: true}).Model(&Event{}).Select("id"), "tenant_id", f.TenantID, "type", f.EventType)
		q = q.Where("event_id IN (?)", events)
	}
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

// ListOverdue returns up to limit pending deliveries whose workflow was due
// to act before cutoff and has not (ReconcileAt < cutoff), most overdue
// first. That is every accepted delivery whose workflow may not be running,
// whatever its attempt count: never started (the process died between
// commit and start), reset for a redelivery whose start failed, or stopped
// for good. It also lists deliveries whose workflow runs but is late (a
// backlog, a long outage); the caller defers those with DeferReconcile so
// they are not listed again at once.
func (s *Store) ListOverdue(ctx context.Context, cutoff time.Time, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.db.WithContext(ctx).
		Where("status = ? AND reconcile_at < ?", DeliveryPending, cutoff).
		Order("reconcile_at, id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list overdue deliveries: %w", err)
	}
	return out, nil
}

// DeferReconcile moves the reconcile time of the given pending deliveries
// to at: their workflows were found running.
func (s *Store) DeferReconcile(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("id IN ? AND status = ?", ids, DeliveryPending).
		Update("reconcile_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("defer reconciling %d deliveries: %w", len(ids), err)
	}
	return nil
}

// backfillReconcile gives pending deliveries stored before ReconcileAt
// existed their due time, so the reconciler sees them too.
func backfillReconcile(db *gorm.DB) error {
	return db.Model(&Delivery{}).Where("status = ? AND reconcile_at IS NULL", DeliveryPending).
		Update("reconcile_at", gorm.Expr("COALESCE(next_attempt_at, created_at)")).Error
}
