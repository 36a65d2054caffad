package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// Reconciler makes "a 2xx from ingest means delivered" hold when a process
// dies between committing an event and starting its workflows: it finds
// pending deliveries that never had an attempt and starts their workflows.
// Starting is idempotent by workflow id (REJECT_DUPLICATE), so a delivery
// whose workflow exists is left alone; running it on every worker is safe.
type Reconciler struct {
	Store  *models.Store
	Client workflows.Starter
	Logger *slog.Logger
	// Grace is how old an unattempted delivery must be; default 1 minute
	// (longer than an ingest request takes to start its workflows).
	Grace time.Duration
	// Every is the pause between passes; default 30 seconds.
	Every time.Duration
	// PageSize is how many deliveries one query reads; default 500.
	PageSize int
	// MaxPerPass bounds how many deliveries one pass looks at; default
	// 10000. Passes page through the unstarted deliveries with a cursor in
	// id order, and a pass that stops at MaxPerPass leaves the cursor where
	// it is, so the next pass goes on from there; the pass that reaches the
	// newest one starts the next cycle from the oldest again. So however
	// many old deliveries stay listed for good reason (their workflow runs,
	// the start is a no-op, but no attempt is recorded yet: a slow
	// receiver, a worker backlog), a newer orphan is started within
	// ceil(backlog/MaxPerPass)+1 passes.
	MaxPerPass int

	mu     sync.Mutex
	cursor string // the id after which the next pass goes on ("" = from the oldest)
}

// maxStartFailures is how many starts in a row may fail before a pass gives
// up (Temporal is probably unreachable); the next pass retries from the
// first of them.
const maxStartFailures = 3

// Run reconciles until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	every := r.Every
	if every == 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := r.Pass(ctx); err != nil && ctx.Err() == nil {
			r.Logger.Warn("reconcile.failed", "error", err)
		} else if n > 0 {
			r.Logger.Info("reconcile.started", "deliveries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass starts the workflows of unattempted deliveries older than Grace,
// going on from where the previous pass stopped, and reports how many it
// looked at. A start that fails is logged and skipped (the next cycle comes
// back to it), unless maxStartFailures fail in a row: then the pass ends
// with the error, and the next pass retries from the first of them.
func (r *Reconciler) Pass(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	grace := r.Grace
	if grace == 0 {
		grace = time.Minute
	}
	page := r.PageSize
	if page <= 0 {
		page = 500
	}
	maxN := r.MaxPerPass
	if maxN <= 0 {
		maxN = 10000
	}
	cutoff := time.Now().Add(-grace)
	seen, failed := 0, 0
	retryFrom := "" // the cursor before the first of the failures in a row
	for seen < maxN {
		limit := min(page, maxN-seen)
		ds, err := r.Store.ListUnstarted(ctx, cutoff, r.cursor, limit)
		if err != nil {
			return seen, err
		}
		for i := range ds {
			w, err := r.Store.LoadDeliveryWork(ctx, ds[i].ID)
			if err == nil {
				err = workflows.StartDelivery(ctx, r.Client, &w.Delivery, &w.Endpoint, w.Event.Type, w.Event.TenantID,
					models.TriggerSchedule, w.Endpoint.RetrySchedule, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
				if err != nil {
					if failed == 0 {
						retryFrom = r.cursor
					}
					if failed++; failed >= maxStartFailures || ctx.Err() != nil {
						r.cursor = retryFrom
						return seen, err
					}
					r.Logger.Warn("reconcile.start_failed", "delivery_id", ds[i].ID, "error", err)
				} else {
					failed = 0
				}
			} // else: the endpoint was deleted meanwhile; nothing to start
			r.cursor = ds[i].ID
			seen++
		}
		if len(ds) < limit {
			r.cursor = "" // reached the newest: the next pass starts from the oldest
			break
		}
	}
	return seen, nil
}
