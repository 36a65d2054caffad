package api

import (
	"context"
	"errors"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// startParallelism bounds concurrent workflow starts for one fan-out.
const startParallelism = 32

// inlineStarts is how many of an event's deliveries are started before
// POST /v1/events answers.
const inlineStarts = 64

// backgroundFanOuts bounds the fan-outs one API process starts in the
// background at once (each with startParallelism starts in flight); more
// wait their turn.
const backgroundFanOuts = 4

// backgroundTimeout bounds the background starts of one fan-out; the
// reconciler starts whatever is left, as it does if the process dies.
const backgroundTimeout = 10 * time.Minute

// startFanOut starts the workflows of an event's deliveries: the first
// inlineStarts before it returns (their failure is the caller's error), the
// rest from a background goroutine, so a large fan-out does not hold the
// request. The deliveries are committed already: any whose start fails or
// never runs (the process dies) is pending with no workflow, which the
// reconciler finds and starts.
func (a *API) startFanOut(ctx context.Context, ev *models.Event, ds []models.Delivery, eps map[string]*models.Endpoint) error {
	now, later := ds[:min(len(ds), inlineStarts)], ds[min(len(ds), inlineStarts):]
	if err := a.startDeliveries(ctx, ev, now, eps, models.TriggerSchedule); err != nil {
		return err
	}
	if len(later) == 0 {
		return nil
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundTimeout)
	go func() {
		defer cancel()
		select {
		case a.background <- struct{}{}:
			defer func() { <-a.background }()
		case <-bg.Done():
			a.log.Warn("event.background_start_failed", "event_id", ev.ID, "deliveries", len(later), "error", bg.Err())
			return
		}
		started := time.Now()
		if err := a.startDeliveries(bg, ev, later, eps, models.TriggerSchedule); err != nil {
			a.log.Warn("event.background_start_failed", "event_id", ev.ID, "deliveries", len(later), "error", err)
			return
		}
		a.log.Info("event.background_started", "event_id", ev.ID, "deliveries", len(later),
			"latency_ms", time.Since(started).Milliseconds())
	}()
	return nil
}

// startDeliveries starts one Delivery workflow per delivery. It is idempotent:
// a delivery whose workflow already runs or ran is left alone.
func (a *API) startDeliveries(ctx context.Context, ev *models.Event, ds []models.Delivery, eps map[string]*models.Endpoint, trigger string) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, startParallelism)
	)
	for i := range ds {
		d := &ds[i]
		ep := eps[d.EndpointID]
		if ep == nil {
			loaded, err := a.store.GetEndpoint(ctx, d.EndpointID)
			if errors.Is(err, models.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			ep = loaded
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := workflows.StartDelivery(ctx, a.temporal, workflows.DeliveryStart{Delivery: d, Endpoint: ep,
				EventType: ev.Type, TenantID: ev.TenantID, Trigger: trigger, Schedule: ep.RetrySchedule,
				Reuse: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
