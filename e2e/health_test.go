package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// pausedEndpoint makes an endpoint whose receiver fails until told otherwise,
// sends it events until ten attempts in a row have failed, and returns once
// the endpoint is paused.
func pausedEndpoint(t *testing.T, c *client) (epID, tenant string, rcv *receiver, healthy *atomic.Bool) {
	rcv, healthy = switchableReceiver(t)
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
	// Attempts run concurrently: the pause comes at the threshold, but
	// attempts already under way when it did may still fail and count.
	_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
	require.GreaterOrEqual(t, h["consecutive_failures"], float64(10))
	var atPause int
	_, err := fmt.Sscanf(h["pause_reason"].(string), "%d consecutive failed attempts", &atPause)
	require.NoError(t, err, "pause reason %q", h["pause_reason"])
	require.GreaterOrEqual(t, atPause, 10, "paused once the threshold was reached")
	require.NotNil(t, h["paused_at"])
	// Once the last attempts are counted, the workflow's health query and REST agree.
	waitFor(t, 10*time.Second, "query and REST agree", func() bool {
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		st, err := tryQueryHealth(hd(c), epID)
		return err == nil && st.State == models.EndpointPaused && float64(st.ConsecutiveFailures) == h["consecutive_failures"]
	})
	return epID, tenant, rcv, healthy
}

// hd is the hookd a client talks to.
func hd(c *client) *app.App {
	if hookdPG != nil && c.base == hookdPG.APIURL {
		return hookdPG
	}
	return hookd
}

// queryHealth runs the endpoint workflow's health query.
func queryHealth(t *testing.T, hd *app.App, epID string) workflows.EndpointState {
	t.Helper()
	st, err := tryQueryHealth(hd, epID)
	require.NoError(t, err)
	return st
}

// tryQueryHealth is queryHealth for polling: an error (a query timing out on
// a loaded machine) is returned, to be tried again.
func tryQueryHealth(hd *app.App, epID string) (workflows.EndpointState, error) {
	var st workflows.EndpointState
	v, err := hd.Temporal.QueryWorkflow(context.Background(), workflows.EndpointWorkflowID(epID), "", workflows.QueryHealth)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
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
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		rcv, healthy := switchableReceiver(t)
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

// readmeTemporalCommands reads the README's `temporal workflow signal` lines
// (signal name → --input text, "" when there is none) and the query type of
// its `temporal workflow query` line, so the test sends exactly what the
// README tells operators to send.
func readmeTemporalCommands(t *testing.T) (signals map[string]string, query string) {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(raw), " ")
	// The replay window is relative to now: the shell splices $SINCE and
	// $UNTIL (set by the README's date lines) into the quoted JSON.
	now := time.Now().UTC()
	text = strings.NewReplacer(`'"$SINCE"'`, now.Add(-time.Hour).Format(time.RFC3339),
		`'"$UNTIL"'`, now.Format(time.RFC3339)).Replace(text)
	signals = map[string]string{}
	for _, m := range regexp.MustCompile(`temporal workflow signal --workflow-id endpoint/\S+ --name (\S+)(?:\s+--input '([^']*)')?`).FindAllStringSubmatch(text, -1) {
		signals[m[1]] = m[2]
	}
	q := regexp.MustCompile(`temporal workflow query\s+--workflow-id endpoint/\S+ --type (\S+)`).FindStringSubmatch(text)
	require.NotNil(t, q, "the README shows the health query")
	return signals, q[1]
}

