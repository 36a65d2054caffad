// Package worker registers hookd's workflows and activities on the task queue
// and runs them, and reconciles deliveries whose workflow went missing. The
// activities reach the engine through package engine, built by package app
// and passed in here, so activities never import workflows.
package worker

import (
	"log/slog"
	"time"

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
	// Deliverer makes the attempts, built with its health reporter (the engine).
	Deliverer *activities.Deliverer
	// Engine moves deliveries along for the health activities (release, replay).
	Engine activities.Redeliverer
	// Notifier sends the operational webhooks the workflows ask for.
	Notifier *activities.Notifier
}

// StopTimeout is how long a stopping worker lets its in-flight tasks finish:
// an attempt runs at most operations.MaxAttemptTimeout, plus the time to
// record it; what has not finished by then is handed back to Temporal and
// retried elsewhere. A supervisor's grace period (deploy/helm's worker
// terminationGracePeriodSeconds) must be longer.
const StopTimeout = 75 * time.Second

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
	w := sdkworker.New(d.Client, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:        o.WorkflowTaskPollers,
		MaxConcurrentWorkflowTaskExecutionSize:  o.MaxConcurrentWorkflowTasks,
		MaxConcurrentLocalActivityExecutionSize: o.MaxConcurrentLocalActivities,
		// Regular activities are only the endpoint workflow's release and
		// replay jobs, retention's prune batches and the operational webhooks.
		MaxConcurrentActivityTaskPollers: 2,
		// On shutdown, in-flight attempts may finish (their timeout is at
		// most a minute); what does not is handed back to Temporal and retried.
		WorkerStopTimeout: StopTimeout,
	})
	w.RegisterWorkflow(workflows.Delivery)
	w.RegisterWorkflow(workflows.EndpointHealth)
	w.RegisterWorkflow(workflows.Prune)
	w.RegisterActivity(d.Deliverer)
	w.RegisterActivity(&activities.Health{Store: d.Store, Deliveries: d.Engine, Logger: d.Logger})
	w.RegisterActivity(&activities.Retention{Store: d.Store})
	if d.Notifier != nil {
		w.RegisterActivity(d.Notifier)
	}
	return w
}
