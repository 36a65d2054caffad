package engine

import (
	"context"
	"errors"

	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// The activities reach Temporal through the engine without importing
// workflows: it is the Deliverer's health reporter and the health
// activities' redeliverer.
var (
	_ activities.HealthReporter = (*Temporal)(nil)
	_ activities.Redeliverer    = (*Temporal)(nil)
)

// ReportAttempt signals the endpoint's health workflow, starting it if needed.
func (t *Temporal) ReportAttempt(ctx context.Context, r activities.AttemptReport) error {
	ep, err := t.store.GetEndpoint(ctx, r.EndpointID)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return workflows.SignalEndpoint(ctx, t.client, ep, workflows.SignalAttempt, r)
}

// Release wakes a held delivery and returns once the workflow task that
// made its released attempt is done; if its workflow is not running any
// more, a new run is started.
func (t *Temporal) Release(ctx context.Context, d *models.Delivery) error {
	h, err := t.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.DeliveryWorkflowID(d.EndpointID, d.EventID),
		UpdateName:   workflows.UpdateRelease,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if isNotFound(err) {
		return t.Redeliver(ctx, d, models.TriggerSchedule)
	}
	return err
}

// Redeliver starts a new run of d with its endpoint's schedule (nothing if
// d or its endpoint is gone).
func (t *Temporal) Redeliver(ctx context.Context, d *models.Delivery, trigger string) error {
	_, err := t.StartAgain(ctx, d.ID, Redelivery{Trigger: trigger})
	return err
}
