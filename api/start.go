package api

import (
	"context"
	"errors"
	"fmt"
	"sync"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// startParallelism bounds concurrent workflow starts for one fan-out.
const startParallelism = 32

// startDeliveries starts one Delivery workflow per delivery. It is idempotent:
// a delivery whose workflow already runs or ran is left alone. Missing
// endpoints in eps are loaded from the store.
func (a *API) startDeliveries(ctx context.Context, ev *models.Event, ds []models.Delivery, eps map[string]*models.Endpoint, trigger string) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, startParallelism)
	)
	for i := range ds {
		d := &ds[i]
		ep := eps[d.EndpointID]
		if ep == nil {
			loaded, err := a.store.GetEndpoint(ctx, d.EndpointID)
			if errors.Is(err, models.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			ep = loaded
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := a.startDelivery(ctx, ev, d, ep, trigger, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startDelivery starts the workflow of one delivery. With reuse policy
// REJECT_DUPLICATE an existing run (running or closed) counts as started.
func (a *API) startDelivery(ctx context.Context, ev *models.Event, d *models.Delivery, ep *models.Endpoint,
	trigger string, reuse enumspb.WorkflowIdReusePolicy) error {
	opts := client.StartWorkflowOptions{
		ID:                    workflows.DeliveryWorkflowID(d.EndpointID, d.EventID),
		TaskQueue:             workflows.TaskQueue,
		EnableEagerStart:      true,
		WorkflowIDReusePolicy: reuse,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SAEndpointID.ValueSet(d.EndpointID),
			workflows.SAEventID.ValueSet(d.EventID),
			workflows.SAEventType.ValueSet(ev.Type),
			workflows.SATenant.ValueSet(ev.TenantID),
			workflows.SADeliveryStatus.ValueSet(models.DeliveryPending),
		),
	}
	_, err := a.temporal.ExecuteWorkflow(ctx, opts, workflows.Delivery, workflows.DeliveryInput{
		DeliveryID:     d.ID,
		EndpointID:     d.EndpointID,
		EventID:        d.EventID,
		Schedule:       ep.RetrySchedule,
		AttemptTimeout: ep.Timeout(),
		Trigger:        trigger,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start delivery %s: %w", d.ID, err)
	}
	return nil
}
