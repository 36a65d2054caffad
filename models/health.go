package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Health is an endpoint's health as its workflow keeps it.
type Health struct {
	State       string
	PausedAt    *time.Time
	PauseReason string
	// SetFailures makes SaveHealth set the stored count of consecutive
	// failures to ConsecutiveFailures and start a new count (HealthSeq + 1),
	// as an unpause does. Without it the stored count, which RecordAttempt
	// keeps, is left alone.
	SetFailures         bool
	ConsecutiveFailures int
}

// SaveHealth writes the health workflow's view of an endpoint. With
// h.SetFailures it answers the endpoint's new HealthSeq (reports of attempts
// recorded before it are stale); otherwise 0. A deleted endpoint is not an
// error.
func (s *Store) SaveHealth(ctx context.Context, endpointID string, h Health) (int64, error) {
	var seq int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		set := map[string]any{
			"state":        h.State,
			"paused_at":    h.PausedAt,
			"pause_reason": h.PauseReason,
			"updated_at":   time.Now().UTC(),
		}
		if h.SetFailures {
			set["consecutive_failures"] = h.ConsecutiveFailures
			set["health_seq"] = gorm.Expr("health_seq + 1")
		}
		res := tx.Model(&Endpoint{}).Where("id = ? AND state <> ?", endpointID, EndpointDisabled).Updates(set)
		if res.Error != nil || !h.SetFailures || res.RowsAffected == 0 {
			return res.Error
		}
		return tx.Model(&Endpoint{}).Select("health_seq").Where("id = ?", endpointID).Scan(&seq).Error
	})
	if err != nil {
		return 0, fmt.Errorf("save health of endpoint %s: %w", endpointID, err)
	}
	return seq, nil
}

// PauseThreshold reads an endpoint's pause threshold; 0 if it is gone.
func (s *Store) PauseThreshold(ctx context.Context, endpointID string) (int, error) {
	var eps []Endpoint
	err := s.db.WithContext(ctx).Select("pause_threshold").Where("id = ?", endpointID).Limit(1).Find(&eps).Error
	if err != nil {
		return 0, fmt.Errorf("read pause threshold of endpoint %s: %w", endpointID, err)
	}
	if len(eps) == 0 {
		return 0, nil
	}
	return eps[0].PauseThreshold, nil
}

// MarkHeld sets a pending (or held) delivery to held if, at that moment, its
// endpoint is still paused or disabled. It reports false when the endpoint is
// active again (the caller
// should attempt instead), which closes the race with an unpause that has
// already listed the held deliveries.
func (s *Store) MarkHeld(ctx context.Context, deliveryID, endpointID string) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND status IN ? AND EXISTS (SELECT 1 FROM endpoints WHERE endpoints.id = ? AND endpoints.state IN ?)",
			deliveryID, []string{DeliveryPending, DeliveryHeld}, endpointID, []string{EndpointPaused, EndpointDisabled}).
		Updates(map[string]any{"status": DeliveryHeld, "next_attempt_at": nil, "reconcile_at": nil, "updated_at": time.Now().UTC()})
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

// CountHeldByEndpoint counts the held deliveries of each of the endpoints
// in one query; an endpoint without any is left out.
func (s *Store) CountHeldByEndpoint(ctx context.Context, endpointIDs []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(endpointIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		EndpointID string
		N          int64
	}
	err := s.db.WithContext(ctx).Model(&Delivery{}).Select("endpoint_id, COUNT(*) AS n").
		Where("endpoint_id IN ? AND status = ?", endpointIDs, DeliveryHeld).Group("endpoint_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count held deliveries of %d endpoints: %w", len(endpointIDs), err)
	}
	for _, r := range rows {
		out[r.EndpointID] = r.N
	}
	return out, nil
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
	// Due at once: if the new run is never started, the reconciler starts it.
	now := time.Now().UTC()
	res := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND status IN ?", deliveryID, []string{DeliveryFailed, DeliverySucceeded}).
		Updates(map[string]any{"status": DeliveryPending, "reconcile_at": now, "updated_at": now})
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
