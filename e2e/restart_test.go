package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

func TestDevDataSurvivesARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server twice")
	}
	dir := t.TempDir()
	rcv := newReceiver(t, always(200))

	first, err := startDev(dir)
	require.NoError(t, err)
	c := &client{t: t, base: first.APIURL, key: apiKey}
	epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": "restart"})
	ev := c.postEvent("restart-1", map[string]any{"type": "a.b", "tenant_id": "restart", "payload": map[string]any{}})
	evID := ev["id"].(string)
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(rcv.requests()) == 1 })
	first.Stop(context.Background())

	second, err := startDev(dir)
	require.NoError(t, err)
	defer second.Stop(context.Background())
	c = &client{t: t, base: second.APIURL, key: apiKey}
	status, ep := c.do("GET", "/v1/endpoints/"+epID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "restart", ep["tenant_id"])
	waitFor(t, 10*time.Second, "delivery status after restart", func() bool {
		_, list := c.do("GET", "/v1/deliveries?event_id="+evID, nil)
		data := list["data"].([]any)
		return len(data) == 1 && data[0].(map[string]any)["status"] == models.DeliverySucceeded
	})
	waitFor(t, 10*time.Second, "the workflow, completed, is still in the embedded server", func() bool {
		desc, err := second.Temporal.DescribeWorkflowExecution(context.Background(), workflows.DeliveryWorkflowID(epID, evID), "")
		require.NoError(t, err)
		return desc.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})

	// A new event after the restart is delivered too.
	c.postEvent("restart-2", map[string]any{"type": "a.b", "tenant_id": "restart", "payload": map[string]any{}})
	waitFor(t, 10*time.Second, "delivery after restart", func() bool { return len(rcv.requests()) == 2 })
}
