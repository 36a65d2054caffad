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

// RecordAttempt stores a and updates its delivery's status and counters in
// one transaction.
func (s *Store) RecordAttempt(ctx context.Context, a *Attempt, o AttemptOutcome) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
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
		return fmt.Errorf("record attempt %d of delivery %s: %w", a.Number, a.DeliveryID, err)
	}
	return nil
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
