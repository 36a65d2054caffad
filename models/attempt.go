package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Attempt triggers.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerReplay   = "replay"
)

// MaxResponseExcerpt bounds the bytes of a response body kept per attempt.
const MaxResponseExcerpt = 4 << 10

// Attempt is one HTTP POST of a delivery.
type Attempt struct {
	ID             string            `gorm:"primaryKey;size:40"`
	DeliveryID     string            `gorm:"size:40;not null;index:idx_attempts_delivery,priority:1"`
	Number         int               `gorm:"not null;index:idx_attempts_delivery,priority:2"`
	Trigger        string            `gorm:"size:16;not null"`
	URL            string            `gorm:"size:2048;not null"`
	RequestHeaders map[string]string `gorm:"serializer:json"`
	StatusCode     int               `gorm:"not null;default:0"`
	Succeeded      bool              `gorm:"not null"`
	LatencyMS      float64           `gorm:"not null"`
	// ResponseBody is the start of the answer's body, byte for byte: a
	// receiver may answer anything, NUL bytes and invalid UTF-8 included,
	// which a text column cannot hold on PostgreSQL.
	ResponseBody []byte
	// ResponseExcerpt is where attempts recorded before ResponseBody existed
	// kept the body, as text; new attempts leave it empty (see Body).
	ResponseExcerpt string    `gorm:"type:text;not null;default:''"`
	Error           string    `gorm:"size:1024;not null;default:''"`
	StartedAt       time.Time `gorm:"not null"`
	CreatedAt       time.Time
}

// Body is the stored start of the answer's body, whichever column holds it.
func (a *Attempt) Body() []byte {
	if a.ResponseBody != nil {
		return a.ResponseBody
	}
	return []byte(a.ResponseExcerpt)
}

// AttemptOutcome is how recording an attempt changes its delivery.
type AttemptOutcome struct {
	Status        string     // the delivery's new status
	NextAttemptAt *time.Time // when the next scheduled attempt is due, if any
	// Disable, when set, is why the attempt disables the endpoint (its
	// receiver answered 410 Gone): done in the attempt's transaction, so
	// the attempt is never recorded without it.
	Disable string
}

// Recorded is what recording an attempt did.
type Recorded struct {
	FailureCount
	// DisabledAt is when the endpoint was disabled, when the outcome's
	// Disable asked for it (the first time, if it was disabled already).
	DisabledAt *time.Time
	// Applied is false when the delivery was no longer pending or held
	// (cancelled, or finished by another run) when the attempt was
	// recorded: the attempt is logged, the delivery left as it was.
	Applied bool
	// Status is the delivery's status once the attempt was recorded: the
	// outcome's when Applied, what it already was otherwise ("" if the
	// delivery is gone).
	Status string
}

// FailureCount is an endpoint's run of consecutive failed attempts as the
// store has it right after an attempt was recorded.
type FailureCount struct {
	// Changed is true when the attempt changed the count: a failure always
	// does; a success only when it ended a run of failures. Only then must
	// the endpoint's health workflow be told.
	Changed bool
	// Failures is the count after the attempt.
	Failures int
	// Seq is the endpoint's HealthSeq after the attempt.
	Seq int64
}

// RecordAttempt stores a and, if its delivery is still pending or held,
// updates the delivery's status and counters and keeps the count of
// consecutive failed attempts of the delivery's endpoint, endpointID (a
// failure adds one, a success resets it), all in one transaction, so the
// stored count is always up to date with the stored attempts. A success on
// an endpoint with no failure on record writes nothing to the endpoint. An
// attempt that ends after its delivery was cancelled or finished is logged
// and changes nothing else (Recorded.Applied is false).
func (s *Store) RecordAttempt(ctx context.Context, endpointID string, a *Attempt, o AttemptOutcome) (Recorded, error) {
	var rec Recorded
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The endpoint row first: the same lock order as DeleteEndpoint,
		// the one writer that closes a delivery under way.
		endpointChanged, err := countAttempt(tx, endpointID, a)
		if err != nil {
			return err
		}
		if err := tx.Create(a).Error; err != nil {
			return err
		}
		rec, err = applyAttempt(tx, a, o)
		if err != nil || !rec.Applied {
			return err
		}
		if o.Disable != "" {
			if rec.DisabledAt, err = disable(tx, endpointID, o.Disable, a.StartedAt); err != nil {
				return err
			}
		}
		if !endpointChanged {
			return nil
		}
		var ep Endpoint
		if err := tx.Select("consecutive_failures", "health_seq").Where("id = ?", endpointID).Take(&ep).Error; err != nil {
			return err
		}
		rec.FailureCount = FailureCount{Changed: true, Failures: ep.ConsecutiveFailures, Seq: ep.HealthSeq}
		return nil
	})
	if err != nil {
		return Recorded{}, fmt.Errorf("record attempt %d of delivery %s: %w", a.Number, a.DeliveryID, err)
	}
	return rec, nil
}

