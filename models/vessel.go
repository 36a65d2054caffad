package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// VesselWebhook marks the endpoint that is a Vessel connection's one webhook,
// as managed by the Vessel compatibility routes (Vessel's documentation: "You can only create
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

// ErrTenantHasEndpoint is returned by CreateSoleEndpoint when the tenant
// already has an endpoint.
var ErrTenantHasEndpoint = errors.New("the tenant already has an endpoint")

// CreateVesselWebhook stores e as the webhook of the connection e.TenantID, in
// one transaction with the endpoint. It fails with ErrVesselWebhookExists when
// the connection already has one, also when another create for the same
// connection commits first. A leftover mark whose endpoint was deleted by other
// means does not count.
func (s *Store) CreateVesselWebhook(ctx context.Context, e *Endpoint) error {
	return s.createMarked(ctx, e, false)
}

// CreateSoleEndpoint stores e as its tenant's one endpoint
// (HOOKD_ONE_ENDPOINT_PER_TENANT). It is CreateVesselWebhook's mechanism:
// the tenant's mark in vessel_webhooks, whose primary key is the tenant, is
// written in one transaction with the endpoint, so of concurrent creates for
// one tenant exactly one commits, on SQLite and PostgreSQL alike. The others,
// and any create for a tenant that already has an endpoint (made before the
// setting was on, or through the Vessel routes), fail with
// ErrTenantHasEndpoint. The endpoint is then also the tenant's Vessel webhook
// for the compatibility routes: under the setting, the two rules are one.
func (s *Store) CreateSoleEndpoint(ctx context.Context, e *Endpoint) error {
	err := s.createMarked(ctx, e, true)
	if errors.Is(err, ErrVesselWebhookExists) {
		return ErrTenantHasEndpoint
	}
	return err
}

// createMarked writes the tenant's mark and e in one transaction; with sole
// set, it refuses a tenant that has any endpoint. The mark is inserted before
// the endpoints are counted: concurrent creates for one tenant serialise on
// the mark's primary key, and the count catches endpoints no mark covers.
func (s *Store) createMarked(ctx context.Context, e *Endpoint, sole bool) error {
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
		if sole {
			var n int64
			if err := tx.Model(&Endpoint{}).Where("tenant_id = ?", e.TenantID).Count(&n).Error; err != nil {
				return fmt.Errorf("count endpoints of tenant %s: %w", e.TenantID, err)
			}
			if n > 0 {
				return ErrTenantHasEndpoint
			}
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
