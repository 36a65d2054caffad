package worker

import (
	"context"
	"log/slog"
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
}

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

// Pass starts the workflows of unattempted deliveries older than Grace and
// reports how many it looked at.
func (r *Reconciler) Pass(ctx context.Context) (int, error) {
	grace := r.Grace
	if grace == 0 {
		grace = time.Minute
	}
	ds, err := r.Store.ListUnstarted(ctx, time.Now().Add(-grace), 500)
	if err != nil {
		return 0, err
	}
	for i := range ds {
		w, err := r.Store.LoadDeliveryWork(ctx, ds[i].ID)
		if err != nil {
			continue // endpoint deleted meanwhile: nothing to start
		}
		err = workflows.StartDelivery(ctx, r.Client, &w.Delivery, &w.Endpoint, w.Event.Type, w.Event.TenantID,
			models.TriggerSchedule, w.Endpoint.RetrySchedule, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
		if err != nil {
			return i, err
		}
	}
	return len(ds), nil
}
