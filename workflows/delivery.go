package workflows

import (
	"errors"
	"fmt"
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
	// Progress is where the previous run left off when it continued as
	// new; nil on a delivery's first run.
	Progress *DeliveryProgress `json:",omitempty"`
	// WaitsPerRun bounds one run's history (see patience); 0 means
	// DefaultWaitsPerRun.
	WaitsPerRun int `json:",omitempty"`
}

// DeliveryProgress is what a Delivery run hands to the next when it
// continues as new.
type DeliveryProgress struct {
	// Next is the index of the next scheduled attempt (0: the first).
	Next int
	// Attempts is how many attempts the delivery's runs have made.
	Attempts int
	// Due is when the next scheduled attempt is due; zero or past: at once.
	Due time.Time
	// Trigger is recorded on the next scheduled attempt.
	Trigger string
	// Released is set when a release has come that no hold has used yet.
	Released bool
	// RetryNow is set when a retry-now signal has come that no manual
	// attempt has answered yet.
	RetryNow bool
	// Report is a health report that has not reached the endpoint's
	// workflow yet.
	Report *activities.AttemptReport
}

// DeliveryResult is how a Delivery ended.
type DeliveryResult struct {
	Status   string
	Attempts int
}

// ErrTypeExhausted is the type of the failure a Delivery whose schedule is
// used up ends with. Such a delivery ends as a failed workflow, not a
// completed one, so Temporal's Failures view, ExecutionStatus = 'Failed'
// queries and alerts on failed workflows all see it. The failure is not
// retryable (the schedule is the retry policy); its details hold the
// DeliveryResult (see Outcome).
const ErrTypeExhausted = "DeliveryExhausted"

// changeExhaustedFails marks, in a run's history, that the run ends an
// exhausted delivery as a failed workflow. Runs started by older code
// completed instead, and still do when they are replayed.
const changeExhaustedFails = "exhausted-fails"

// Outcome reads how a Delivery run ended from err, what waiting for its
// result into res answered: nil when the workflow completed, or when its
// schedule was exhausted (ErrTypeExhausted), in which case res is set from
// the failure's details; err otherwise.
func Outcome(err error, res *DeliveryResult) error {
	var app *temporal.ApplicationError
	if err == nil || !errors.As(err, &app) || app.Type() != ErrTypeExhausted {
		return err
	}
	if derr := app.Details(res); derr != nil {
		return err
	}
	return nil
}

// heldRecheck is how long a held delivery waits for its release before it
// looks at its endpoint again on its own.
const heldRecheck = time.Hour

// dbSlack is the time an attempt may spend on the store around its HTTP call.
const dbSlack = 15 * time.Second

// Delivery POSTs one event to one endpoint: at once, then after each wait of
// the schedule, until an attempt gets a 2xx or the schedule is exhausted. A
// Retry-After from the receiver may push a retry later, never earlier. A
// retry-now signal makes one extra attempt at once without consuming the
// schedule. While the endpoint is paused the delivery is held, using up no
// attempt, until a release.
//
// Each attempt is one local activity, so a delivery that succeeds at once
// costs a single workflow task: no activity task round-trip through the
// server. hookd's own failures are waited out, however long they last,
// without using up an attempt (see patience); a run that has waited long
// enough continues as new with its progress.
func Delivery(ctx workflow.Context, in DeliveryInput) (DeliveryResult, error) {
	d := newDelivery(ctx, in)
	if err := d.listen(); err != nil {
		return DeliveryResult{}, err
	}
	status, err := d.run()
	if errors.Is(err, errRunFull) {
		return DeliveryResult{}, d.continueAsNew()
	}
	if err != nil {
		return DeliveryResult{}, err
	}
	return d.finish(status)
}

// delivery is one run of the Delivery workflow.
type delivery struct {
	ctx      workflow.Context
	lctx     workflow.Context // with the local activity options
	in       DeliveryInput
	p        DeliveryProgress
	patience *patience
	retryNow workflow.ReceiveChannel
	release  workflow.ReceiveChannel
	act      *activities.Deliverer    // nil: activities are called through it by method
	last     activities.AttemptResult // this run's last attempt that was made
}

