// Package engine is hookd's one adapter to Temporal: it starts, signals,
// wakes and stops the workflows of deliveries and endpoints. The operations
// (package operations), the activities and the reconciler all reach Temporal
// through an engine.Temporal built once per process by package app.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// Client is what the engine needs of a Temporal client (client.Client has it all).
type Client interface {
	workflows.Starter
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	TerminateWorkflow(ctx context.Context, workflowID, runID, reason string, details ...any) error
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// Temporal runs hookd's workflows on a Temporal client, reading from the
// store what a start needs (endpoint, event).
type Temporal struct {
	store  *models.Store
	client Client
}

// New returns the engine over store and c.
func New(store *models.Store, c Client) *Temporal {
	return &Temporal{store: store, client: c}
}

// StartParallelism bounds concurrent workflow starts (or stops) of one call.
const StartParallelism = 32

// Redelivery says how StartAgain starts a new run of a delivery.
type Redelivery struct {
	// Trigger is recorded on the run's first attempt (models.Trigger…).
	Trigger string
	// SingleAttempt makes one attempt and no retries (a manual retry);
	// otherwise the run follows the endpoint's retry schedule.
	SingleAttempt bool
	// OnlyPending starts the run only if the delivery is still pending
	// (the reconciler: a run that finished it wrote its status first).
	OnlyPending bool
}

// StartAgain loads a delivery and starts a new run of its workflow (a run
// still open is left alone). It reports whether it started one: not when
// the delivery or its endpoint is gone, nor, with OnlyPending, when the
// delivery is no longer pending.
func (t *Temporal) StartAgain(ctx context.Context, deliveryID string, r Redelivery) (bool, error) {
	w, err := t.store.LoadDeliveryWork(ctx, deliveryID)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if r.OnlyPending && w.Delivery.Status != models.DeliveryPending {
		return false, nil
	}
	schedule := w.Endpoint.RetrySchedule
	if r.SingleAttempt {
		schedule = nil
	}
	err = workflows.StartDelivery(ctx, t.client, workflows.DeliveryStart{
		Delivery: &w.Delivery, Endpoint: &w.Endpoint, EventType: w.Event.Type, TenantID: w.Event.TenantID,
		Trigger: r.Trigger, Schedule: schedule, Reuse: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	})
	return err == nil, err
}

// StartDeliveries starts one Delivery workflow per delivery of a new event,
// StartParallelism at a time. It is idempotent: a delivery whose workflow
// already runs or ran is left alone. eps holds the endpoints by id; one
// missing is loaded, and its delivery skipped if the endpoint is gone.
func (t *Temporal) StartDeliveries(ctx context.Context, ev *models.Event, ds []models.Delivery, eps map[string]*models.Endpoint) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, StartParallelism)
	)
	for i := range ds {
		ep, err := t.endpointOf(ctx, ds[i].EndpointID, eps)
		if err != nil {
			return err
		}
		if ep == nil {
			continue
		}
		start := workflows.DeliveryStart{Delivery: &ds[i], Endpoint: ep, EventType: ev.Type, TenantID: ev.TenantID,
			Trigger: models.TriggerSchedule, Schedule: ep.RetrySchedule, Reuse: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := workflows.StartDelivery(ctx, t.client, start); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// endpointOf is eps[id], or the endpoint loaded from the store; nil if it is gone.
func (t *Temporal) endpointOf(ctx context.Context, id string, eps map[string]*models.Endpoint) (*models.Endpoint, error) {
	if ep := eps[id]; ep != nil {
		return ep, nil
	}
	ep, err := t.store.GetEndpoint(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return ep, err
}

// RetryNow asks a delivery's open run for an attempt now. running is false
// when no run of it is open (nothing was signalled).
func (t *Temporal) RetryNow(ctx context.Context, d *models.Delivery) (running bool, err error) {
	err = t.client.SignalWorkflow(ctx, workflows.DeliveryWorkflowID(d.EndpointID, d.EventID), "", workflows.SignalRetryNow, nil)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("signal retry-now to delivery %s: %w", d.ID, err)
	}
	return true, nil
}

// DeliveryRunning reports whether a run of d's workflow is open.
func (t *Temporal) DeliveryRunning(ctx context.Context, d *models.Delivery) (bool, error) {
	desc, err := t.client.DescribeWorkflowExecution(ctx, workflows.DeliveryWorkflowID(d.EndpointID, d.EventID), "")
	switch {
	case isNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// Ready checks that Temporal answers.
func (t *Temporal) Ready(ctx context.Context) error {
	_, err := t.client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
