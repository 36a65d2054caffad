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
	ID              string            `gorm:"primaryKey;size:40"`
	DeliveryID      string            `gorm:"size:40;not null;index:idx_attempts_delivery,priority:1"`
	Number          int               `gorm:"not null;index:idx_attempts_delivery,priority:2"`
	Trigger         string            `gorm:"size:16;not null"`
	URL             string            `gorm:"size:2048;not null"`
	RequestHeaders  map[string]string `gorm:"serializer:json"`
	StatusCode      int               `gorm:"not null;default:0"`
	Succeeded       bool              `gorm:"not null"`
	LatencyMS       float64           `gorm:"not null"`
	ResponseExcerpt string            `gorm:"type:text;not null;default:''"`
	Error           string            `gorm:"size:1024;not null;default:''"`
	StartedAt       time.Time         `gorm:"not null"`
	CreatedAt       time.Time
}

// AttemptOutcome is how recording an attempt changes its delivery.
type AttemptOutcome struct {
	Status        string     // the delivery's new status
	NextAttemptAt *time.Time // when the next scheduled attempt is due, if any
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

// RecordAttempt stores a, updates its delivery's status and counters, and
// keeps the count of consecutive failed attempts of the delivery's endpoint,
// endpointID (a failure adds one, a success resets it), all in one
// transaction, so the stored count is always up to date with the stored
// attempts. A success on an endpoint with no failure on record writes
// nothing to the endpoint.
func (s *Store) RecordAttempt(ctx context.Context, endpointID string, a *Attempt, o AttemptOutcome) (FailureCount, error) {
	var fc FailureCount
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fc = FailureCount{}
		// The endpoint row first: the same lock order as DeleteEndpoint.
		q := tx.Model(&Endpoint{}).Where("id = ?", endpointID)
		var res *gorm.DB
		if a.Succeeded {
			res = q.Where("consecutive_failures > 0").Updates(map[string]any{
				"consecutive_failures": 0, "health_seq": gorm.Expr("health_seq + 1")})
		} else {
			res = q.Updates(map[string]any{
				"consecutive_failures": gorm.Expr("consecutive_failures + 1"), "health_seq": gorm.Expr("health_seq + 1")})
		}
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			var ep Endpoint
			if err := tx.Select("consecutive_failures", "health_seq").Where("id = ?", endpointID).Take(&ep).Error; err != nil {
				return err
			}
			fc = FailureCount{Changed: true, Failures: ep.ConsecutiveFailures, Seq: ep.HealthSeq}
		}
		if err := tx.Create(a).Error; err != nil {
			return err
		}
		started := a.StartedAt
		return tx.Model(&Delivery{}).Where("id = ?", a.DeliveryID).Updates(map[string]any{
			"status":           o.Status,
			"attempt_count":    gorm.Expr("attempt_count + 1"),
			"last_status_code": a.StatusCode,
			"last_error":       a.Error,
			"last_attempt_at":  &started,
			"next_attempt_at":  o.NextAttemptAt,
			"updated_at":       time.Now(),
		}).Error
	})
	if err != nil {
		return FailureCount{}, fmt.Errorf("record attempt %d of delivery %s: %w", a.Number, a.DeliveryID, err)
	}
	return fc, nil
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