// newDelivery sets a run up from its input, and from the progress of the
// previous run if it continued as new.
func newDelivery(ctx workflow.Context, in DeliveryInput) *delivery {
	d := &delivery{ctx: ctx, in: in, patience: newPatience(in.WaitsPerRun),
		lctx:     workflow.WithLocalActivityOptions(ctx, localOptions(in.AttemptTimeout+dbSlack)),
		retryNow: workflow.GetSignalChannel(ctx, SignalRetryNow),
		release:  workflow.GetSignalChannel(ctx, SignalRelease),
	}
	if in.Progress != nil {
		d.p = *in.Progress
	} else {
		d.p.Trigger = in.Trigger
	}
	return d
}

// listen takes releases: a release (signal or update) sets Released; a
// held attempt waits for it. One sent while the delivery is not held wakes
// its next hold at once.
func (d *delivery) listen() error {
	workflow.Go(d.ctx, func(ctx workflow.Context) {
		for d.release.Receive(ctx, nil) {
			d.p.Released = true
		}
	})
	return workflow.SetUpdateHandler(d.ctx, UpdateRelease, func(workflow.Context) error {
		d.p.Released = true
		return nil
	})
}

// finish shows the delivery's final status in its search attributes, and
// ends the run: completed, or failed when the delivery failed (see
// ErrTypeExhausted).
func (d *delivery) finish(status string) (DeliveryResult, error) {
	if err := workflow.UpsertTypedSearchAttributes(d.ctx, SADeliveryStatus.ValueSet(status)); err != nil {
		return DeliveryResult{}, err
	}
	res := DeliveryResult{Status: status, Attempts: d.p.Attempts}
	if status != models.DeliveryFailed ||
		workflow.GetVersion(d.ctx, changeExhaustedFails, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return res, nil
	}
	msg := fmt.Sprintf("%d attempts", res.Attempts)
	if d.last.Error != "" {
		msg += ", last: " + d.last.Error
	}
	return DeliveryResult{}, temporal.NewNonRetryableApplicationError(msg, ErrTypeExhausted, nil, res)
}

// run makes the delivery's attempts and answers its final status.
func (d *delivery) run() (string, error) {
	if err := d.flushReport(); err != nil {
		return "", err
	}
	for d.p.Next < 1+len(d.in.Schedule) {
		if status, err := d.next(); status != "" || err != nil {
			return status, err
		}
	}
	return models.DeliveryFailed, nil
}

// next waits until the next scheduled attempt is due, making the manual
// attempts asked for meanwhile, and makes it. It answers the delivery's
// final status if an attempt ended it, "" if the delivery goes on.
func (d *delivery) next() (string, error) {
	if wait := d.p.Due.Sub(workflow.Now(d.ctx)); wait > 0 || d.p.RetryNow {
		if status, err := d.waitOrRetryNow(max(wait, 0)); status != "" || err != nil {
			return status, err
		}
	}
	var next time.Duration
	final := d.p.Next == len(d.in.Schedule)
	if !final {
		next = d.in.Schedule[d.p.Next]
	}
	r, err := d.attempt(d.p.Trigger, final, next)
	if err != nil {
		return "", err
	}
	d.p.Next++
	d.p.Trigger = models.TriggerSchedule
	if !final {
		d.p.Due = workflow.Now(d.ctx).Add(max(next, r.RetryAfter))
	}
	return d.record(r)
}

// record answers the status an attempt's result ends the delivery with
// ("" if the delivery goes on), once the endpoint's health workflow has
// been told of the attempt when it must be.
func (d *delivery) record(r activities.AttemptResult) (string, error) {
	status := closes(r)
	return status, d.flushReport()
}

// closes answers the status an attempt's result ends the delivery with, or
// "" if the delivery goes on.
func closes(r activities.AttemptResult) string {
	switch {
	case r.Gone:
		return models.DeliveryCancelled
	case r.Closed != "":
		return r.Closed
	case r.DisabledAt != nil:
		return models.DeliveryFailed
	case r.Succeeded:
		return models.DeliverySucceeded
	}
	return ""
}

