package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
)

// ReconcileEngine is what the reconciler needs of the engine
// (engine.Temporal): to look at a delivery's workflow and to start it again.
type ReconcileEngine interface {
	DeliveryRunning(ctx context.Context, d *models.Delivery) (bool, error)
	StartAgain(ctx context.Context, deliveryID string, r engine.Redelivery) (bool, error)
}

// Reconciler makes "a 2xx from ingest means delivered" hold whatever
// happens to a delivery's workflow: it finds every pending delivery whose
// workflow is overdue (models.Store.ListOverdue) — never started because a
// process died between commit and start, a redelivery whose start failed,
// a run that ended or was terminated without finishing the delivery — and
// starts a new run of each one whose workflow is not running. A workflow
// found running (a backlog, a long outage of hookd's store) is left alone
// and looked at again only after Recheck, so a backlog costs one describe
// per delivery per Recheck, not a start and a select per pass. Running it
// on every worker is safe: a start is refused while a run is open.
type Reconciler struct {
	Store  *models.Store
	Engine ReconcileEngine
	Logger *slog.Logger
	// Grace is how late a delivery's workflow must be before the
	// reconciler looks at it; default 1 minute (longer than an ingest
	// request takes to start its workflows).
	Grace time.Duration
	// Recheck is how long a delivery whose workflow was found running is
	// left before it is looked at again; default 10 minutes.
	Recheck time.Duration
	// Every is the pause between passes; default 30 seconds.
	Every time.Duration
	// PageSize is how many deliveries one query reads; default 500.
	PageSize int
	// MaxPerPass bounds how many deliveries one pass looks at; default 10000.
	MaxPerPass int

	mu sync.Mutex
}

// maxStartFailures is how many looks or starts in a row may fail before a
// pass gives up (Temporal is probably unreachable); the next pass retries.
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

// Pass looks at the pending deliveries whose workflow is more than Grace
// overdue, most overdue first, and starts a new run for each whose
// workflow is not running. It answers how many it started.
func (r *Reconciler) Pass(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	grace := orDefault(r.Grace, time.Minute)
	recheck := orDefault(r.Recheck, 10*time.Minute)
	page := r.PageSize
	if page <= 0 {
		page = 500
	}
	maxN := r.MaxPerPass
	if maxN <= 0 {
		maxN = 10000
	}
	// One cut-off for the whole pass: what the pass started or deferred is
	// due after it, so each page lists deliveries not yet looked at.
	cutoff := time.Now().Add(-grace)
	seen, started, failed := 0, 0, 0
	for seen < maxN {
		limit := min(page, maxN-seen)
		ds, err := r.Store.ListOverdue(ctx, cutoff, limit)
		if err != nil {
			return started, err
		}
		var running []string
		for i := range ds {
			seen++
			ok, err := r.reconcile(ctx, &ds[i])
			switch {
			case err != nil:
				r.Logger.Warn("reconcile.start_failed", "delivery_id", ds[i].ID, "error", err)
				if failed++; failed >= maxStartFailures || ctx.Err() != nil {
					return started, errors.Join(err, r.Store.DeferReconcile(ctx, running, time.Now().Add(recheck)))
				}
				// Not listed again until the next cycle of passes.
				running = append(running, ds[i].ID)
			case ok:
				started++
				failed = 0
			default:
				running = append(running, ds[i].ID)
				failed = 0
			}
		}
		// Those running, or that could not be looked at, are not listed
		// again before recheck; those started are due again after grace.
		if err := r.Store.DeferReconcile(ctx, running, time.Now().Add(recheck)); err != nil {
			return started, err
		}
		if len(ds) < limit {
			break
		}
	}
	return started, nil
}

// reconcile starts a new run of d's workflow if none is running and d is
// still pending; it reports whether it started one.
func (r *Reconciler) reconcile(ctx context.Context, d *models.Delivery) (bool, error) {
	running, err := r.Engine.DeliveryRunning(ctx, d)
	if err != nil || running {
		return false, err
	}
	// No run is open: due again after grace, should this start fail.
	if err := r.Store.DeferReconcile(ctx, []string{d.ID}, time.Now()); err != nil {
		return false, err
	}
	// A run that finished the delivery wrote its status before it closed,
	// so StartAgain reads it again now that the run is known closed; a
	// delivery whose endpoint was deleted meanwhile is not started.
	started, err := r.Engine.StartAgain(ctx, d.ID, engine.Redelivery{Trigger: models.TriggerSchedule, OnlyPending: true})
	if err != nil || !started {
		return false, err
	}
	r.Logger.Info("reconcile.restarted", "delivery_id", d.ID, "attempts_before", d.AttemptCount)
	return true, nil
}

// orDefault answers v, or def when v is zero.
func orDefault(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}
