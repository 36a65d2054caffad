package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// pausedEndpoint makes an endpoint whose receiver fails until told otherwise,
// sends it events until ten attempts in a row have failed, and returns once
// the endpoint is paused.
func pausedEndpoint(t *testing.T, c *client) (epID, tenant string, rcv *receiver, healthy *atomic.Bool) {
	healthy = new(atomic.Bool)
	rcv = newReceiver(t, func(int) int {
		if healthy.Load() {
			return 200
		}
		return 500
	})
	tenant = models.NewID("tenant")
	epID, _ = c.createEndpoint(map[string]any{
		"url": rcv.URL, "tenant_id": tenant, "pause_threshold": 10,
		"retry_schedule": []string{"20ms", "20ms", "20ms", "20ms", "20ms"},
	})
	for i := range 2 { // 2 events × 6 attempts: enough to reach 10 failures in a row
		c.postEvent(fmt.Sprintf("fail-%s-%d", tenant, i), map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"seq": -1}})
	}
	waitFor(t, 30*time.Second, "endpoint paused", func() bool {
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		return h["state"] == models.EndpointPaused
	})
	_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
	require.Equal(t, float64(10), h["consecutive_failures"])
	require.Contains(t, h["pause_reason"], "10 consecutive failed attempts")
	require.NotNil(t, h["paused_at"])
	return epID, tenant, rcv, healthy
}

// holdEvents posts n events while the endpoint is paused and checks they are held.
func holdEvents(t *testing.T, c *client, epID, tenant string, n int) {
	before := 0
	for range 3 { // deliveries of the failing events that still had retries may become held too
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		before = int(h["held_count"].(float64))
	}
	for i := range n {
		c.postEvent(fmt.Sprintf("held-%s-%d", tenant, i), map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"seq": i}})
	}
	waitFor(t, 20*time.Second, "new events held", func() bool {
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		return int(h["held_count"].(float64)) >= before+n
	})
	status, list := c.do("GET", "/v1/deliveries?status=held&endpoint_id="+epID, nil)
	require.Equal(t, http.StatusOK, status)
	require.GreaterOrEqual(t, len(list["data"].([]any)), n, "held deliveries are listed over REST")
}

// heldArrivedInOrder waits for every held event and checks they came oldest first.
func heldArrivedInOrder(t *testing.T, c *client, hd *app.App, epID string, rcv *receiver, n int) {
	var seqs []int
	waitFor(t, 30*time.Second, "held events delivered", func() bool {
		seqs = seqs[:0]
		for _, r := range rcv.requests() {
			if r.Header.Get("webhook-id") == "" {
				continue
			}
			var body struct {
				Data struct{ Seq int } `json:"data"`
			}
			require.NoError(t, json.Unmarshal(r.Body, &body))
			if body.Data.Seq >= 0 { // only ever sent once released (asserted while paused)
				seqs = append(seqs, body.Data.Seq)
			}
		}
		return len(seqs) >= n
	})
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	require.Equal(t, want, seqs, "held events arrive oldest first, each once")
	waitFor(t, 10*time.Second, "nothing left held", func() bool {
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		return h["held_count"] == float64(0) && h["state"] == models.EndpointActive
	})
	_, health := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
	require.Equal(t, float64(0), health["consecutive_failures"])

	// The workflow's health query agrees with REST.
	v, err := hd.Temporal.QueryWorkflow(context.Background(), workflows.EndpointWorkflowID(epID), "", workflows.QueryHealth)
	require.NoError(t, err)
	var st workflows.EndpointState
	require.NoError(t, v.Get(&st))
	require.Equal(t, models.EndpointActive, st.State)
	require.Equal(t, 0, st.ConsecutiveFailures)
}

func TestPausedEndpointHoldsEventsAndRESTUnpauseDeliversThemOldestFirst(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, hd *app.App) {
		epID, tenant, rcv, healthy := pausedEndpoint(t, c)
		holdEvents(t, c, epID, tenant, 5)
		time.Sleep(200 * time.Millisecond)
		for _, r := range rcv.requests() {
			require.NotContains(t, string(r.Body), `"seq":0`, "nothing is sent while paused")
		}
		healthy.Store(true)

		status, h := c.do("POST", "/v1/endpoints/"+epID+"/unpause", nil)
		require.Equal(t, http.StatusOK, status, "%v", h)
		require.Equal(t, models.EndpointActive, h["state"])
		heldArrivedInOrder(t, c, hd, epID, rcv, 5)
	})
}

func TestTemporalUnpauseSignalDeliversHeldEventsOldestFirst(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, hd *app.App) {
		epID, tenant, rcv, healthy := pausedEndpoint(t, c)
		holdEvents(t, c, epID, tenant, 4)
		healthy.Store(true)
		// What `temporal workflow signal --workflow-id endpoint/<id> --name unpause` does.
		require.NoError(t, hd.Temporal.SignalWorkflow(context.Background(), workflows.EndpointWorkflowID(epID), "", workflows.SignalUnpause, nil))
		heldArrivedInOrder(t, c, hd, epID, rcv, 4)
	})
}

