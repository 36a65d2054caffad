package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// Workflow inputs and histories are visible to anyone with the Temporal UI:
// they must never hold an endpoint's secret or its URL.
func TestSecretsNeverReachWorkflowHistory(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, func(n int) int { return map[bool]int{true: 500, false: 200}[n == 1] })
	tenant := models.NewID("tenant")
	const secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
	epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL + "/private-path", "tenant_id": tenant, "secret": secret,
		"retry_schedule": []string{"50ms"}, "pause_threshold": 1})
	ev := c.postEvent("secret-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})

	// One failure pauses it (threshold 1), the retry is held; unpause releases it.
	waitFor(t, 10*time.Second, "paused", func() bool {
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		return h["state"] == models.EndpointPaused
	})
	c.do("POST", "/v1/endpoints/"+epID+"/unpause", nil)
	ctx := context.Background()
	waitFor(t, 10*time.Second, "delivery workflow completed", func() bool {
		d, err := hookd.Temporal.DescribeWorkflowExecution(ctx, workflows.DeliveryWorkflowID(epID, ev["id"].(string)), "")
		require.NoError(t, err)
		return d.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	for _, id := range []string{workflows.DeliveryWorkflowID(epID, ev["id"].(string)), workflows.EndpointWorkflowID(epID)} {
		var text strings.Builder
		it := hookd.Temporal.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		events := 0
		for it.HasNext() {
			e, err := it.Next()
			require.NoError(t, err)
			// Binary form: payload bytes appear as they are (JSON text).
			b, err := proto.Marshal(e)
			require.NoError(t, err)
			text.Write(b)
			events++
		}
		require.NotZero(t, events, id)
		h := text.String()
		// The search would find what is there: the endpoint id and the attempt's error are.
		require.Contains(t, h, epID)
		require.Contains(t, h, "HTTP 500")
		require.NotContains(t, h, secret, "%s history holds the secret", id)
		require.NotContains(t, h, "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "%s history holds the secret's key", id)
		require.NotContains(t, h, "private-path", "%s history holds the endpoint URL", id)
	}
}
