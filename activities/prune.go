package activities

import (
	"context"
	"time"

	"github.com/hookd/hookd/models"
)

// Retention holds the side effects of the Prune workflow: each call deletes
// one bounded batch of hookd's own data older than the retention, in one
// transaction, so a run can stop anywhere and the next one carries on.
type Retention struct {
	Store *models.Store
	// HeartbeatEvery and Heartbeat are as Health's: a batch heartbeats while
	// it waits on the database, so a lost worker is noticed within the
	// workflow's heartbeat timeout while a slow batch may take its time.
	HeartbeatEvery time.Duration
	Heartbeat      func(ctx context.Context, details ...any)
}

// PruneBatch is one batch of PruneDeliveries or PruneEvents: delete what
// finished (deliveries) or was created (events) before Before, at most
// Limit rows, events after Cursor.
type PruneBatch struct {
	Before time.Time   `json:"before"`
	Limit  int         `json:"limit"`
	Cursor EventCursor `json:"cursor,omitempty"`
}

// EventCursor is where a walk of PruneEvents stopped (models.EventCursor).
type EventCursor struct {
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id,omitempty"`
}

// PrunedEvents is what one batch of PruneEvents did.
type PrunedEvents struct {
	Deleted int         `json:"deleted"`
	Next    EventCursor `json:"next"`
	Done    bool        `json:"done"`
}

// PruneDeliveries deletes up to b.Limit finished deliveries that last
// changed before b.Before, with their attempts, and answers how many. It
// never deletes a pending or held delivery.
func (r *Retention) PruneDeliveries(ctx context.Context, b PruneBatch) (int, error) {
	var n int
	err := heartbeating(ctx, r.HeartbeatEvery, r.Heartbeat, nil, func() (err error) {
		n, err = r.Store.PruneDeliveries(ctx, b.Before, b.Limit)
		return err
	})
	return n, err
}

// PruneEvents looks at up to b.Limit events created before b.Before, after
// b.Cursor, and deletes those without a delivery left.
func (r *Retention) PruneEvents(ctx context.Context, b PruneBatch) (PrunedEvents, error) {
	var p models.PrunedEvents
	err := heartbeating(ctx, r.HeartbeatEvery, r.Heartbeat, nil, func() (err error) {
		p, err = r.Store.PruneEvents(ctx, b.Before, b.Limit, models.EventCursor(b.Cursor))
		return err
	})
	if err != nil {
		return PrunedEvents{}, err
	}
	return PrunedEvents{Deleted: p.Deleted, Next: EventCursor(p.Next), Done: p.Done}, nil
}
