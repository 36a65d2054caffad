package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// PrimaryEndpoint marks the endpoint that is its tenant's primary one: at
// most one per tenant. Two rules are built on it: a compatibility API that
// manages "the" webhook of a tenant (Vessel's "one webhook per connection")
// creates, reads and deletes the tenant's primary endpoint, and under
// HOOKD_ONE_ENDPOINT_PER_TENANT a tenant's sole endpoint is its primary one,
// so the two rules are one. The endpoint itself is a regular endpoint; this
// row only records which one is primary.
//
// TenantID is the primary key: that, not a read before the write, is what
// keeps two concurrent creates for one tenant from both succeeding, on
// SQLite and PostgreSQL alike.
type PrimaryEndpoint struct {
	TenantID   string `gorm:"primaryKey;size:255"`
	EndpointID string `gorm:"size:40;not null;uniqueIndex:idx_primary_endpoints_endpoint"`
	CreatedAt  time.Time
}

// ErrPrimaryEndpointExists is returned by CreatePrimaryEndpoint when the
// tenant already has a primary endpoint.
var ErrPrimaryEndpointExists = errors.New("the tenant already has a primary endpoint")

// ErrTenantHasEndpoint is returned by CreateSoleEndpoint when the tenant
// already has an endpoint.
var ErrTenantHasEndpoint = errors.New("the tenant already has an endpoint")

// legacyPrimaryTable is the table's name before it was generic: the Vessel
// compatibility routes introduced it as vessel_webhooks (connection_id).
const legacyPrimaryTable = "vessel_webhooks"

// migratePrimaryEndpoints renames a store's legacy table, column and index
// to the generic ones, keeping its rows; AutoMigrate runs after it.
func migratePrimaryEndpoints(db *gorm.DB) error {
	m := db.Migrator()
	if !m.HasTable(legacyPrimaryTable) || m.HasTable(&PrimaryEndpoint{}) {
		return nil
	}
	if err := m.RenameTable(legacyPrimaryTable, &PrimaryEndpoint{}); err != nil {
		return fmt.Errorf("rename table %s: %w", legacyPrimaryTable, err)
	}
	if err := m.RenameColumn(&PrimaryEndpoint{}, "connection_id", "tenant_id"); err != nil {
		return fmt.Errorf("rename column connection_id: %w", err)
	}
	if m.HasIndex(&PrimaryEndpoint{}, "idx_vessel_webhooks_endpoint") {
		if err := m.RenameIndex(&PrimaryEndpoint{}, "idx_vessel_webhooks_endpoint", "idx_primary_endpoints_endpoint"); err != nil {
			return fmt.Errorf("rename index idx_vessel_webhooks_endpoint: %w", err)
		}
	}
	return nil
}

// CreatePrimaryEndpoint stores e as the primary endpoint of its tenant, in
// one transaction with the endpoint. It fails with ErrPrimaryEndpointExists
// when the tenant already has one, also when another create for the same
// tenant commits first. A leftover mark whose endpoint was deleted by other
// means does not count.
func (s *Store) CreatePrimaryEndpoint(ctx context.Context, e *Endpoint) error {
	return s.createMarked(ctx, e, false)
}

// CreateSoleEndpoint stores e as its tenant's one endpoint
// (HOOKD_ONE_ENDPOINT_PER_TENANT). It is CreatePrimaryEndpoint's mechanism:
// the tenant's mark in primary_endpoints, whose primary key is the tenant, is
// written in one transaction with the endpoint, so of concurrent creates for
// one tenant exactly one commits, on SQLite and PostgreSQL alike. The others,
// and any create for a tenant that already has an endpoint (made before the
// setting was on, or as a primary endpoint), fail with
// ErrTenantHasEndpoint. The endpoint is then also the tenant's primary
// endpoint: under the setting, the two rules are one.
func (s *Store) CreateSoleEndpoint(ctx context.Context, e *Endpoint) error {
	err := s.createMarked(ctx, e, true)
	if errors.Is(err, ErrPrimaryEndpointExists) {
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
		err := tx.Where("tenant_id = ? AND NOT EXISTS (SELECT 1 FROM endpoints WHERE endpoints.id = primary_endpoints.endpoint_id)", e.TenantID).
			Delete(&PrimaryEndpoint{}).Error
		if err != nil {
			return fmt.Errorf("clear stale primary endpoint of tenant %s: %w", e.TenantID, err)
		}
		mark := PrimaryEndpoint{TenantID: e.TenantID, EndpointID: e.ID, CreatedAt: e.CreatedAt}
		if err := tx.Create(&mark).Error; err != nil {
			if isUniqueViolation(err) {
				return ErrPrimaryEndpointExists
			}
			return fmt.Errorf("mark primary endpoint of tenant %s: %w", e.TenantID, err)
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

// PrimaryEndpointFilter names a primary endpoint by its tenant, its
// endpoint id, or both, which must then agree.
type PrimaryEndpointFilter struct {
	TenantID   string
	EndpointID string
}

func (f PrimaryEndpointFilter) apply(q *gorm.DB) *gorm.DB {
	if f.TenantID != "" {
		q = q.Where("tenant_id = ?", f.TenantID)
	}
	if f.EndpointID != "" {
		q = q.Where("endpoint_id = ?", f.EndpointID)
	}
	return q
}

// GetPrimaryEndpoint returns the primary endpoint f names; ErrNotFound if
// there is none or its endpoint is gone.
func (s *Store) GetPrimaryEndpoint(ctx context.Context, f PrimaryEndpointFilter) (*Endpoint, error) {
	if f.TenantID == "" && f.EndpointID == "" {
		return nil, errors.New("get primary endpoint: no tenant or endpoint id")
	}
	var mark PrimaryEndpoint
	err := f.apply(s.db.WithContext(ctx)).Take(&mark).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load primary endpoint: %w", err)
	}
	return s.GetEndpoint(ctx, mark.EndpointID)
}

// DeletePrimaryEndpoint deletes the primary endpoint f names in one
// transaction: the
// mark, the endpoint, and the endpoint's unfinished deliveries become
// cancelled. It returns the endpoint as it was and those deliveries, so their
// workflows can be stopped (one that is missed finds its endpoint gone at its
// next attempt and ends cancelled). Attempts and finished deliveries stay as
// history. ErrNotFound if there is no such endpoint; of two concurrent
// deletes of one, one gets ErrNotFound.
func (s *Store) DeletePrimaryEndpoint(ctx context.Context, f PrimaryEndpointFilter) (*Endpoint, []Delivery, error) {
	if f.TenantID == "" && f.EndpointID == "" {
		return nil, nil, errors.New("delete primary endpoint: no tenant or endpoint id")
	}
	var (
		deleted Endpoint
		open    []Delivery
		gone    bool
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var mark PrimaryEndpoint
		err := f.apply(tx).Take(&mark).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load primary endpoint: %w", err)
		}
		res := tx.Where("tenant_id = ? AND endpoint_id = ?", mark.TenantID, mark.EndpointID).Delete(&PrimaryEndpoint{})
		if res.Error != nil {
			return fmt.Errorf("delete primary endpoint of tenant %s: %w", mark.TenantID, res.Error)
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
