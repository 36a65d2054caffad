// Package worker registers hookd's workflows and activities on the task queue
// and runs them.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/workflows"
)

// Options tune a worker's concurrency; zero values take the defaults below.
type Options struct {
	WorkflowTaskPollers          int // default 8
	MaxConcurrentWorkflowTasks   int // default 500
	MaxConcurrentLocalActivities int // default 1000
}

// New returns a worker (not yet started) that runs hookd's workflows, with d
// doing the attempts.
func New(c client.Client, d *activities.Deliverer, o Options) sdkworker.Worker {
	if o.WorkflowTaskPollers == 0 {
		o.WorkflowTaskPollers = 8
	}
	if o.MaxConcurrentWorkflowTasks == 0 {
		o.MaxConcurrentWorkflowTasks = 500
	}
	if o.MaxConcurrentLocalActivities == 0 {
		o.MaxConcurrentLocalActivities = 1000
	}
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:        o.WorkflowTaskPollers,
		MaxConcurrentWorkflowTaskExecutionSize:  o.MaxConcurrentWorkflowTasks,
		MaxConcurrentLocalActivityExecutionSize: o.MaxConcurrentLocalActivities,
		// hookd only uses local activities; no activity task polling needed.
		LocalActivityWorkerOnly: true,
	})
	w.RegisterWorkflow(workflows.Delivery)
	w.RegisterActivity(d)
	return w
}
