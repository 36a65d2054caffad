package models

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Endpoint states.
const (
	EndpointActive   = "active"
	EndpointPaused   = "paused"
	EndpointDisabled = "disabled"
)

// DefaultPauseThreshold is how many consecutive failed attempts pause an endpoint.
const DefaultPauseThreshold = 10

// DefaultTimeout is how long one attempt may take before it counts as failed.
const DefaultTimeout = 30 * time.Second

// ErrNotFound is returned when a record asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// RetiredSecret is a signing secret that stays valid until ExpiresAt after a rotation.
type RetiredSecret struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Endpoint is a URL owned by a tenant, subscribed to some event types.
type Endpoint struct {
	ID             string            `gorm:"primaryKey;size:40"`
	TenantID       string            `gorm:"size:255;not null;index:idx_endpoints_tenant"`
	URL            string            `gorm:"size:2048;not null"`
	Description    string            `gorm:"size:1024;not null;default:''"`
	EventTypes     []string          `gorm:"serializer:json;not null"`
	Profile        string            `gorm:"size:64;not null"`
	Secret         string            `gorm:"size:255;not null"`
	RetiredSecrets []RetiredSecret   `gorm:"serializer:json"`
	Headers        map[string]string `gorm:"serializer:json"`
	// SecretHeaders are the custom headers (canonical names) marked secret;
	// some are secret by default (see SecretByDefault). Their values are
	// sent, never shown.
	SecretHeaders  []string `gorm:"serializer:json"`
	RetrySchedule  Schedule `gorm:"serializer:json;not null"`
	TimeoutMS      int64    `gorm:"not null"`
	PauseThreshold int      `gorm:"not null"`
	State          string   `gorm:"size:16;not null;index"`
	PausedAt       *time.Time
	PauseReason    string `gorm:"size:1024;not null;default:''"`
	// DisabledAt and DisabledReason are set while the endpoint is disabled:
	// its receiver answered 410 Gone (Standard Webhooks). Like a paused
	// endpoint, a disabled one receives nothing and its deliveries are held
	// until it is enabled again (POST /v1/endpoints/{id}/enable).
	DisabledAt     *time.Time
	DisabledReason string `gorm:"size:1024;not null;default:''"`
	// ConsecutiveFailures is the endpoint's current run of failed attempts.
	// RecordAttempt keeps it, in the transaction that stores each attempt: a
	// failure adds one, a success sets it back to 0. The health workflow
	// learns it from the attempts' reports and sets it only to start a new
	// count (unpause).
	ConsecutiveFailures int `gorm:"not null;default:0"`
	// HealthSeq goes up by one each time ConsecutiveFailures changes. Reports
	// to the health workflow carry it, so the workflow applies them in the
	// order the store made them, whatever order they arrive in.
	HealthSeq int64 `gorm:"not null;default:0"`
	// SendTraceparent opts the receiver in to the W3C traceparent header of
	// each attempt's span, sent while hookd traces (OpenTelemetry).
	SendTraceparent bool `gorm:"not null;default:false"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Timeout is the per-attempt timeout.
func (e *Endpoint) Timeout() time.Duration { return time.Duration(e.TimeoutMS) * time.Millisecond }

// Keys returns the current secret and the retired ones still valid at now.
func (e *Endpoint) Keys(now time.Time) (current string, previous []string) {
	for _, r := range e.RetiredSecrets {
		if now.Before(r.ExpiresAt) {
			previous = append(previous, r.Secret)
		}
	}
	return e.Secret, previous
}

// Subscribes reports whether the endpoint wants events of type t. Filters are
// exact names, "prefix.*" (any type under that prefix) or "*" (everything).
func (e *Endpoint) Subscribes(t string) bool {
	for _, f := range e.EventTypes {
		if MatchEventType(f, t) {
			return true
		}
	}
	return false
}

// MatchEventType reports whether filter f matches event type t.
func MatchEventType(f, t string) bool {
	switch {
	case f == "*":
		return true
	case strings.HasSuffix(f, ".*"):
		return strings.HasPrefix(t, f[:len(f)-1])
	case strings.ContainsAny(f, "*?["):
		ok, _ := path.Match(f, t)
		return ok
	}
	return f == t
}

// CreateEndpoint inserts e.
func (s *Store) CreateEndpoint(ctx context.Context, e *Endpoint) error {
	if err := s.db.WithContext(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("create endpoint: %w", err)
	}
	return nil
}

// ErrTooManyEndpoints is returned by CreateEndpointWithin when the tenant
// already has the most endpoints allowed.
var ErrTooManyEndpoints = errors.New("the tenant has the most endpoints allowed")

// CreateEndpointWithin inserts e unless its tenant already has limit
// endpoints (ErrTooManyEndpoints). Creates for one tenant are serialised —
// by a transaction-scoped advisory lock on PostgreSQL, by SQLite's single
// writer — so concurrent ones cannot pass limit together.
func (s *Store) CreateEndpointWithin(ctx context.Context, e *Endpoint, limit int) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.Dialect() == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", lockKey("endpoints of tenant "+e.TenantID)).Error; err != nil {
				return err
			}
		}
		var n int64
		if err := tx.Model(&Endpoint{}).Where("tenant_id = ?", e.TenantID).Count(&n).Error; err != nil {
			return err
		}
		if n >= int64(limit) {
			return ErrTooManyEndpoints
		}
		return tx.Create(e).Error
	})
	if errors.Is(err, ErrTooManyEndpoints) {
		return err
	}
	if err != nil {
		return fmt.Errorf("create endpoint: %w", err)
	}
	return nil
}

// CountEndpoints counts the tenant's endpoints.
func (s *Store) CountEndpoints(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Endpoint{}).Where("tenant_id = ?", tenantID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count endpoints of tenant %s: %w", tenantID, err)
	}
	return n, nil
}

// GetEndpoint loads one endpoint by id; ErrNotFound if there is none.
func (s *Store) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	var e Endpoint
	err := s.db.WithContext(ctx).Take(&e, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load endpoint %s: %w", id, err)
	}
	return &e, nil
}

// SubscribedEndpoints returns the tenant's endpoints whose filters match
// eventType, oldest first. Paused and disabled endpoints are among them:
// their deliveries are held until the endpoint is unpaused or enabled.
func (s *Store) SubscribedEndpoints(ctx context.Context, tenantID, eventType string) ([]Endpoint, error) {
	var all []Endpoint
	err := s.db.WithContext(ctx).
		Where("tenant_id = ?", tenantID).
		Order("id").Find(&all).Error
	if err != nil {
		return nil, fmt.Errorf("load endpoints of tenant %s: %w", tenantID, err)
	}
	out := all[:0]
	for _, e := range all {
		if e.Subscribes(eventType) {
			out = append(out, e)
		}
	}
	return out, nil
}

// EndpointFilter selects endpoints for ListEndpoints. Empty fields match all.
type EndpointFilter struct {
	TenantID string
	State    string
	Profile  string
	After    string // cursor: ids strictly less than this (newest first)
	Limit    int
}

// ListEndpoints returns endpoints newest first, paged by id.
func (s *Store) ListEndpoints(ctx context.Context, f EndpointFilter) ([]Endpoint, error) {
	q := eq(s.db.WithContext(ctx).Model(&Endpoint{}), "tenant_id", f.TenantID, "state", f.State, "profile", f.Profile)
	var out []Endpoint
	if err := newestFirst(q, time.Time{}, time.Time{}, f.After, f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	return out, nil
}

// updatableColumns are the endpoint columns UpdateEndpoint may write: the
// settings a user changes. The secret's rotation, the tenant, the state and
// the health counters have operations of their own.
var updatableColumns = map[string]bool{
	"url": true, "description": true, "event_types": true, "profile": true, "secret": true,
	"headers": true, "secret_headers": true, "retry_schedule": true, "timeout_ms": true, "pause_threshold": true,
	"send_traceparent": true,
}

// UpdateEndpoint writes the named columns of e, and updated_at, and nothing
// else: a change another request made meanwhile to any other column (a
// secret rotation, a pause) is kept. It returns the endpoint as stored after
// the write, and ErrNotFound if it was deleted meanwhile.
func (s *Store) UpdateEndpoint(ctx context.Context, e *Endpoint, columns ...string) (*Endpoint, error) {
	for _, c := range columns {
		if !updatableColumns[c] {
			return nil, fmt.Errorf("update endpoint %s: column %q cannot be updated", e.ID, c)
		}
	}
	e.UpdatedAt = time.Now().UTC()
	var out Endpoint
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Endpoint{}).Select(append(columns, "updated_at")).Where("id = ?", e.ID).Updates(e)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Take(&out, "id = ?", e.ID).Error
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	return &out, nil
}

// DeleteEndpoint removes an endpoint and marks its unfinished deliveries
// cancelled, in one transaction. It returns those deliveries so their
// workflows can be stopped. Attempts and finished deliveries stay as history.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) ([]Delivery, error) {
	var open []Delivery
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Delete(&Endpoint{}, "id = ?", id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := tx.Where("endpoint_id = ? AND status IN ?", id, []string{DeliveryPending, DeliveryHeld}).Find(&open).Error; err != nil {
			return err
		}
		return tx.Model(&Delivery{}).Where("endpoint_id = ? AND status IN ?", id, []string{DeliveryPending, DeliveryHeld}).
			Updates(map[string]any{"status": DeliveryCancelled, "next_attempt_at": nil, "updated_at": time.Now().UTC()}).Error
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	return open, nil
}

// RotateSecret makes next the endpoint's secret; the old one keeps signing
// until now+grace (standard profile), expired retired secrets are dropped.
func (s *Store) RotateSecret(ctx context.Context, id, next string, grace time.Duration, now time.Time) (*Endpoint, error) {
	var e Endpoint
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&e, "id = ?", id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		kept := []RetiredSecret{}
		for _, r := range e.RetiredSecrets {
			if now.Before(r.ExpiresAt) {
				kept = append(kept, r)
			}
		}
		if grace > 0 {
			kept = append(kept, RetiredSecret{Secret: e.Secret, ExpiresAt: now.Add(grace).UTC()})
		}
		e.Secret, e.RetiredSecrets, e.UpdatedAt = next, kept, now.UTC()
		return tx.Model(&e).Select("secret", "retired_secrets", "updated_at").Updates(&e).Error
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("rotate secret of endpoint %s: %w", id, err)
	}
	return &e, nil
}

// DisableEndpoint disables an endpoint for reason at at, unless it is
// disabled already, as an attempt answered 410 Gone does (see
// AttemptOutcome.Disable). It answers the endpoint as stored afterwards:
// DisabledAt is when it was first disabled, so a repeated call answers the
// same. ErrNotFound if it is gone.
func (s *Store) DisableEndpoint(ctx context.Context, id, reason string, at time.Time) (*Endpoint, error) {
	var e Endpoint
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := disable(tx, id, reason, at); err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		return tx.Take(&e, "id = ?", id).Error
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("disable endpoint %s: %w", id, err)
	}
	return &e, nil
}

// EnableEndpoint makes a disabled endpoint active again with no failures on
// record (a new count starts, as on an unpause). It reports whether the
// endpoint was disabled; ErrNotFound if there is none.
func (s *Store) EnableEndpoint(ctx context.Context, id string) (bool, error) {
	var changed bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Endpoint{}).Where("id = ? AND state = ?", id, EndpointDisabled).
			Updates(map[string]any{"state": EndpointActive, "disabled_at": nil, "disabled_reason": "",
				"paused_at": nil, "pause_reason": "", "consecutive_failures": 0,
				"health_seq": gorm.Expr("health_seq + 1"), "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return res.Error
		}
		changed = res.RowsAffected == 1
		if changed {
			return nil
		}
		var n int64
		if err := tx.Model(&Endpoint{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("enable endpoint %s: %w", id, err)
	}
	return changed, nil
}
