package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// TestRetentionPrunesOldFinishedDataAndKeepsPendingAndHeld starts hookd with
// HOOKD_RETENTION=1h, back-dates finished, pending and held deliveries by
// two hours, and has the schedule hookd-retention run once: the finished
// ones go with their attempts and events, the rest stay. The schedule and
// the namespace's retention are what hookd says, and a pause an operator
// set on the schedule outlives a restart that changes its retention.
func TestRetentionPrunesOldFinishedDataAndKeepsPendingAndHeld(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h, err := startDev(dir, "HOOKD_RETENTION=1h")
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			h.Stop(context.Background())
		}
	})
	ctx := context.Background()
	c := &client{t: t, base: h.APIURL, key: apiKey}
	tenant := models.NewID("tenant")

	ok := newReceiver(t, always(200))
	failing := newReceiver(t, always(500))
	c.createEndpoint(map[string]any{"url": ok.URL, "tenant_id": tenant, "event_types": []string{"done.*"}})
	c.createEndpoint(map[string]any{"url": failing.URL, "tenant_id": tenant, "event_types": []string{"retry.*"}, "retry_schedule": []string{"24h"}})
	pausedEp, _ := c.createEndpoint(map[string]any{"url": ok.URL, "tenant_id": tenant, "event_types": []string{"held.*"}})
	status, out := c.do("POST", "/v1/endpoints/"+pausedEp+"/pause", map[string]any{"reason": "retention test"})
	require.Equal(t, http.StatusOK, status, "%v", out)

	post := func(typ string) (evID, dlvID string) {
		ev := c.postEvent(models.NewID("key"), map[string]any{"type": typ, "tenant_id": tenant, "payload": map[string]any{}})
		return ev["id"].(string), ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	}
	waitStatus := func(dlvID, want string) {
		waitFor(t, 20*time.Second, dlvID+" "+want, func() bool {
			_, d := c.do("GET", "/v1/deliveries/"+dlvID, nil)
			return d["status"] == want && (want == models.DeliveryHeld || d["attempt_count"] != float64(0))
		})
	}
	oldDoneEv, oldDone := post("done.old")
	recentDoneEv, recentDone := post("done.recent")
	oldPendingEv, oldPending := post("retry.old")
	oldHeldEv, oldHeld := post("held.old")
	waitStatus(oldDone, models.DeliverySucceeded)
	waitStatus(recentDone, models.DeliverySucceeded)
	waitStatus(oldPending, models.DeliveryPending)
	waitStatus(oldHeld, models.DeliveryHeld)

	// Two hours ago, past the retention of one.
	past := time.Now().UTC().Add(-2 * time.Hour)
	db := h.Store.DB()
	for _, id := range []string{oldDone, oldPending, oldHeld} {
		require.NoError(t, db.Model(&models.Delivery{}).Where("id = ?", id).Updates(map[string]any{"created_at": past, "updated_at": past}).Error)
	}
	for _, id := range []string{oldDoneEv, recentDoneEv, oldPendingEv, oldHeldEv} {
		require.NoError(t, db.Model(&models.Event{}).Where("id = ?", id).Update("created_at", past).Error)
	}
	require.Equal(t, int64(1), countRows(t, h, &models.Attempt{}, "delivery_id = ?", oldDone))

	// The schedule is there, as hookd made it.
	sh := h.Temporal.ScheduleClient().GetHandle(ctx, workflows.RetentionScheduleID)
	desc, err := sh.Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, []sdkclient.ScheduleIntervalSpec{{Every: time.Hour}}, desc.Schedule.Spec.Intervals)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, desc.Schedule.Policy.Overlap)
	require.False(t, desc.Schedule.State.Paused)
	require.Equal(t, "1h0m0s", scheduledRetention(t, desc))
	require.Equal(t, 2*time.Hour, namespaceRetention(t, h), "the namespace keeps closed workflows an hour longer than hookd keeps their deliveries")

	runs := desc.Info.NumActions
	require.NoError(t, sh.Trigger(ctx, sdkclient.ScheduleTriggerOptions{}))
	waitFor(t, 30*time.Second, "the triggered prune ran", func() bool {
		d, err := sh.Describe(ctx)
		require.NoError(t, err)
		if d.Info.NumActions <= runs || len(d.Info.RecentActions) == 0 {
			return false
		}
		last := d.Info.RecentActions[len(d.Info.RecentActions)-1].StartWorkflowResult
		var res workflows.PruneResult
		return h.Temporal.GetWorkflow(ctx, last.WorkflowID, last.FirstExecutionRunID).Get(ctx, &res) == nil
	})

	require.False(t, exists(t, h, &models.Delivery{}, oldDone), "an old finished delivery is pruned")
	require.Zero(t, countRows(t, h, &models.Attempt{}, "delivery_id = ?", oldDone), "with its attempts")
	require.False(t, exists(t, h, &models.Event{}, oldDoneEv), "and its event")
	for name, id := range map[string]string{"recently finished": recentDone, "old pending": oldPending, "old held": oldHeld} {
		require.True(t, exists(t, h, &models.Delivery{}, id), "a %s delivery is kept", name)
	}
	for name, id := range map[string]string{"recently finished": recentDoneEv, "old pending": oldPendingEv, "old held": oldHeldEv} {
		require.True(t, exists(t, h, &models.Event{}, id), "the old event of a %s delivery is kept", name)
	}
	status, _ = c.do("GET", "/v1/deliveries/"+oldDone, nil)
	require.Equal(t, http.StatusNotFound, status)

	// An operator pauses the schedule; a restart with another retention
	// updates its argument and leaves the pause.
	require.NoError(t, sh.Pause(ctx, sdkclient.SchedulePauseOptions{Note: "paused by an operator"}))
	h.Stop(ctx)
	stopped = true
	h, err = startDev(dir, "HOOKD_RETENTION=2d")
	require.NoError(t, err)
	t.Cleanup(func() { h.Stop(context.Background()) })
	desc, err = h.Temporal.ScheduleClient().GetHandle(ctx, workflows.RetentionScheduleID).Describe(ctx)
	require.NoError(t, err)
	require.True(t, desc.Schedule.State.Paused, "the operator's pause outlives the restart")
	require.Equal(t, "paused by an operator", desc.Schedule.State.Note)
	require.Equal(t, "48h0m0s", scheduledRetention(t, desc), "the schedule runs with the new retention")
	require.Equal(t, 49*time.Hour, namespaceRetention(t, h))
}

// scheduledRetention is the retention the schedule passes to Prune.
func scheduledRetention(t *testing.T, desc *sdkclient.ScheduleDescription) string {
	t.Helper()
	act, ok := desc.Schedule.Action.(*sdkclient.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Equal(t, "Prune", act.Workflow)
	require.Len(t, act.Args, 1)
	var in workflows.PruneInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(act.Args[0].(*commonpb.Payload), &in))
	return in.Retention
}

// namespaceRetention is how long h's namespace keeps closed workflows.
func namespaceRetention(t *testing.T, h *app.App) time.Duration {
	t.Helper()
	d, err := h.Temporal.WorkflowService().DescribeNamespace(context.Background(),
		&workflowservice.DescribeNamespaceRequest{Namespace: h.Config.TemporalNamespace})
	require.NoError(t, err)
	return d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
}

func exists(t *testing.T, h *app.App, model any, id string) bool {
	return countRows(t, h, model, "id = ?", id) == 1
}

func countRows(t *testing.T, h *app.App, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, h.Store.DB().Model(model).Where(where, args...).Count(&n).Error)
	return n
}