// The pause, unpause and replay signals and the health query, sent as raw
// JSON exactly as the README's temporal CLI commands send them.
func TestTemporalSignalsAsTheREADMEShowsThem(t *testing.T) {
	t.Parallel()
	signals, queryType := readmeTemporalCommands(t)
	require.Equal(t, workflows.QueryHealth, queryType)
	require.ElementsMatch(t, []string{workflows.SignalPause, workflows.SignalUnpause, workflows.SignalReplay}, keys(signals))
	require.Empty(t, signals[workflows.SignalUnpause], "unpause takes no input")
	var pause map[string]any
	require.NoError(t, json.Unmarshal([]byte(signals[workflows.SignalPause]), &pause))
	require.Equal(t, map[string]any{"reason": "receiver migration"}, pause)
	var replay map[string]any
	require.NoError(t, json.Unmarshal([]byte(signals[workflows.SignalReplay]), &replay))
	require.ElementsMatch(t, []string{"since", "until", "only_failed"}, keys(replay))

	// The CLI sends --input as a json/plain payload of those very bytes; so
	// does the SDK for a json.RawMessage.
	p, err := converter.GetDefaultDataConverter().ToPayload(json.RawMessage(signals[workflows.SignalPause]))
	require.NoError(t, err)
	require.Equal(t, "json/plain", string(p.Metadata["encoding"]))
	require.Equal(t, signals[workflows.SignalPause], string(p.Data))

	onBothStores(t, func(t *testing.T, c *client, hd *app.App) {
		ctx := context.Background()
		rcv, healthy := switchableReceiver(t)
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{}})
		wid := workflows.EndpointWorkflowID(epID)
		query := func() workflows.EndpointState {
			v, err := hd.Temporal.QueryWorkflow(ctx, wid, "", queryType)
			require.NoError(t, err)
			var st workflows.EndpointState
			require.NoError(t, v.Get(&st))
			return st
		}
		rest := func() map[string]any {
			_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
			return h
		}

		// Two deliveries fail (one attempt each): below the threshold.
		since := time.Now().UTC().Add(-time.Second)
		var failed []string
		for i := range 2 {
			ev := c.postEvent(fmt.Sprintf("sig-fail-%s-%d", tenant, i), map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{"i": i}})
			failed = append(failed, ev["deliveries"].([]any)[0].(map[string]any)["id"].(string))
		}
		waitFor(t, 10*time.Second, "both failed and counted", func() bool {
			_, l := c.do("GET", "/v1/deliveries?status=failed&endpoint_id="+epID, nil)
			st, err := tryQueryHealth(hd, epID)
			return len(l["data"].([]any)) == 2 && err == nil && st.ConsecutiveFailures == 2
		})
		require.Equal(t, float64(2), rest()["consecutive_failures"])

		// pause --input '{"reason":"receiver migration"}'
		require.NoError(t, hd.Temporal.SignalWorkflow(ctx, wid, "", workflows.SignalPause, json.RawMessage(signals[workflows.SignalPause])))
		waitFor(t, 10*time.Second, "paused", func() bool { return rest()["state"] == models.EndpointPaused })
		st := query()
		require.Equal(t, models.EndpointPaused, st.State)
		require.Equal(t, "receiver migration", st.PauseReason)
		require.NotNil(t, st.PausedAt)
		require.Equal(t, "receiver migration", rest()["pause_reason"])

		heldKey := "sig-held-" + tenant
		c.postEvent(heldKey, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{"held": true}})
		waitFor(t, 10*time.Second, "held", func() bool { return rest()["held_count"] == float64(1) })
		sentBefore := len(rcv.requests())
		require.Equal(t, 2, sentBefore, "nothing sent while paused")

		// unpause, no input.
		healthy.Store(true)
		require.NoError(t, hd.Temporal.SignalWorkflow(ctx, wid, "", workflows.SignalUnpause, nil))
		waitFor(t, 10*time.Second, "held event delivered", func() bool {
			h := rest()
			return h["state"] == models.EndpointActive && h["held_count"] == float64(0) && len(rcv.requests()) == 3
		})
		require.Contains(t, string(rcv.requests()[2].Body), `"held":true`)
		st = query()
		require.Equal(t, models.EndpointActive, st.State)
		require.Zero(t, st.ConsecutiveFailures, "unpause resets the count")
		require.Nil(t, st.PausedAt)
		require.Equal(t, float64(0), rest()["consecutive_failures"])

		// replay --input with the README's fields; the range is this test's.
		replay["since"] = since.Format(time.RFC3339Nano)
		replay["until"] = time.Now().UTC().Add(time.Second).Format(time.RFC3339Nano)
		input, err := json.Marshal(replay)
		require.NoError(t, err)
		require.NoError(t, hd.Temporal.SignalWorkflow(ctx, wid, "", workflows.SignalReplay, json.RawMessage(input)))
		waitFor(t, 10*time.Second, "failed deliveries replayed", func() bool {
			_, l := c.do("GET", "/v1/deliveries?status=succeeded&endpoint_id="+epID, nil)
			return len(l["data"].([]any)) == 3
		})
		for _, id := range failed {
			_, d := c.do("GET", "/v1/deliveries/"+id, nil)
			atts := d["attempts"].([]any)
			require.Len(t, atts, 2)
			require.Equal(t, models.TriggerReplay, atts[1].(map[string]any)["trigger"])
		}
		time.Sleep(200 * time.Millisecond)
		require.Len(t, rcv.requests(), 5, "only_failed: the delivered held event is not replayed")
		require.Equal(t, models.EndpointActive, query().State)
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// historyLength counts the events of the endpoint workflow's current run.
func historyLength(t *testing.T, hd *app.App, epID string) int {
	t.Helper()
	it := hd.Temporal.GetWorkflowHistory(context.Background(), workflows.EndpointWorkflowID(epID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		_, err := it.Next()
		require.NoError(t, err)
		n++
	}
	return n
}

// Not a bottleneck: successful deliveries to a healthy endpoint cost its
// health workflow nothing — its history does not grow — while one failure
// does reach it.
func TestHealthyEndpointTrafficDoesNotGrowTheHealthWorkflowHistory(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, hd *app.App) {
		rcv, healthy := switchableReceiver(t)
		healthy.Store(true)
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{}})
		// The workflow is started with the endpoint; let its first task settle.
		waitFor(t, 10*time.Second, "health workflow running", func() bool {
			_, err := hd.Temporal.QueryWorkflow(context.Background(), workflows.EndpointWorkflowID(epID), "", workflows.QueryHealth)
			return err == nil
		})
		time.Sleep(300 * time.Millisecond)
		before := historyLength(t, hd, epID)

		const n = 20
		for i := range n {
			c.postEvent(fmt.Sprintf("healthy-%s-%d", tenant, i), map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{"i": i}})
		}
		waitFor(t, 20*time.Second, "all delivered", func() bool {
			_, l := c.do("GET", fmt.Sprintf("/v1/deliveries?status=succeeded&endpoint_id=%s&limit=100", epID), nil)
			return len(l["data"].([]any)) == n
		})
		time.Sleep(300 * time.Millisecond)
		require.Equal(t, before, historyLength(t, hd, epID), "%d successful deliveries added nothing to the health workflow's history", n)

		// The measure is not blind: one failure is reported.
		healthy.Store(false)
		c.postEvent("healthy-fail-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
		waitFor(t, 10*time.Second, "failure reported", func() bool { return historyLength(t, hd, epID) > before })
		require.Equal(t, 1, queryHealth(t, hd, epID).ConsecutiveFailures)
	})
}

