package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/temporalsetup"
	"github.com/hookd/hookd/workflows"
)

// RetentionEvery is how often the schedule hookd-retention runs Prune.
const RetentionEvery = time.Hour

// ensureRetention readies retention on a process that runs the worker: the
// schedule hookd-retention, and the namespace's retention of closed
// workflows (which only warns when it cannot be kept in step).
func (a *App) ensureRetention(ctx context.Context) error {
	if err := EnsureRetentionSchedule(ctx, a.Temporal, a.Config.Retention); err != nil {
		return err
	}
	owned := a.Config.Mode == config.ModeDev
	if err := temporalsetup.Retention(ctx, a.Temporal, a.Config.TemporalNamespace, a.Config.Retention, owned, a.log); err != nil {
		a.log.Warn("temporal.retention_not_set", "error", err)
	}
	return nil
}

// retentionSchedule is the schedule hookd-retention as hookd wants it.
func retentionSchedule(retention time.Duration) (client.ScheduleSpec, *client.ScheduleWorkflowAction) {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: RetentionEvery}}}
	action := &client.ScheduleWorkflowAction{
		ID:            workflows.RetentionScheduleID,
		Workflow:      workflows.Prune,
		Args:          []any{workflows.PruneInput{Retention: retention.String()}},
		TaskQueue:     workflows.TaskQueue,
		StaticSummary: "hookd retention: delete finished deliveries, attempts and events older than " + config.FormatRetention(retention),
	}
	return spec, action
}

// EnsureRetentionSchedule creates the schedule hookd-retention, which runs
// Prune every hour (a run still going when the next is due makes it skip),
// or brings its spec, action and overlap policy up to date. Its state is
// left alone: a pause set by an operator in the Temporal UI outlives
// hookd's restarts. Every worker runs it at start; they agree as long as
// they share HOOKD_RETENTION.
func EnsureRetentionSchedule(ctx context.Context, c client.Client, retention time.Duration) error {
	spec, action := retentionSchedule(retention)
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: workflows.RetentionScheduleID, Spec: spec, Action: action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	})
	if err == nil || !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		if err != nil {
			return fmt.Errorf("create schedule %s: %w", workflows.RetentionScheduleID, err)
		}
		return nil
	}
	h := c.ScheduleClient().GetHandle(ctx, workflows.RetentionScheduleID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		if scheduleIsCurrent(s, spec, retention) {
			return nil, temporal.ErrSkipScheduleUpdate
		}
		s.Spec, s.Action = &spec, action
		if s.Policy == nil {
			s.Policy = &client.SchedulePolicies{}
		}
		s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", workflows.RetentionScheduleID, err)
	}
	return nil
}

// scheduleIsCurrent reports whether the schedule s, as described, runs
// Prune with retention on spec and skips overlapping runs.
func scheduleIsCurrent(s client.Schedule, spec client.ScheduleSpec, retention time.Duration) bool {
	act, ok := s.Action.(*client.ScheduleWorkflowAction)
	if !ok || s.Spec == nil || s.Policy == nil || s.Policy.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP {
		return false
	}
	if act.Workflow != "Prune" || act.TaskQueue != workflows.TaskQueue || act.ID != workflows.RetentionScheduleID || len(act.Args) != 1 {
		return false
	}
	_, want := retentionSchedule(retention)
	if act.StaticSummary != want.StaticSummary {
		return false
	}
	arg, ok := act.Args[0].(*commonpb.Payload)
	var in workflows.PruneInput
	if !ok || converter.GetDefaultDataConverter().FromPayload(arg, &in) != nil {
		return false
	}
	if in != (workflows.PruneInput{Retention: retention.String()}) {
		return false
	}
	have := s.Spec.Intervals
	return len(have) == 1 && have[0] == spec.Intervals[0] &&
		len(s.Spec.Calendars) == 0 && len(s.Spec.CronExpressions) == 0
}
