package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkclient "go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// recordEnv turns TestRecordHistories on. The histories it writes are what
// workflows.TestRecordedHistoriesReplayDeterministically replays, so a
// history already in testdata is kept (it is what runs started by older
// code look like); set recordEnv to "overwrite" to record it again.
const recordEnv = "HOOKD_RECORD_HISTORIES"

// historiesDir is where the recorded histories go.
var historiesDir = filepath.Join("..", "workflows", "testdata")

// TestRecordHistories drives real scenarios through hookd and writes each
// workflow run's history as JSON (the format the SDK's replayer reads) into
// workflows/testdata. Run it with HOOKD_RECORD_HISTORIES=1 and -run
// TestRecordHistories; add a scenario here when a workflow gains a path.
func TestRecordHistories(t *testing.T) {
	if os.Getenv(recordEnv) == "" {
		t.Skipf("%s not set: the recorded histories are left as they are", recordEnv)
	}
	t.Run("delivery succeeds first try", func(t *testing.T) {
		t.Parallel()
		r := recordEndpoint(t, always(200), "50ms")
		evID, _ := r.event("first-try")
		recordDelivery(t, "delivery_succeeds_first_try", r.epID, evID, models.DeliverySucceeded)
	})
	t.Run("delivery fails then succeeds", func(t *testing.T) {
		t.Parallel()
		r := recordEndpoint(t, failFirst, "50ms", "50ms")
		evID, _ := r.event("retried")
		recordDelivery(t, "delivery_fails_then_succeeds", r.epID, evID, models.DeliverySucceeded)
	})
	t.Run("delivery exhausts its schedule", func(t *testing.T) {
		t.Parallel()
		r := recordEndpoint(t, always(503), "20ms", "20ms")
		evID, _ := r.event("exhausted")
		// delivery_exhausts_schedule.json, kept beside it, was recorded
		// before an exhausted delivery failed its workflow: it completed.
		recordDelivery(t, "delivery_exhausted_fails", r.epID, evID, models.DeliveryFailed)
	})
	t.Run("delivery retried now by an operator", func(t *testing.T) {
		t.Parallel()
		r := recordEndpoint(t, failFirst, "1h")
		evID, dlvID := r.event("retry-now")
		waitFor(t, 20*time.Second, "first attempt failed", func() bool {
			_, d := r.do("GET", "/v1/deliveries/"+dlvID, nil)
			return d["attempt_count"] == float64(1)
		})
		status, out := r.do("POST", "/v1/deliveries/"+dlvID+"/retry", nil)
		require.Equal(t, http.StatusAccepted, status, "%v", out)
		recordDelivery(t, "delivery_retry_now", r.epID, evID, models.DeliverySucceeded)
	})
	t.Run("endpoint paused at its threshold, held delivery released on unpause, replay", recordPauseUnpause)
	t.Run("endpoint health continues as new", recordHealthContinueAsNew)
	t.Run("held delivery continues as new", recordDeliveryContinueAsNew)
	t.Run("prune continues as new", recordPruneContinueAsNew)
	t.Run("endpoint sends operational webhooks, a 410 disables it", recordOperationalWebhooks)
}

