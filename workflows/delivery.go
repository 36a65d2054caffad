package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
)

// DeliveryInput starts a Delivery. It holds ids and the schedule, never the
// endpoint's URL or secret, so workflow history shows nothing sensitive.
type DeliveryInput struct {
	DeliveryID string
	EndpointID string
	EventID    string
	// Schedule is the wait before each retry; 1+len(Schedule) attempts in all.
	Schedule []time.Duration
	// AttemptTimeout bounds one attempt (the endpoint's HTTP timeout).
	AttemptTimeout time.Duration
	// Trigger is recorded on the first attempt: schedule for a new event,
	// replay or manual for a redelivery.
	Trigger string
}

// DeliveryResult is how a Delivery ended.
type DeliveryResult struct {
	Status   string
	Attempts int
}

// heldRecheck is how long a held delivery waits for its release signal
// before it looks at its endpoint again on its own.
const heldRecheck = time.Hour

// dbSlack is the time an attempt may spend on the store around its HTTP call.
const dbSlack = 15 * time.Second

// Delivery POSTs one event to one endpoint: at once, then after each wait of
// the schedule, until an attempt gets a 2xx or the schedule is exhausted. A
// Retry-After from the receiver may push a retry later, never earlier. A
// retry-now signal makes one extra attempt at once without consuming the
// schedule.
//
// Each attempt is one local activity, so a delivery that succeeds at once
// costs a single workflow task: no activity task round-trip through the server.
func Delivery(ctx workflow.Context, in DeliveryInput) (DeliveryResult, error) {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: in.AttemptTimeout + dbSlack,
		// Only hookd's own failures (store unavailable) are errors; they are
		// retried for as long as it takes, so nothing accepted is dropped.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
	var d *activities.Deliverer
	retryNow := workflow.GetSignalChannel(ctx, SignalRetryNow)
	// A release (signal or update) sets released; a held attempt waits for it.
	// One sent while the delivery is not held wakes its next hold at once.
	released := false
	release := workflow.GetSignalChannel(ctx, SignalRelease)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for release.Receive(ctx, nil) {
			released = true
		}
	})
	if err := workflow.SetUpdateHandler(ctx, UpdateRelease, func(workflow.Context) error {
		released = true
		return nil
	}); err != nil {
		return DeliveryResult{}, err
	}

	attempts := 0
	attempt := func(trigger string, final bool, next time.Duration) (activities.AttemptResult, error) {
		for {
			var r activities.AttemptResult
			err := workflow.ExecuteLocalActivity(ctx, d.Attempt, activities.AttemptInput{
				DeliveryID: in.DeliveryID, Trigger: trigger, Final: final, NextDelay: next,
			}).Get(ctx, &r)
			if err != nil {
				return r, err
			}
			if r.Report != nil {
				if err := workflow.ExecuteLocalActivity(ctx, d.ReportHealth, *r.Report).Get(ctx, nil); err != nil {
					return r, err
				}
			}
			if !r.Held {
				if !r.Gone {
					attempts++
				}
				return r, nil
			}
			// The endpoint is paused: wait, without using up an attempt, for
			// the release that follows an unpause (or look again in a while).
			if err := workflow.UpsertTypedSearchAttributes(ctx, SADeliveryStatus.ValueSet(models.DeliveryHeld)); err != nil {
				return r, err
			}
			if _, err := workflow.AwaitWithTimeout(ctx, heldRecheck, func() bool { return released }); err != nil {
				return r, err
			}
			released = false
			if err := workflow.UpsertTypedSearchAttributes(ctx, SADeliveryStatus.ValueSet(models.DeliveryPending)); err != nil {
				return r, err
			}
		}
	}
	finish := func(status string) (DeliveryResult, error) {
		if err := workflow.UpsertTypedSearchAttributes(ctx, SADeliveryStatus.ValueSet(status)); err != nil {
			return DeliveryResult{}, err
		}
		return DeliveryResult{Status: status, Attempts: attempts}, nil
	}

	total := 1 + len(in.Schedule)
	trigger := in.Trigger
	var retryAfter time.Duration
	for n := 0; n < total; n++ {
		if n > 0 {
			wait := max(in.Schedule[n-1], retryAfter)
			succeeded, gone, err := waitOrRetryNow(ctx, wait, retryNow, func(remaining time.Duration) (activities.AttemptResult, error) {
				return attempt(models.TriggerManual, false, remaining)
			})
			if err != nil {
				return DeliveryResult{}, err
			}
			if gone {
				return finish(models.DeliveryCancelled)
			}
			if succeeded {
				return finish(models.DeliverySucceeded)
			}
			trigger = models.TriggerSchedule
		}
		var next time.Duration
		if n+1 < total {
			next = in.Schedule[n]
		}
		r, err := attempt(trigger, n+1 == total, next)
		if err != nil {
			return DeliveryResult{}, err
		}
		switch {
		case r.Gone:
			return finish(models.DeliveryCancelled)
		case r.Succeeded:
			return finish(models.DeliverySucceeded)
		}
		retryAfter = r.RetryAfter
	}
	return finish(models.DeliveryFailed)
}

// waitOrRetryNow sleeps for wait; each retry-now signal received meanwhile
// runs one manual attempt. It reports whether a manual attempt succeeded or
// found the delivery gone, which ends the wait early.
func waitOrRetryNow(ctx workflow.Context, wait time.Duration, retryNow workflow.ReceiveChannel,
	manual func(remaining time.Duration) (activities.AttemptResult, error)) (succeeded, gone bool, err error) {
	due := workflow.Now(ctx).Add(wait)
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(timerCtx, wait)
	for {
		fired, signalled := false, false
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(timer, func(workflow.Future) { fired = true })
		sel.AddReceive(retryNow, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			signalled = true
		})
		sel.Select(ctx)
		if fired {
			return false, false, nil
		}
		if signalled {
			r, err := manual(due.Sub(workflow.Now(ctx)))
			if err != nil || r.Gone || r.Succeeded {
				return r.Succeeded, r.Gone, err
			}
		}
	}
}
