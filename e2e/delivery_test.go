package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

func TestSignedDeliveryArrivesVerifiesAndIsRetriedWithTheSameID(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, func(n int) int { return map[bool]int{true: 500, false: 200}[n < 3] })
	tenant := models.NewID("tenant")
	epID, secret := c.createEndpoint(map[string]any{
		"url": rcv.URL + "/hook", "tenant_id": tenant, "event_types": []string{"lead.*"},
		"retry_schedule": []string{"200ms", "200ms", "200ms"},
	})
	require.Regexp(t, `^whsec_`, secret)

	ev := c.postEvent("signed-"+tenant, map[string]any{
		"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"id": "lead_1", "name": "Ada <&> Lovelace"},
	})
	evID := ev["id"].(string)
	deliveries := ev["deliveries"].([]any)
	require.Len(t, deliveries, 1)
	dlvID := deliveries[0].(map[string]any)["id"].(string)

	waitFor(t, 20*time.Second, "three attempts", func() bool { return len(rcv.requests()) >= 3 })
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	for i, r := range rcv.requests() {
		require.NoError(t, wh.Verify(r.Body, r.Header), "attempt %d verifies with an independent Standard Webhooks library", i+1)
		require.Equal(t, evID, r.Header.Get("webhook-id"), "webhook-id is the event id on every attempt")
		var body struct {
			Type      string         `json:"type"`
			Timestamp time.Time      `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		require.Equal(t, "lead.created", body.Type)
		require.Equal(t, map[string]any{"id": "lead_1", "name": "Ada <&> Lovelace"}, body.Data)
	}
	reqs := rcv.requests()
	require.GreaterOrEqual(t, reqs[1].At.Sub(reqs[0].At), 200*time.Millisecond, "the schedule's wait is kept")

	var delivery map[string]any
	waitFor(t, 10*time.Second, "delivery succeeded", func() bool {
		status, out := c.do("GET", "/v1/deliveries/"+dlvID, nil)
		require.Equal(t, http.StatusOK, status)
		delivery = out
		return out["status"] == models.DeliverySucceeded
	})
	require.Equal(t, float64(3), delivery["attempt_count"])
	attempts := delivery["attempts"].([]any)
	require.Len(t, attempts, 3)
	var codes []float64
	for _, a := range attempts {
		a := a.(map[string]any)
		codes = append(codes, a["status_code"].(float64))
		require.Equal(t, models.TriggerSchedule, a["trigger"])
		require.Contains(t, a["response_excerpt"], "answer")
	}
	require.Equal(t, []float64{500, 500, 200}, codes)

	status, list := c.do("GET", "/v1/deliveries?event_id="+evID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, list["data"], 1)
	require.Equal(t, dlvID, list["data"].([]any)[0].(map[string]any)["id"])

	// The delivery is a Temporal workflow with filterable search attributes.
	ctx := context.Background()
	wfID := workflows.DeliveryWorkflowID(epID, evID)
	var desc *workflowservice.DescribeWorkflowExecutionResponse
	waitFor(t, 10*time.Second, "workflow completed", func() bool {
		var err error
		desc, err = hookd.Temporal.DescribeWorkflowExecution(ctx, wfID, "")
		require.NoError(t, err)
		return desc.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	sa := map[string]string{}
	for k, p := range desc.WorkflowExecutionInfo.SearchAttributes.GetIndexedFields() {
		var v any
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &v))
		if list, ok := v.([]any); ok && len(list) == 1 { // some visibility stores answer keywords as one-element lists
			v = list[0]
		}
		sa[k] = fmt.Sprint(v)
	}
	require.Equal(t, epID, sa["HookdEndpointId"])
	require.Equal(t, evID, sa["HookdEventId"])
	require.Equal(t, "lead.created", sa["HookdEventType"])
	require.Equal(t, tenant, sa["HookdTenant"])
	require.Equal(t, models.DeliverySucceeded, sa["HookdDeliveryStatus"])

	waitFor(t, 10*time.Second, "visibility query finds the delivery", func() bool {
		resp, err := hookd.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "HookdEndpointId = '" + epID + "' AND HookdDeliveryStatus = 'succeeded'",
		})
		require.NoError(t, err)
		return len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == wfID
	})
}

func TestExhaustedScheduleMarksTheDeliveryFailed(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(503))
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{"50ms", "50ms"}})
	ev := c.postEvent("exhaust-"+tenant, map[string]any{"type": "deal.lost", "tenant_id": tenant, "payload": map[string]any{}})
	dlvID := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)

	waitFor(t, 20*time.Second, "delivery failed", func() bool {
		_, out := c.do("GET", "/v1/deliveries/"+dlvID, nil)
		return out["status"] == models.DeliveryFailed
	})
	_, out := c.do("GET", "/v1/deliveries/"+dlvID, nil)
	require.Len(t, out["attempts"], 3, "first attempt plus one per schedule entry")
	require.Equal(t, "HTTP 503", out["last_error"])
	require.Nil(t, out["next_attempt_at"])
	require.Len(t, rcv.requests(), 3)

	// Its workflow ended as failed, not completed: what Temporal's Failures
	// view and `temporal workflow list --query "ExecutionStatus = 'Failed'"` show.
	ctx := context.Background()
	wfID := workflows.DeliveryWorkflowID(out["endpoint_id"].(string), ev["id"].(string))
	waitFor(t, 10*time.Second, "the exhausted delivery's workflow is listed as failed", func() bool {
		resp, err := hookd.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s' AND ExecutionStatus = 'Failed'", wfID),
		})
		require.NoError(t, err)
		return len(resp.Executions) == 1
	})
	var res workflows.DeliveryResult
	err := hookd.Temporal.GetWorkflow(ctx, wfID, "").Get(ctx, &res)
	require.ErrorContains(t, err, "3 attempts, last: HTTP 503")
	require.NoError(t, workflows.Outcome(err, &res))
	require.Equal(t, workflows.DeliveryResult{Status: models.DeliveryFailed, Attempts: 3}, res)
}

func TestUnreachableEndpointIsAFailedAttemptWithAClearError(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(200))
	url := rcv.URL
	rcv.Close() // nothing listens there any more: connection refused
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": url, "tenant_id": tenant, "retry_schedule": []string{}})
	ev := c.postEvent("refused-"+tenant, map[string]any{"type": "x", "tenant_id": tenant, "payload": map[string]any{}})
	dlvID := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	waitFor(t, 20*time.Second, "delivery failed", func() bool {
		_, out := c.do("GET", "/v1/deliveries/"+dlvID, nil)
		return out["status"] == models.DeliveryFailed
	})
	_, out := c.do("GET", "/v1/deliveries/"+dlvID, nil)
	att := out["attempts"].([]any)[0].(map[string]any)
	require.Contains(t, att["error"], "connection refused")
	require.Nil(t, att["status_code"])
}

func TestSameIdempotencyKeyReturnsTheSameEventAndDeliversOnce(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(204))
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	body := map[string]any{"type": "order.completed", "tenant_id": tenant, "payload": map[string]any{"n": 1}}
	first := c.postEvent("idem-"+tenant, body)
	waitFor(t, 10*time.Second, "first delivery", func() bool { return len(rcv.requests()) == 1 })

	status, second := c.do("POST", "/v1/events", body, "Idempotency-Key", "idem-"+tenant)
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, first["id"], second["id"])
	require.Equal(t, first["deliveries"].([]any)[0].(map[string]any)["id"], second["deliveries"].([]any)[0].(map[string]any)["id"])

	body["payload"] = map[string]any{"n": 2}
	status, conflict := c.do("POST", "/v1/events", body, "Idempotency-Key", "idem-"+tenant)
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, "conflict", conflict["error"].(map[string]any)["code"])

	time.Sleep(500 * time.Millisecond) // room for a wrongly started second delivery to arrive
	require.Len(t, rcv.requests(), 1)
}

func TestEventForNoSubscribedEndpointIsAcceptedWithNoDeliveries(t *testing.T) {
	t.Parallel()
	c := api(t)
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/", "tenant_id": tenant, "event_types": []string{"lead.*"}})
	ev := c.postEvent("none-"+tenant, map[string]any{"type": "deal.won", "tenant_id": tenant, "payload": map[string]any{}})
	require.Empty(t, ev["deliveries"])
}

func TestTemporalUIIsServed(t *testing.T) {
	t.Parallel()
	require.NotEmpty(t, hookd.Dev.UIURL())
	resp, err := http.Get(hookd.Dev.UIURL())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