// recordOperationalWebhooks: with a pause threshold of 2, a delivery that
// uses up its schedule (2 attempts) pauses the endpoint (delivery.exhausted,
// endpoint.paused); an unpause (endpoint.unpaused); then a 410 Gone fails a
// delivery at once and disables the endpoint (endpoint.disabled).
func recordOperationalWebhooks(t *testing.T) {
	t.Parallel()
	answer := new(atomic.Int32)
	answer.Store(503)
	r := recordEndpoint(t, func(int) int { return int(answer.Load()) }, "20ms")
	ctx := context.Background()
	wid := workflows.EndpointWorkflowID(r.epID)
	status, out := r.do("PATCH", "/v1/endpoints/"+r.epID, map[string]any{"pause_threshold": 2})
	require.Equal(t, http.StatusOK, status, "%v", out)
	waitFor(t, 10*time.Second, "threshold in the workflow", func() bool {
		st, err := tryQueryHealth(hookd, r.epID)
		return err == nil && st.PauseThreshold == 2
	})
	evID, _ := r.event("exhausted")
	recordDelivery(t, "", r.epID, evID, models.DeliveryFailed)
	waitFor(t, 20*time.Second, "endpoint paused", func() bool {
		_, h := r.do("GET", "/v1/endpoints/"+r.epID+"/health", nil)
		return h["state"] == models.EndpointPaused
	})
	answer.Store(200)
	status, out = r.do("POST", "/v1/endpoints/"+r.epID+"/unpause", nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	answer.Store(410)
	goneEv, _ := r.event("gone")
	recordDelivery(t, "delivery_gone_disables_endpoint", r.epID, goneEv, models.DeliveryFailed)
	waitFor(t, 20*time.Second, "endpoint disabled", func() bool {
		_, h := r.do("GET", "/v1/endpoints/"+r.epID+"/health", nil)
		return h["state"] == models.EndpointDisabled
	})
	waitFor(t, 20*time.Second, "four notices sent", func() bool {
		_, l := r.do("GET", "/v1/events?tenant_id=hookd&limit=100", nil)
		n := 0
		for _, e := range l["data"].([]any) {
			if bytes.Contains([]byte(fmt.Sprint(e)), []byte(r.epID)) {
				n++
			}
		}
		return n == 4
	})
	waitIdle(t, wid)
	writeHistory(t, ctx, "endpoint_health_operational_webhooks", wid, "")
}

// failFirst answers 500 to the first request and 200 to the others.
func failFirst(n int) int {
	if n == 1 {
		return 500
	}
	return 200
}

// recordPauseUnpause: a PATCH lowers the pause threshold to 2, two failed
// deliveries pause the endpoint, a third delivery is held, an unpause
// releases it, and a replay redelivers the two failed ones.
func recordPauseUnpause(t *testing.T) {
	t.Parallel()
	healthy := new(atomic.Bool)
	r := recordEndpoint(t, func(int) int { return map[bool]int{true: 200, false: 500}[healthy.Load()] })
	ctx := context.Background()
	status, out := r.do("PATCH", "/v1/endpoints/"+r.epID, map[string]any{"pause_threshold": 2})
	require.Equal(t, http.StatusOK, status, "%v", out)
	waitFor(t, 10*time.Second, "threshold in the workflow", func() bool {
		st, err := tryQueryHealth(hookd, r.epID)
		return err == nil && st.PauseThreshold == 2
	})
	since := time.Now().UTC().Add(-time.Second)
	for i := range 2 {
		evID, _ := r.event(fmt.Sprintf("fail-%d", i))
		recordDelivery(t, "", r.epID, evID, models.DeliveryFailed)
	}
	waitFor(t, 20*time.Second, "endpoint paused", func() bool {
		_, h := r.do("GET", "/v1/endpoints/"+r.epID+"/health", nil)
		return h["state"] == models.EndpointPaused
	})
	heldEv, heldDlv := r.event("held")
	waitFor(t, 10*time.Second, "held", func() bool {
		_, d := r.do("GET", "/v1/deliveries/"+heldDlv, nil)
		return d["status"] == models.DeliveryHeld
	})
	healthy.Store(true)
	status, out = r.do("POST", "/v1/endpoints/"+r.epID+"/unpause", nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	recordDelivery(t, "delivery_held_then_released", r.epID, heldEv, models.DeliverySucceeded)

	status, out = r.do("POST", "/v1/endpoints/"+r.epID+"/replay", map[string]any{"since": since.Format(time.RFC3339Nano), "only_failed": true})
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	waitFor(t, 20*time.Second, "failed deliveries replayed", func() bool {
		_, l := r.do("GET", "/v1/deliveries?status=succeeded&endpoint_id="+r.epID, nil)
		return len(l["data"].([]any)) == 3
	})
	wid := workflows.EndpointWorkflowID(r.epID)
	waitIdle(t, wid)
	writeHistory(t, ctx, "endpoint_health_pause_unpause_replay", wid, "")
}

// recordHealthContinueAsNew restarts an endpoint's health workflow with a
// budget of three signals per run: pause, settings and unpause (whose
// release job the run waits for) make it continue as new; the next run
// takes one more pause.
func recordHealthContinueAsNew(t *testing.T) {
	t.Parallel()
	r := recordEndpoint(t, always(200))
	ctx := context.Background()
	wid := workflows.EndpointWorkflowID(r.epID)
	waitIdle(t, wid)
	require.NoError(t, hookd.Temporal.TerminateWorkflow(ctx, wid, "", "recording: restart with a small signal budget"))
	st := workflows.EndpointState{EndpointID: r.epID, State: models.EndpointActive, PauseThreshold: 10, SignalsPerRun: 3}
	run, err := hookd.Temporal.ExecuteWorkflow(ctx, workflows.EndpointWorkflowOptions(r.epID), workflows.EndpointHealth, st)
	require.NoError(t, err)
	signal := func(name string, arg any) {
		require.NoError(t, hookd.Temporal.SignalWorkflow(ctx, wid, "", name, arg))
	}
	signal(workflows.SignalPause, workflows.PauseSignal{Reason: "recording"})
	waitFor(t, 10*time.Second, "paused", func() bool {
		_, h := r.do("GET", "/v1/endpoints/"+r.epID+"/health", nil)
		return h["state"] == models.EndpointPaused
	})
	signal(workflows.SignalSettings, nil)
	signal(workflows.SignalUnpause, nil)
	next := waitNewRun(t, wid, run.GetRunID())
	signal(workflows.SignalPause, workflows.PauseSignal{})
	waitFor(t, 10*time.Second, "paused again", func() bool {
		st, err := tryQueryHealth(hookd, r.epID)
		return err == nil && st.State == models.EndpointPaused
	})
	waitIdle(t, wid)
	writeHistory(t, ctx, "endpoint_health_continue_as_new_1", wid, run.GetRunID())
	writeHistory(t, ctx, "endpoint_health_continue_as_new_2", wid, next)
}

// recordDeliveryContinueAsNew restarts a held delivery with a budget of
// one wait per run: a release while the endpoint is still paused holds it
// again, which continues it as new; the next run is released by an unpause.
func recordDeliveryContinueAsNew(t *testing.T) {
	t.Parallel()
	r := recordEndpoint(t, always(200), "50ms")
	ctx := context.Background()
	status, out := r.do("POST", "/v1/endpoints/"+r.epID+"/pause", map[string]any{"reason": "recording"})
	require.Equal(t, http.StatusOK, status, "%v", out)
	evID, dlvID := r.event("held-can")
	waitFor(t, 10*time.Second, "held", func() bool {
		_, d := r.do("GET", "/v1/deliveries/"+dlvID, nil)
		return d["status"] == models.DeliveryHeld
	})
	wid := workflows.DeliveryWorkflowID(r.epID, evID)
	waitIdle(t, wid)
	require.NoError(t, hookd.Temporal.TerminateWorkflow(ctx, wid, "", "recording: restart with a small wait budget"))
	in := workflows.DeliveryInput{DeliveryID: dlvID, EndpointID: r.epID, EventID: evID, Schedule: []time.Duration{50 * time.Millisecond},
		AttemptTimeout: 10 * time.Second, Trigger: models.TriggerSchedule, WaitsPerRun: 1}
	run, err := hookd.Temporal.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{ID: wid, TaskQueue: workflows.TaskQueue}, workflows.Delivery, in)
	require.NoError(t, err)
	waitIdle(t, wid)
	// Released while the endpoint is still paused: held again, no wait left.
	require.NoError(t, hookd.Temporal.SignalWorkflow(ctx, wid, "", workflows.SignalRelease, nil))
	next := waitNewRun(t, wid, run.GetRunID())
	waitIdle(t, wid)
	status, out = r.do("POST", "/v1/endpoints/"+r.epID+"/unpause", nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	recordDelivery(t, "", r.epID, evID, models.DeliverySucceeded)
	writeHistory(t, ctx, "delivery_held_continue_as_new_1", wid, run.GetRunID())
	writeHistory(t, ctx, "delivery_held_continue_as_new_2", wid, next)
}

// recordPruneContinueAsNew back-dates two finished deliveries of a tenant
// of its own past a retention of an hour and prunes them with batches of
// one and two batches per run: the first run deletes the deliveries and
// continues as new; the last one ends the walk over the events. (Only this
// test's rows are older than an hour in the test's hookd.)
func recordPruneContinueAsNew(t *testing.T) {
	t.Parallel()
	r := recordEndpoint(t, always(200))
	ctx := context.Background()
	past := time.Now().UTC().Add(-2 * time.Hour)
	for _, name := range []string{"prune-1", "prune-2"} {
		evID, dlvID := r.event(name)
		recordDelivery(t, "", r.epID, evID, models.DeliverySucceeded)
		require.NoError(t, hookd.Store.DB().Model(&models.Delivery{}).Where("id = ?", dlvID).Update("updated_at", past).Error)
		require.NoError(t, hookd.Store.DB().Model(&models.Event{}).Where("id = ?", evID).Update("created_at", past).Error)
	}
	wid := "recording-prune-" + r.tenant
	in := workflows.PruneInput{Retention: "1h0m0s", BatchSize: 1, BatchesPerRun: 2}
	run, err := hookd.Temporal.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{ID: wid, TaskQueue: workflows.TaskQueue}, workflows.Prune, in)
	require.NoError(t, err)
	var res workflows.PruneResult
	require.NoError(t, hookd.Temporal.GetWorkflow(ctx, wid, "").Get(ctx, &res))
	require.Equal(t, workflows.PruneResult{Deliveries: 2, Events: 2}, res)
	writeHistory(t, ctx, "prune_continue_as_new_1", wid, run.GetRunID())
	writeHistory(t, ctx, "prune_completes", wid, "")
}

// waitNewRun waits until wid's latest run is not runID and answers its id.
func waitNewRun(t *testing.T, wid, runID string) string {
	t.Helper()
	var next string
	waitFor(t, 20*time.Second, wid+" continued as new", func() bool {
		d, err := hookd.Temporal.DescribeWorkflowExecution(context.Background(), wid, "")
		require.NoError(t, err)
		next = d.WorkflowExecutionInfo.Execution.RunId
		return next != runID
	})
	return next
}

// recorder is one recording endpoint, with a tenant of its own.
type recorder struct {
	*client
	epID, tenant string
}

// recordEndpoint creates an endpoint whose receiver answers with answer,
// with the given retry schedule.
func recordEndpoint(t *testing.T, answer func(n int) int, schedule ...string) *recorder {
	r := &recorder{client: api(t), tenant: models.NewID("tenant")}
	rcv := newReceiver(t, answer)
	r.epID, _ = r.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": r.tenant, "retry_schedule": append([]string{}, schedule...)})
	return r
}

// event posts an event to the recorder's endpoint and answers its id and
// the id of its delivery.
func (r *recorder) event(name string) (evID, dlvID string) {
	ev := r.postEvent(name+"-"+r.tenant, map[string]any{"type": "a", "tenant_id": r.tenant, "payload": map[string]any{"name": name}})
	return ev["id"].(string), ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
}

// recordDelivery waits for the delivery workflow of evID to epID to end
// with status and, when name is set, writes its last run's history.
func recordDelivery(t *testing.T, name, epID, evID, status string) {
	t.Helper()
	ctx := context.Background()
	wid := workflows.DeliveryWorkflowID(epID, evID)
	var res workflows.DeliveryResult
	require.NoError(t, workflows.Outcome(hookd.Temporal.GetWorkflow(ctx, wid, "").Get(ctx, &res), &res))
	require.Equal(t, status, res.Status)
	if name != "" {
		writeHistory(t, ctx, name, wid, "")
	}
}

// waitIdle waits until a workflow has no workflow task and no activity pending.
func waitIdle(t *testing.T, wid string) {
	t.Helper()
	waitFor(t, 20*time.Second, wid+" idle", func() bool {
		d, err := hookd.Temporal.DescribeWorkflowExecution(context.Background(), wid, "")
		return err == nil && d.PendingWorkflowTask == nil && len(d.PendingActivities) == 0
	})
}

// writeHistory writes the history of one run of wid (the latest if runID is
// "") into historiesDir/name.json.
func writeHistory(t *testing.T, ctx context.Context, name, wid, runID string) {
	t.Helper()
	var h historypb.History
	it := hookd.Temporal.GetWorkflowHistory(ctx, wid, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	require.NotEmpty(t, h.Events)
	raw, err := protojson.Marshal(&h)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, raw, "", "  "))
	out.WriteByte('\n')
	path := filepath.Join(historiesDir, name+".json")
	if _, err := os.Stat(path); err == nil && os.Getenv(recordEnv) != "overwrite" {
		t.Logf("kept %s: it is there already (%s=overwrite records it again)", path, recordEnv)
		return
	}
	require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
	t.Logf("recorded %s: %d events of %s", name, len(h.Events), wid)
}
