// Package worker registers hookd's workflows and activities on the task queue
// and runs them. It also gives the activities what they need of the engine
// (reporting to and starting workflows), so activities never import workflows.
package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// Options tune a worker's concurrency; zero values take the defaults below.
type Options struct {
	WorkflowTaskPollers          int // default 8
	MaxConcurrentWorkflowTasks   int // default 500
	MaxConcurrentLocalActivities int // default 1000
}

// Deps are what the activities are built from.
type Deps struct {
	Store  *models.Store
	Client client.Client
	Logger *slog.Logger
	// Deliverer makes the attempts; its Reporter is set here.
	Deliverer *activities.Deliverer
}

// New returns a worker (not yet started) that runs hookd's workflows.
func New(d Deps, o Options) sdkworker.Worker {
	if o.WorkflowTaskPollers == 0 {
		o.WorkflowTaskPollers = 8
	}
	if o.MaxConcurrentWorkflowTasks == 0 {
		o.MaxConcurrentWorkflowTasks = 500
	}
	if o.MaxConcurrentLocalActivities == 0 {
		o.MaxConcurrentLocalActivities = 1000
	}
	engine := &engine{store: d.Store, client: d.Client}
	d.Deliverer.Reporter = engine
	w := sdkworker.New(d.Client, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:        o.WorkflowTaskPollers,
		MaxConcurrentWorkflowTaskExecutionSize:  o.MaxConcurrentWorkflowTasks,
		MaxConcurrentLocalActivityExecutionSize: o.MaxConcurrentLocalActivities,
		// Regular activities are only the endpoint workflow's release and replay jobs.
		MaxConcurrentActivityTaskPollers: 2,
		// On shutdown, in-flight attempts may finish (their timeout is at
		// most a minute); what does not is handed back to Temporal and retried.
		WorkerStopTimeout: 75 * time.Second,
	})
	w.RegisterWorkflow(workflows.Delivery)
	w.RegisterWorkflow(workflows.EndpointHealth)
	w.RegisterActivity(d.Deliverer)
	w.RegisterActivity(&activities.Health{Store: d.Store, Deliveries: engine, Logger: d.Logger})
	return w
}

// engine implements the activities' view of Temporal.
type engine struct {
	store  *models.Store
	client client.Client
}

// ReportAttempt signals the endpoint's health workflow, starting it if needed.
func (e *engine) ReportAttempt(ctx context.Context, r activities.AttemptReport) error {
	ep, err := e.store.GetEndpoint(ctx, r.EndpointID)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return workflows.SignalEndpoint(ctx, e.client, ep, workflows.SignalAttempt, r)
}

// Release wakes a held delivery and returns once the workflow task that
// made its released attempt is done; if its workflow is not running any
// more, a new run is started.
func (e *engine) Release(ctx context.Context, d *models.Delivery) error {
	h, err := e.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.DeliveryWorkflowID(d.EndpointID, d.EventID),
		UpdateName:   workflows.UpdateRelease,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return e.Redeliver(ctx, d, models.TriggerSchedule)
	}
	return err
}

// Redeliver starts a new run of d with its endpoint's schedule.
func (e *engine) Redeliver(ctx context.Context, d *models.Delivery, trigger string) error {
	w, err := e.store.LoadDeliveryWork(ctx, d.ID)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return workflows.StartDelivery(ctx, e.client, workflows.DeliveryStart{Delivery: &w.Delivery, Endpoint: &w.Endpoint,
		EventType: w.Event.Type, TenantID: w.Event.TenantID, Trigger: trigger, Schedule: w.Endpoint.RetrySchedule,
		Reuse: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE})
}
