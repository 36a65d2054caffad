package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// VesselWebhook marks the endpoint that is a Vessel connection's one webhook,
// as managed by the Vessel compatibility routes (seed 000: "You can only create
// one webhook per connection"). The endpoint itself is a regular endpoint of
// tenant ConnectionID; this row only records which one plays Vessel's webhook.
//
// ConnectionID is the primary key: that, not a read before the write, is what
// keeps two concurrent creates for one connection from both succeeding, on
// SQLite and PostgreSQL alike.
type VesselWebhook struct {
	ConnectionID string `gorm:"primaryKey;size:255"`
	EndpointID   string `gorm:"size:40;not null;uniqueIndex:idx_vessel_webhooks_endpoint"`
	CreatedAt    time.Time
}

// ErrVesselWebhookExists is returned by CreateVesselWebhook when the
// connection already has a webhook.
var ErrVesselWebhookExists = errors.New("the connection already has a webhook")

// CreateVesselWebhook stores e as the webhook of the connection e.TenantID, in
// one transaction with the endpoint. It fails with ErrVesselWebhookExists when
// the connection already has one, also when another create for the same
// connection commits first. A leftover mark whose endpoint was deleted by other
// means does not count.
func (s *Store) CreateVesselWebhook(ctx context.Context, e *Endpoint) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("connection_id = ? AND NOT EXISTS (SELECT 1 FROM endpoints WHERE endpoints.id = vessel_webhooks.endpoint_id)", e.TenantID).
			Delete(&VesselWebhook{}).Error
		if err != nil {
			return fmt.Errorf("clear stale vessel webhook of connection %s: %w", e.TenantID, err)
		}
		mark := VesselWebhook{ConnectionID: e.TenantID, EndpointID: e.ID, CreatedAt: e.CreatedAt}
		if err := tx.Create(&mark).Error; err != nil {
			if isUniqueViolation(err) {
				return ErrVesselWebhookExists
			}
			return fmt.Errorf("mark vessel webhook of connection %s: %w", e.TenantID, err)
		}
		if err := tx.Create(e).Error; err != nil {
			return fmt.Errorf("create endpoint: %w", err)
		}
		return nil
	})
}

// VesselWebhookFilter names a webhook by its connection, its id (the
// endpoint id), or both, which must then agree.
type VesselWebhookFilter struct {
	ConnectionID string
	EndpointID   string
}

func (f VesselWebhookFilter) apply(q *gorm.DB) *gorm.DB {
	if f.ConnectionID != "" {
		q = q.Where("connection_id = ?", f.ConnectionID)
	}
	if f.EndpointID != "" {
		q = q.Where("endpoint_id = ?", f.EndpointID)
	}
	return q
}

// GetVesselWebhook returns the endpoint that is the webhook f names;
// ErrNotFound if there is none or its endpoint is gone.
func (s *Store) GetVesselWebhook(ctx context.Context, f VesselWebhookFilter) (*Endpoint, error) {
	if f.ConnectionID == "" && f.EndpointID == "" {
		return nil, errors.New("get vessel webhook: no connection or webhook id")
	}
	var mark VesselWebhook
	err := f.apply(s.db.WithContext(ctx)).Take(&mark).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load vessel webhook: %w", err)
	}
	return s.GetEndpoint(ctx, mark.EndpointID)
}

// DeleteVesselWebhook deletes the webhook f names in one transaction: the
// mark, the endpoint, and the endpoint's unfinished deliveries become
// cancelled. It returns the endpoint as it was and those deliveries, so their
// workflows can be stopped (one that is missed finds its endpoint gone at its
// next attempt and ends cancelled). Attempts and finished deliveries stay as
// history. ErrNotFound if there is no such webhook; of two concurrent deletes
// of one webhook, one gets ErrNotFound.
func (s *Store) DeleteVesselWebhook(ctx context.Context, f VesselWebhookFilter) (*Endpoint, []Delivery, error) {
	if f.ConnectionID == "" && f.EndpointID == "" {
		return nil, nil, errors.New("delete vessel webhook: no connection or webhook id")
	}
	var (
		deleted Endpoint
		open    []Delivery
		gone    bool
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var mark VesselWebhook
		err := f.apply(tx).Take(&mark).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load vessel webhook: %w", err)
		}
		res := tx.Where("connection_id = ? AND endpoint_id = ?", mark.ConnectionID, mark.EndpointID).Delete(&VesselWebhook{})
		if res.Error != nil {
			return fmt.Errorf("delete vessel webhook of connection %s: %w", mark.ConnectionID, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound // deleted concurrently
		}
		err = tx.Take(&deleted, "id = ?", mark.EndpointID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			gone = true // deleted by other means: only the stale mark was left
			return nil
		}
		if err != nil {
			return fmt.Errorf("load endpoint %s: %w", mark.EndpointID, err)
		}
		if err := tx.Delete(&Endpoint{}, "id = ?", mark.EndpointID).Error; err != nil {
			return fmt.Errorf("delete endpoint %s: %w", mark.EndpointID, err)
		}
		unfinished := []string{DeliveryPending, DeliveryHeld}
		if err := tx.Where("endpoint_id = ? AND status IN ?", mark.EndpointID, unfinished).Find(&open).Error; err != nil {
			return fmt.Errorf("list unfinished deliveries of endpoint %s: %w", mark.EndpointID, err)
		}
		err = tx.Model(&Delivery{}).Where("endpoint_id = ? AND status IN ?", mark.EndpointID, unfinished).
			Updates(map[string]any{"status": DeliveryCancelled, "next_attempt_at": nil, "updated_at": time.Now().UTC()}).Error
		if err != nil {
			return fmt.Errorf("cancel deliveries of endpoint %s: %w", mark.EndpointID, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if gone {
		return nil, nil, ErrNotFound
	}
	return &deleted, open, nil
}
