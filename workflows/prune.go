package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
)

// Defaults of a Prune run.
const (
	// DefaultPruneBatch bounds the rows one activity deletes in one
	// transaction.
	DefaultPruneBatch = 500
	// DefaultPruneBatchesPerRun bounds one run's history: after that many
	// batches the run continues as new.
	DefaultPruneBatchesPerRun = 200
)

// PruneInput starts a Prune. The schedule hookd-retention passes Retention
// (and nothing else); Progress is what a run hands the next when it
// continues as new.
type PruneInput struct {
	// Retention is how long finished data is kept, as a Go duration
	// ("720h0m0s"), readable in the Temporal UI.
	Retention string `json:"retention"`
	// BatchSize is the rows per activity; 0 means DefaultPruneBatch.
	BatchSize int `json:"batch_size,omitempty"`
	// BatchesPerRun is the batches before the run continues as new; 0 means
	// DefaultPruneBatchesPerRun.
	BatchesPerRun int            `json:"batches_per_run,omitempty"`
	Progress      *PruneProgress `json:"progress,omitempty"`
}

// PruneProgress is where a Prune is, carried across continue-as-new.
type PruneProgress struct {
	// Before is the cutoff, fixed when the first run started: what finished
	// (deliveries) or was created (events) before it is pruned.
	Before time.Time `json:"before"`
	// WalkingEvents is set once no finished delivery older than Before is
	// left: the walk over the events has begun, at Cursor.
	WalkingEvents bool                   `json:"walking_events,omitempty"`
	Cursor        activities.EventCursor `json:"cursor,omitempty"`
	// Deleted is what the runs so far deleted.
	Deleted PruneResult `json:"deleted"`
}

// PruneResult is what a Prune deleted, over all its runs.
type PruneResult struct {
	Deliveries int `json:"deliveries"`
	Events     int `json:"events"`
}

// Prune deletes hookd's own data older than the retention: first the
// finished deliveries (with their attempts), then the events that have no
// delivery left, each activity one bounded batch in one transaction.
// Pending and held deliveries, and their events, are never deleted. A run
// continues as new after BatchesPerRun batches, so a first prune of a large
// backlog keeps a short history.
func Prune(ctx workflow.Context, in PruneInput) (PruneResult, error) {
	retention, err := time.ParseDuration(in.Retention)
	if err != nil || retention <= 0 {
		return PruneResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("retention %q is not a positive duration", in.Retention), "BadRetention", err)
	}
	limit, perRun := in.BatchSize, in.BatchesPerRun
	if limit <= 0 {
		limit = DefaultPruneBatch
	}
	if perRun <= 0 {
		perRun = DefaultPruneBatchesPerRun
	}
	p := PruneProgress{Before: workflow.Now(ctx).Add(-retention)}
	if in.Progress != nil {
		p = *in.Progress
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		// A database down for long fails the run; the schedule's next
		// one starts over.
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	var act *activities.Retention
	for batches := 0; ; batches++ {
		if batches == perRun {
			in.Progress = &p
			return PruneResult{}, workflow.NewContinueAsNewError(ctx, Prune, in)
		}
		if !p.WalkingEvents {
			var n int
			if err := workflow.ExecuteActivity(actx, act.PruneDeliveries, activities.PruneBatch{Before: p.Before, Limit: limit}).Get(ctx, &n); err != nil {
				return p.Deleted, err
			}
			p.Deleted.Deliveries += n
			// Fewer than asked: none is left (or the rest are locked by
			// another pruner, and the next run takes them).
			p.WalkingEvents = n < limit
			continue
		}
		var e activities.PrunedEvents
		if err := workflow.ExecuteActivity(actx, act.PruneEvents, activities.PruneBatch{Before: p.Before, Limit: limit, Cursor: p.Cursor}).Get(ctx, &e); err != nil {
			return p.Deleted, err
		}
		p.Cursor = e.Next
		p.Deleted.Events += e.Deleted
		if e.Done {
			workflow.GetLogger(ctx).Info("retention.pruned", "before", p.Before,
				"deliveries", p.Deleted.Deliveries, "events", p.Deleted.Events)
			return p.Deleted, nil
		}
	}
}