// attempt makes one attempt: while the endpoint is paused it is held,
// using up no attempt, until a release. The attempt's health report, if
// any, is left in the progress for flushReport.
func (d *delivery) attempt(trigger string, final bool, next time.Duration) (activities.AttemptResult, error) {
	for {
		var r activities.AttemptResult
		err := d.patience.run(d.lctx, "attempt", &r, d.act.Attempt, activities.AttemptInput{
			DeliveryID: d.in.DeliveryID, Trigger: trigger, Final: final, NextDelay: next,
		})
		if err != nil {
			return r, err
		}
		if !r.Held {
			if !r.Gone {
				d.p.Attempts++
				d.last = r
			}
			d.p.Report = r.Report
			return r, nil
		}
		if err := d.holdWhilePaused(); err != nil {
			return r, err
		}
	}
}

// holdWhilePaused shows the delivery as held and waits for a release, or
// heldRecheck at most, before the next try.
func (d *delivery) holdWhilePaused() error {
	if err := workflow.UpsertTypedSearchAttributes(d.ctx, SADeliveryStatus.ValueSet(models.DeliveryHeld)); err != nil {
		return err
	}
	if err := d.patience.wait(); err != nil {
		return err
	}
	if _, err := workflow.AwaitWithTimeout(d.ctx, heldRecheck, func() bool { return d.p.Released }); err != nil {
		return err
	}
	d.p.Released = false
	return workflow.UpsertTypedSearchAttributes(d.ctx, SADeliveryStatus.ValueSet(models.DeliveryPending))
}

// flushReport tells the endpoint's health workflow of the last attempt,
// when it must be told.
func (d *delivery) flushReport() error {
	if d.p.Report == nil {
		return nil
	}
	if err := d.patience.run(d.lctx, "report health", nil, d.act.ReportHealth, *d.p.Report); err != nil {
		return err
	}
	d.p.Report = nil
	return nil
}

// waitOrRetryNow sleeps for wait; each retry-now signal received meanwhile
// runs one manual attempt. It answers the delivery's final status if a
// manual attempt ended it, "" when the wait is over.
func (d *delivery) waitOrRetryNow(wait time.Duration) (string, error) {
	due := workflow.Now(d.ctx).Add(wait)
	timerCtx, cancel := workflow.WithCancel(d.ctx)
	defer cancel()
	timer := workflow.NewTimer(timerCtx, wait)
	for {
		if d.p.RetryNow {
			if status, err := d.manualAttempt(due); status != "" || err != nil {
				return status, err
			}
		}
		if d.timerOrRetryNow(timer) {
			return "", nil
		}
	}
}

// manualAttempt makes the attempt a retry-now signal asked for; due is
// when the next scheduled attempt is.
func (d *delivery) manualAttempt(due time.Time) (string, error) {
	r, err := d.attempt(models.TriggerManual, false, due.Sub(workflow.Now(d.ctx)))
	if err != nil {
		return "", err
	}
	d.p.RetryNow = false
	return d.record(r)
}

// timerOrRetryNow waits for the timer or a retry-now signal, and reports
// whether the timer fired.
func (d *delivery) timerOrRetryNow(timer workflow.Future) bool {
	fired := false
	sel := workflow.NewSelector(d.ctx)
	sel.AddFuture(timer, func(workflow.Future) { fired = true })
	sel.AddReceive(d.retryNow, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(d.ctx, nil)
		d.p.RetryNow = true
	})
	sel.Select(d.ctx)
	return fired
}

// continueAsNew hands the progress to a new run, signals not yet read included.
func (d *delivery) continueAsNew() error {
	for d.release.ReceiveAsync(nil) {
		d.p.Released = true
	}
	for d.retryNow.ReceiveAsync(nil) {
		d.p.RetryNow = true
	}
	if err := workflow.Await(d.ctx, func() bool { return workflow.AllHandlersFinished(d.ctx) }); err != nil {
		return err
	}
	next := d.in
	p := d.p
	next.Progress = &p
	return workflow.NewContinueAsNewError(d.ctx, Delivery, next)
}