// A PATCH of pause_threshold reaches the health workflow at once: the health
// query shows it, and the endpoint pauses at the new threshold.
func TestHealthPauseThresholdPatchReachesTheWorkflow(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, hd *app.App) {
		rcv := newReceiver(t, always(500))
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{}})
		require.Equal(t, 10, queryHealth(t, hd, epID).PauseThreshold)
		status, out := c.do("PATCH", "/v1/endpoints/"+epID, map[string]any{"pause_threshold": 3})
		require.Equal(t, http.StatusOK, status, "%v", out)
		waitFor(t, 10*time.Second, "threshold in the workflow", func() bool {
			st, err := tryQueryHealth(hd, epID)
			return err == nil && st.PauseThreshold == 3
		})
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		require.Equal(t, float64(3), h["pause_threshold"])

		for i := range 3 {
			c.postEvent(fmt.Sprintf("thr-%s-%d", tenant, i), map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
		}
		waitFor(t, 20*time.Second, "paused at 3", func() bool {
			_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
			return h["state"] == models.EndpointPaused
		})
		st := queryHealth(t, hd, epID)
		require.Equal(t, models.EndpointPaused, st.State)
		require.Contains(t, st.PauseReason, "3 consecutive failed attempts")
	})
}

// Lowering pause_threshold to the endpoint's current count of failures
// pauses it, and the PATCH answers the state the change leads to — paused —
// not the state of a moment before.
func TestLoweringPauseThresholdToTheCountAnswersPaused(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(500))
	tenant := models.NewID("tenant")
	epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{}})
	for i := range 2 {
		c.postEvent(fmt.Sprintf("lower-%s-%d", tenant, i), map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
	}
	waitFor(t, 10*time.Second, "two failures counted", func() bool {
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		return h["consecutive_failures"] == float64(2)
	})
	status, out := c.do("PATCH", "/v1/endpoints/"+epID, map[string]any{"pause_threshold": 2})
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, models.EndpointPaused, out["state"], "%v", out)
}