// disable disables the endpoint for reason at at, unless it is disabled
// already, and answers when it was disabled: in microseconds, as
// PostgreSQL keeps it, so every store answers the same time.
func disable(tx *gorm.DB, endpointID, reason string, at time.Time) (*time.Time, error) {
	err := tx.Model(&Endpoint{}).Where("id = ? AND state <> ?", endpointID, EndpointDisabled).
		Updates(map[string]any{"state": EndpointDisabled, "disabled_at": at.UTC().Truncate(time.Microsecond), "disabled_reason": reason,
			"updated_at": time.Now().UTC()}).Error
	if err != nil {
		return nil, err
	}
	var ep Endpoint
	if err := tx.Select("disabled_at").Where("id = ?", endpointID).Take(&ep).Error; err != nil {
		return nil, err
	}
	return ep.DisabledAt, nil
}

// openDelivery are the statuses an attempt may still change.
var openDelivery = []string{DeliveryPending, DeliveryHeld}

// countAttempt moves the endpoint's count of consecutive failures for a, only
// while a's delivery is still open; it reports whether the count changed.
func countAttempt(tx *gorm.DB, endpointID string, a *Attempt) (bool, error) {
	q := tx.Model(&Endpoint{}).Where("id = ? AND EXISTS (SELECT 1 FROM deliveries WHERE deliveries.id = ? AND deliveries.status IN ?)",
		endpointID, a.DeliveryID, openDelivery)
	var res *gorm.DB
	if a.Succeeded {
		res = q.Where("consecutive_failures > 0").Updates(map[string]any{
			"consecutive_failures": 0, "health_seq": gorm.Expr("health_seq + 1")})
	} else {
		res = q.Updates(map[string]any{
			"consecutive_failures": gorm.Expr("consecutive_failures + 1"), "health_seq": gorm.Expr("health_seq + 1")})
	}
	return res.RowsAffected == 1, res.Error
}

// applyAttempt moves a's delivery to o if it is still open. If it was
// cancelled or finished meanwhile, the attempt stays logged and the
// delivery keeps the status it has (Applied false).
func applyAttempt(tx *gorm.DB, a *Attempt, o AttemptOutcome) (Recorded, error) {
	started := a.StartedAt
	var reconcileAt *time.Time
	if o.Status == DeliveryPending {
		reconcileAt = o.NextAttemptAt
	}
	res := tx.Model(&Delivery{}).Where("id = ? AND status IN ?", a.DeliveryID, openDelivery).Updates(map[string]any{
		"status":           o.Status,
		"attempt_count":    gorm.Expr("attempt_count + 1"),
		"last_status_code": a.StatusCode,
		"last_error":       a.Error,
		"last_attempt_at":  &started,
		"next_attempt_at":  o.NextAttemptAt,
		"reconcile_at":     reconcileAt,
		"updated_at":       time.Now(),
	})
	if res.Error != nil {
		return Recorded{}, res.Error
	}
	if res.RowsAffected == 1 {
		return Recorded{Applied: true, Status: o.Status}, nil
	}
	var ds []Delivery
	if err := tx.Select("status").Where("id = ?", a.DeliveryID).Limit(1).Find(&ds).Error; err != nil {
		return Recorded{}, err
	}
	if len(ds) == 1 {
		return Recorded{Status: ds[0].Status}, nil
	}
	return Recorded{}, nil
}

// ListAttempts returns a delivery's attempts in the order they were made.
func (s *Store) ListAttempts(ctx context.Context, deliveryID string) ([]Attempt, error) {
	var out []Attempt
	err := s.db.WithContext(ctx).Where("delivery_id = ?", deliveryID).Order("started_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list attempts of delivery %s: %w", deliveryID, err)
	}
	return out, nil
}
