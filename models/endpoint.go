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
	RetrySchedule  Schedule          `gorm:"serializer:json;not null"`
	TimeoutMS      int64             `gorm:"not null"`
	PauseThreshold int               `gorm:"not null"`
	State          string            `gorm:"size:16;not null;index"`
	PausedAt       *time.Time
	PauseReason    string `gorm:"size:1024;not null;default:''"`
	// ConsecutiveFailures mirrors the endpoint health workflow's count; only
	// that workflow writes it (SaveHealth).
	ConsecutiveFailures int `gorm:"not null;default:0"`
	CreatedAt           time.Time
	UpdatedAt           time.Time
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

// SubscribedEndpoints returns the tenant's endpoints that are not disabled and
// whose filters match eventType, oldest first.
func (s *Store) SubscribedEndpoints(ctx context.Context, tenantID, eventType string) ([]Endpoint, error) {
	var all []Endpoint
	err := s.db.WithContext(ctx).
		Where("tenant_id = ? AND state <> ?", tenantID, EndpointDisabled).
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
