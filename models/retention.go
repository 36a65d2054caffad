package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// finishedDelivery is the SQL condition of a delivery that is done: no
// workflow will attempt it again unless someone redelivers it. It is a
// literal, not parameters, so that the planners of both databases match
// it to the partial index idx_deliveries_finished_updated.
var finishedDelivery = "status IN ('" + strings.Join([]string{DeliverySucceeded, DeliveryFailed, DeliveryCancelled}, "', '") + "')"

// finishedUpdatedIndex orders finished deliveries by when they finished:
// the rows PruneDeliveries looks for, without reading pending and held ones.
const finishedUpdatedIndex = "idx_deliveries_finished_updated"

// migrateRetention creates the index PruneDeliveries walks. (GORM's index
// tag cannot spell a condition with commas in it.)
func migrateRetention(db *gorm.DB) error {
	return db.Exec("CREATE INDEX IF NOT EXISTS " + finishedUpdatedIndex + " ON deliveries (updated_at) WHERE " + finishedDelivery).Error
}

// PruneDeliveries deletes up to batch finished deliveries (succeeded,
// failed or cancelled) last changed before before, with their attempts, in
// one transaction, oldest first, and says how many it deleted. Pending and
// held deliveries are never deleted, nor one that is reset for redelivery
// while the batch is chosen: on PostgreSQL the chosen rows are locked (rows
// another transaction holds are skipped, so several pruners do not wait on
// each other), and on SQLite the transaction holds the write lock.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		return 0, fmt.Errorf("prune deliveries: batch %d is not positive", batch)
	}
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&Delivery{}).Where(finishedDelivery+" AND updated_at < ?", before.UTC()).Order("updated_at").Limit(batch)
		if s.Dialect() == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var ids []string
		if err := q.Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if err := tx.Where("delivery_id IN ?", ids).Delete(&Attempt{}).Error; err != nil {
			return err
		}
		res := tx.Where("id IN ? AND "+finishedDelivery, ids).Delete(&Delivery{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("prune deliveries finished before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return int(n), nil
}

// EventCursor is where PruneEvents stopped: the last event it looked at, in
// (created_at, id) order. The zero cursor starts from the oldest event.
type EventCursor struct {
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
}

// PrunedEvents is what one call of PruneEvents did.
type PrunedEvents struct {
	Deleted int
	// Next is the cursor of the next call; Done says no event older than
	// before is left after it.
	Next EventCursor
	Done bool
}

// PruneEvents looks at up to batch events created before before, after
// cursor in (created_at, id) order, and deletes those that have no delivery
// left. An event that still has a delivery is kept (it is looked at again
// by the next walk that starts from the zero cursor).
func (s *Store) PruneEvents(ctx context.Context, before time.Time, batch int, after EventCursor) (PrunedEvents, error) {
	if batch <= 0 {
		return PrunedEvents{}, fmt.Errorf("prune events: batch %d is not positive", batch)
	}
	var out PrunedEvents
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&Event{}).Select("id", "created_at").Where("created_at < ?", before.UTC())
		if after.ID != "" {
			q = q.Where("(created_at, id) > (?, ?)", after.CreatedAt.UTC(), after.ID)
		}
		var page []Event
		if err := q.Order("created_at, id").Limit(batch).Find(&page).Error; err != nil {
			return err
		}
		out.Next, out.Done = after, len(page) < batch
		if len(page) == 0 {
			return nil
		}
		last := page[len(page)-1]
		out.Next = EventCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		ids := make([]string, len(page))
		for i, e := range page {
			ids[i] = e.ID
		}
		res := tx.Where("id IN ? AND NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id)", ids).Delete(&Event{})
		out.Deleted = int(res.RowsAffected)
		return res.Error
	})
	if err != nil {
		return PrunedEvents{}, fmt.Errorf("prune events created before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return out, nil
}
