package operations

import (
	"context"
	"time"

	"github.com/hookd/hookd/models"
)

// InlineStarts is how many of an event's deliveries are started before
// Ingest returns.
const InlineStarts = 64

// backgroundFanOuts bounds the fan-outs one process starts in the
// background at once (each with engine.StartParallelism starts in flight);
// more wait their turn.
const backgroundFanOuts = 4

// backgroundTimeout bounds the background starts of one fan-out; the
// reconciler starts whatever is left, as it does if the process dies.
const backgroundTimeout = 10 * time.Minute

// startFanOut starts the workflows of an event's deliveries: the first
// InlineStarts before it returns (their failure is the caller's error), the
// rest from a background goroutine, so a large fan-out does not hold the
// caller. The deliveries are committed already: any whose start fails or
// never runs (the process dies) is pending with no workflow, which the
// reconciler finds and starts.
func (o *Ops) startFanOut(ctx context.Context, ev *models.Event, ds []models.Delivery, eps map[string]*models.Endpoint) error {
	now, later := ds[:min(len(ds), InlineStarts)], ds[min(len(ds), InlineStarts):]
	if err := o.engine.StartDeliveries(ctx, ev, now, eps); err != nil {
		return err
	}
	if len(later) == 0 {
		return nil
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundTimeout)
	go func() {
		defer cancel()
		o.startInBackground(bg, ev, later, eps)
	}()
	return nil
}

// startInBackground starts deliveries once one of the background slots is free.
func (o *Ops) startInBackground(ctx context.Context, ev *models.Event, ds []models.Delivery, eps map[string]*models.Endpoint) {
	select {
	case o.background <- struct{}{}:
		defer func() { <-o.background }()
	case <-ctx.Done():
		o.log.Warn("event.background_start_failed", "event_id", ev.ID, "deliveries", len(ds), "error", ctx.Err())
		return
	}
	started := time.Now()
	if err := o.engine.StartDeliveries(ctx, ev, ds, eps); err != nil {
		o.log.Warn("event.background_start_failed", "event_id", ev.ID, "deliveries", len(ds), "error", err)
		return
	}
	o.log.Info("event.background_started", "event_id", ev.ID, "deliveries", len(ds),
		"latency_ms", time.Since(started).Milliseconds())
}
