package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Health is an endpoint's health as its workflow keeps it.
type Health struct {
	State               string
	ConsecutiveFailures int
	PausedAt            *time.Time
	PauseReason         string
}

// SaveHealth writes the health workflow's view of an endpoint. A deleted
// endpoint is not an error.
func (s *Store) SaveHealth(ctx context.Context, endpointID string, h Health) error {
	err := s.db.WithContext(ctx).Model(&Endpoint{}).
		Where("id = ? AND state <> ?", endpointID, EndpointDisabled).
		Updates(map[string]any{
			"state":                h.State,
			"consecutive_failures": h.ConsecutiveFailures,
			"paused_at":            h.PausedAt,
			"pause_reason":         h.PauseReason,
			"updated_at":           time.Now().UTC(),
		}).Error
	if err != nil {
		return fmt.Errorf("save health of endpoint %s: %w", endpointID, err)
	}
	return nil
}

// MarkHeld sets a delivery to held if, at that moment, its endpoint is still
// paused. It reports false when the endpoint is no longer paused (the caller
// should attempt instead), which closes the race with an unpause that has
// already listed the held deliveries.
func (s *Store) MarkHeld(ctx context.Context, deliveryID, endpointID string) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND EXISTS (SELECT 1 FROM endpoints WHERE endpoints.id = ? AND endpoints.state = ?)",
			deliveryID, endpointID, EndpointPaused).
		Updates(map[string]any{"status": DeliveryHeld, "next_attempt_at": nil, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return false, fmt.Errorf("hold delivery %s: %w", deliveryID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ListHeld returns up to limit held deliveries of an endpoint, oldest first,
// with ids greater than after.
func (s *Store) ListHeld(ctx context.Context, endpointID, after string, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.db.WithContext(ctx).
		Where("endpoint_id = ? AND status = ? AND id > ?", endpointID, DeliveryHeld, after).
		Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list held deliveries of endpoint %s: %w", endpointID, err)
	}
	return out, nil
}

// CountHeld counts an endpoint's held deliveries.
func (s *Store) CountHeld(ctx context.Context, endpointID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("endpoint_id = ? AND status = ?", endpointID, DeliveryHeld).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count held deliveries of endpoint %s: %w", endpointID, err)
	}
	return n, nil
}

// ReplayFilter selects the deliveries a replay redelivers: an endpoint's
// finished deliveries created in [Since, Until), only the failed ones if
// OnlyFailed. Deliveries still pending or held are left to their workflow.
type ReplayFilter struct {
	EndpointID string
	Since      time.Time
	Until      time.Time
	OnlyFailed bool
}

func (s *Store) replayQuery(ctx context.Context, f ReplayFilter) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&Delivery{}).Where("endpoint_id = ?", f.EndpointID)
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until)
	}
	if f.OnlyFailed {
		return q.Where("status = ?", DeliveryFailed)
	}
	return q.Where("status IN ?", []string{DeliveryFailed, DeliverySucceeded})
}

// CountReplay counts what ListReplay would return over all pages.
func (s *Store) CountReplay(ctx context.Context, f ReplayFilter) (int64, error) {
	var n int64
	if err := s.replayQuery(ctx, f).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count deliveries to replay: %w", err)
	}
	return n, nil
}

// ListReplay returns a page of deliveries to replay, oldest first, ids > after.
func (s *Store) ListReplay(ctx context.Context, f ReplayFilter, after string, limit int) ([]Delivery, error) {
	var out []Delivery
	if err := s.replayQuery(ctx, f).Where("id > ?", after).Order("id").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list deliveries to replay: %w", err)
	}
	return out, nil
}

// ResetForRedelivery sets a finished delivery back to pending before a new
// workflow run redelivers it. It reports false if the delivery is not
// finished (a run is still under way).
func (s *Store) ResetForRedelivery(ctx context.Context, deliveryID string) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND status IN ?", deliveryID, []string{DeliveryFailed, DeliverySucceeded}).
		Updates(map[string]any{"status": DeliveryPending, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return false, fmt.Errorf("reset delivery %s: %w", deliveryID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// CountPausedEndpoints counts endpoints paused now.
func (s *Store) CountPausedEndpoints(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Endpoint{}).Where("state = ?", EndpointPaused).Count(&n).Error
	return n, err
}

// CountAllHeld counts held deliveries across endpoints.
func (s *Store) CountAllHeld(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Delivery{}).Where("status = ?", DeliveryHeld).Count(&n).Error
	return n, err
}
