package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// hookd's own failures — its database unreachable, Temporal unreachable
// from an activity — are not the receiver's: they must never use up one of
// the endpoint's attempts, and no workflow of hookd may fail for them,
// however long they last. So every local activity of hookd's workflows is
// run through a patience: a few quick retries inside the worker, then
// waits on durable timers growing to outageMaxWait, for as long as it
// takes. Each wait adds a few events to the run's history; after its
// budget of waits a run continues as new with its state, so an outage of
// days (or an endpoint paused for months) never grows one history without
// bound.

const (
	// outageFirstWait and outageMaxWait bound the waits between tries once
	// the quick retries are spent: a minute at most, so work resumes within
	// a minute of the outage's end.
	outageFirstWait = 5 * time.Second
	outageMaxWait   = time.Minute
	// DefaultWaitsPerRun is how many waits (outage waits, held re-checks)
	// one run makes before it continues as new.
	DefaultWaitsPerRun = 100
)

// errRunFull ends a run that has made its budget of waits: the workflow
// continues as new with its state.
var errRunFull = errors.New("run made its budget of waits: continue as new")

// localOptions are the options of hookd's local activities: each try may
// take startToClose; three tries in the worker, then the patience waits.
// (Without a ScheduleToCloseTimeout the SDK would bound all retries by
// startToClose, and fail the workflow after it.)
func localOptions(startToClose time.Duration) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    startToClose,
		ScheduleToCloseTimeout: 3*startToClose + 10*time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    4 * time.Second,
			MaximumAttempts:    3,
		},
	}
}

// patience runs local activities until they succeed, and counts the waits
// of its run.
type patience struct {
	waits int // made by this run
	max   int // the run's budget
}

func newPatience(perRun int) *patience {
	if perRun <= 0 {
		perRun = DefaultWaitsPerRun
	}
	return &patience{max: perRun}
}

// full reports whether the run has used its budget of waits.
func (p *patience) full() bool { return p.waits >= p.max }

// wait counts one wait of the run, or answers errRunFull when the budget
// is spent.
func (p *patience) wait() error {
	if p.full() {
		return errRunFull
	}
	p.waits++
	return nil
}

// run executes the local activity fn(args...) into result until it succeeds.
// It returns only nil, a cancellation, or errRunFull (the caller continues
// as new and tries again in the next run).
func (p *patience) run(ctx workflow.Context, step string, result, fn any, args ...any) error {
	pause := outageFirstWait
	for {
		err := workflow.ExecuteLocalActivity(ctx, fn, args...).Get(ctx, result)
		if err == nil || temporal.IsCanceledError(err) {
			return err
		}
		if err := p.wait(); err != nil {
			return err
		}
		workflow.GetLogger(ctx).Warn("hookd.unavailable: retrying", "step", step, "error", err, "retry_in", pause)
		if err := workflow.Sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, outageMaxWait)
	}
}
