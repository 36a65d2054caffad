package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// StartEndpoint starts a new endpoint's health workflow (a running one is kept).
func (t *Temporal) StartEndpoint(ctx context.Context, ep *models.Endpoint) error {
	_, err := t.client.ExecuteWorkflow(ctx, workflows.EndpointWorkflowOptions(ep.ID),
		workflows.EndpointHealth, workflows.NewEndpointState(ep))
	if err != nil {
		return fmt.Errorf("start health workflow of endpoint %s: %w", ep.ID, err)
	}
	return nil
}

// SignalEndpoint sends signal (workflows.Signal…) to the endpoint's health
// workflow, starting the workflow first if it is not running.
func (t *Temporal) SignalEndpoint(ctx context.Context, ep *models.Endpoint, signal string, arg any) error {
	return workflows.SignalEndpoint(ctx, t.client, ep, signal, arg)
}

// StopEndpoint terminates a deleted endpoint's health workflow and the
// workflows of its open deliveries, StartParallelism at a time. A workflow
// already gone is no failure; the others are joined in the error, each
// naming its workflow id. It is best effort: a delivery workflow that is
// missed finds its endpoint gone at its next attempt and ends as cancelled.
func (t *Temporal) StopEndpoint(ctx context.Context, endpointID string, open []models.Delivery) error {
	const reason = "endpoint deleted"
	ids := []string{workflows.EndpointWorkflowID(endpointID)}
	for _, d := range open {
		ids = append(ids, workflows.DeliveryWorkflowID(d.EndpointID, d.EventID))
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, StartParallelism)
	)
	for _, wid := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := t.client.TerminateWorkflow(ctx, wid, "", reason); err != nil && !isNotFound(err) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("terminate %s: %w", wid, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