func TestRESTPauseWithReasonHoldsNewEvents(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, hd *app.App) {
		rcv := newReceiver(t, always(200))
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
		status, h := c.do("POST", "/v1/endpoints/"+epID+"/pause", map[string]any{"reason": "receiver migration"})
		require.Equal(t, http.StatusOK, status, "%v", h)
		require.Equal(t, models.EndpointPaused, h["state"])
		require.Equal(t, "receiver migration", h["pause_reason"])

		v, err := hd.Temporal.QueryWorkflow(context.Background(), workflows.EndpointWorkflowID(epID), "", workflows.QueryHealth)
		require.NoError(t, err)
		var st workflows.EndpointState
		require.NoError(t, v.Get(&st))
		require.Equal(t, models.EndpointPaused, st.State)
		require.Equal(t, "receiver migration", st.PauseReason)

		c.postEvent("paused-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
		waitFor(t, 10*time.Second, "held", func() bool {
			_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
			return h["held_count"] == float64(1)
		})
		require.Empty(t, rcv.requests())

		status, out := c.do("POST", "/v1/endpoints/"+epID+"/pause", map[string]any{"reson": "typo"})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Equal(t, "reson", out["error"].(map[string]any)["field"])
		status, _ = c.do("POST", "/v1/endpoints/ep_01M85KMFZ37SC812YH1CEJAVP3/pause", nil)
		require.Equal(t, http.StatusNotFound, status)
	})
}

func TestReplayRedeliversARangeAndRetryMakesOneMoreAttempt(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, hd *app.App) {
		var healthy atomic.Bool
		rcv := newReceiver(t, func(int) int {
			if healthy.Load() {
				return 200
			}
			return 500
		})
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{}})
		since := time.Now().UTC().Add(-time.Second)
		var dlvIDs []string
		for i := range 3 {
			ev := c.postEvent(fmt.Sprintf("replay-%s-%d", tenant, i), map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{"i": i}})
			dlvIDs = append(dlvIDs, ev["deliveries"].([]any)[0].(map[string]any)["id"].(string))
		}
		waitFor(t, 10*time.Second, "all failed", func() bool {
			_, l := c.do("GET", "/v1/deliveries?status=failed&endpoint_id="+epID, nil)
			return len(l["data"].([]any)) == 3
		})
		healthy.Store(true)

		// Manual retry of one: a new single attempt, trigger manual.
		status, _ := c.do("POST", "/v1/deliveries/"+dlvIDs[0]+"/retry", nil)
		require.Equal(t, http.StatusAccepted, status)
		waitFor(t, 10*time.Second, "retried", func() bool {
			_, d := c.do("GET", "/v1/deliveries/"+dlvIDs[0], nil)
			return d["status"] == models.DeliverySucceeded
		})
		_, d := c.do("GET", "/v1/deliveries/"+dlvIDs[0], nil)
		atts := d["attempts"].([]any)
		require.Len(t, atts, 2)
		require.Equal(t, models.TriggerManual, atts[1].(map[string]any)["trigger"])

		body := map[string]any{"since": since.Format(time.RFC3339Nano), "only_failed": true, "dry_run": true}
		status, dry := c.do("POST", "/v1/endpoints/"+epID+"/replay", body)
		require.Equal(t, http.StatusOK, status, "%v", dry)
		require.Equal(t, float64(2), dry["deliveries"], "dry run counts the two still failed")
		time.Sleep(100 * time.Millisecond)
		_, l := c.do("GET", "/v1/deliveries?status=failed&endpoint_id="+epID, nil)
		require.Len(t, l["data"], 2, "a dry run changes nothing")

		body["dry_run"] = false
		status, _ = c.do("POST", "/v1/endpoints/"+epID+"/replay", body)
		require.Equal(t, http.StatusAccepted, status)
		waitFor(t, 10*time.Second, "replayed", func() bool {
			_, l := c.do("GET", "/v1/deliveries?status=succeeded&endpoint_id="+epID, nil)
			return len(l["data"].([]any)) == 3
		})
		for _, id := range dlvIDs[1:] {
			_, d := c.do("GET", "/v1/deliveries/"+id, nil)
			atts := d["attempts"].([]any)
			require.Equal(t, models.TriggerReplay, atts[len(atts)-1].(map[string]any)["trigger"])
		}

		status, bad := c.do("POST", "/v1/endpoints/"+epID+"/replay", map[string]any{"since": "yesterday"})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Equal(t, "since", bad["error"].(map[string]any)["field"])
		status, bad = c.do("POST", "/v1/endpoints/"+epID+"/replay", map[string]any{"since": "2030-01-01T00:00:00Z", "until": "2029-01-01T00:00:00Z"})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Equal(t, "until", bad["error"].(map[string]any)["field"])
	})
}

func TestHealthRoutesRefuseBadInput(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/", "tenant_id": tenant})
		for _, r := range []struct{ method, path string }{
			{"GET", "/v1/endpoints/" + missingEndpoint + "/health"}, {"POST", "/v1/endpoints/" + missingEndpoint + "/unpause"},
			{"POST", "/v1/endpoints/" + missingEndpoint + "/pause"}, {"POST", "/v1/deliveries/dlv_01M85KMFZ37SC812YH1CEJAVP3/retry"},
		} {
			status, out := c.do(r.method, r.path, nil)
			requireError(t, status, out, http.StatusNotFound, "")
		}
		for body, field := range map[string]string{
			`{"reason":` + `"` + strings.Repeat("r", 600) + `"}`: "reason", `{"reason":5}`: "reason", `{"why":"x"}`: "why",
		} {
			status, out := c.do("POST", "/v1/endpoints/"+epID+"/pause", body)
			requireError(t, status, out, http.StatusUnprocessableEntity, field)
		}
		for body, field := range map[string]string{
			`{}`: "since", `{"since":"2026-01-01T00:00:00Z","dry_run":"yes"}`: "dry_run", `{"since":"2026-01-01T00:00:00Z","until":"later"}`: "until",
		} {
			status, out := c.do("POST", "/v1/endpoints/"+epID+"/replay", body)
			requireError(t, status, out, http.StatusUnprocessableEntity, field)
		}
		status, out := c.do("POST", "/v1/endpoints/"+epID+"/replay", "not json")
		requireError(t, status, out, http.StatusBadRequest, "")
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		require.Equal(t, models.EndpointActive, h["state"], "refused requests changed nothing")
	})
}
