package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
	"github.com/hookd/hookd/workflows"
)

// fakeClient records the workflows the engine starts; it runs nothing.
// Workflows it does not know are not found.
type fakeClient struct {
	client.Client
	mu         sync.Mutex
	starts     []client.StartWorkflowOptions
	inputs     []workflows.DeliveryInput
	terminated []string
	failOn     string // a workflow id whose terminate fails
}

func (f *fakeClient) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, o)
	if in, ok := args[0].(workflows.DeliveryInput); ok {
		f.inputs = append(f.inputs, in)
	}
	return nil, nil
}

func (f *fakeClient) SignalWorkflow(_ context.Context, id, _, _ string, _ any) error {
	return serviceerror.NewNotFound(id)
}

func (f *fakeClient) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, serviceerror.NewNotFound(o.WorkflowID)
}

func (f *fakeClient) TerminateWorkflow(_ context.Context, id, _, _ string, _ ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.terminated = append(f.terminated, id)
	if id == f.failOn {
		return errors.New("unreachable")
	}
	return serviceerror.NewNotFound(id)
}

func (f *fakeClient) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, serviceerror.NewNotFound(id)
}

// seed stores an endpoint and n events for it, each with its pending delivery.
func seed(t *testing.T, s *models.Store, n int) (*models.Endpoint, []models.Delivery) {
	ctx := context.Background()
	now := time.Now().UTC()
	ep := &models.Endpoint{ID: models.NewID("ep"), TenantID: models.NewID("tenant"), URL: "https://example.com", EventTypes: []string{"*"},
		Profile: "standard", Secret: "whsec_x", RetrySchedule: models.Schedule{time.Minute}, TimeoutMS: 2000,
		PauseThreshold: 10, State: models.EndpointActive, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, s.CreateEndpoint(ctx, ep))
	var ds []models.Delivery
	for range n {
		in, err := s.IngestEvent(ctx, models.Event{ID: models.NewID("evt"), TenantID: ep.TenantID, Type: "a.b", Payload: `{}`,
			OccurredAt: now, IdempotencyKey: models.NewID("key"), RequestHash: "h", CreatedAt: now}, []models.Endpoint{*ep})
		require.NoError(t, err)
		ds = append(ds, in.Deliveries...)
	}
	return ep, ds
}

func TestStartAgainLoadsTheDeliveryAndStartsANewRun(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		fc := &fakeClient{}
		eng, ctx := New(s, fc), context.Background()
		ep, ds := seed(t, s, 1)
		started, err := eng.StartAgain(ctx, ds[0].ID, Redelivery{Trigger: models.TriggerReplay})
		require.NoError(t, err)
		require.True(t, started)
		require.Len(t, fc.starts, 1)
		require.Equal(t, workflows.DeliveryWorkflowID(ep.ID, ds[0].EventID), fc.starts[0].ID)
		require.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, fc.starts[0].WorkflowIDReusePolicy)
		require.Equal(t, models.TriggerReplay, fc.inputs[0].Trigger)
		require.Equal(t, []time.Duration{time.Minute}, fc.inputs[0].Schedule, "the endpoint's schedule")
		require.Equal(t, 2*time.Second, fc.inputs[0].AttemptTimeout)

		_, err = eng.StartAgain(ctx, ds[0].ID, Redelivery{Trigger: models.TriggerManual, SingleAttempt: true})
		require.NoError(t, err)
		require.Nil(t, fc.inputs[1].Schedule, "a single attempt has no schedule")
	})
}

func TestStartAgainStartsNothingForAGoneOrFinishedDelivery(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		fc := &fakeClient{}
		eng, ctx := New(s, fc), context.Background()
		_, ds := seed(t, s, 1)
		started, err := eng.StartAgain(ctx, "dlv_missing", Redelivery{})
		require.NoError(t, err)
		require.False(t, started)
		require.NoError(t, s.DB().Model(&models.Delivery{}).Where("id = ?", ds[0].ID).Update("status", models.DeliverySucceeded).Error)
		started, err = eng.StartAgain(ctx, ds[0].ID, Redelivery{OnlyPending: true})
		require.NoError(t, err)
		require.False(t, started, "a run finished it")
		require.Empty(t, fc.starts)
	})
}

func TestStartDeliveriesStartsEachOnceAndSkipsAGoneEndpoint(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		fc := &fakeClient{}
		eng, ctx := New(s, fc), context.Background()
		ep, ds := seed(t, s, 3)
		ev, err := s.GetEvent(ctx, ds[0].EventID)
		require.NoError(t, err)
		require.NoError(t, eng.StartDeliveries(ctx, ev, ds, map[string]*models.Endpoint{ep.ID: ep}))
		require.Len(t, fc.starts, 3)
		for _, o := range fc.starts {
			require.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, o.WorkflowIDReusePolicy)
		}
		_, err = s.DeleteEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.NoError(t, eng.StartDeliveries(ctx, ev, ds, nil), "the endpoint is looked up, and gone")
		require.Len(t, fc.starts, 3)
	})
}

func TestReleaseOfADeliveryWithoutARunStartsANewOne(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		fc := &fakeClient{}
		eng, ctx := New(s, fc), context.Background()
		_, ds := seed(t, s, 1)
		require.NoError(t, eng.Release(ctx, &ds[0]))
		require.Len(t, fc.inputs, 1)
		require.Equal(t, models.TriggerSchedule, fc.inputs[0].Trigger)

		running, err := eng.RetryNow(ctx, &ds[0])
		require.NoError(t, err)
		require.False(t, running, "no open run to signal")
		running, err = eng.DeliveryRunning(ctx, &ds[0])
		require.NoError(t, err)
		require.False(t, running)
	})
}

func TestStopEndpointIgnoresGoneWorkflowsAndNamesTheOthers(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ep, ds := seed(t, s, 2)
		fc := &fakeClient{failOn: workflows.DeliveryWorkflowID(ep.ID, ds[1].EventID)}
		err := New(s, fc).StopEndpoint(context.Background(), ep.ID, ds)
		require.ErrorContains(t, err, fc.failOn)
		require.Len(t, fc.terminated, 3, "the health workflow and both deliveries'")
		fc.failOn = ""
		require.NoError(t, New(s, fc).StopEndpoint(context.Background(), ep.ID, ds))
	})
}
