package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookd/hookd/models"
)

// Starter is what starting workflows needs of a Temporal client.
type Starter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	SignalWithStartWorkflow(ctx context.Context, workflowID string, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
}

// StartDelivery starts the Delivery workflow of d. With reuse
// REJECT_DUPLICATE it is idempotent: an open or closed run of the same id
// counts as started. With ALLOW_DUPLICATE it starts a new run after a closed
// one (replay, manual retry); a run still open is left alone.
func StartDelivery(ctx context.Context, c Starter, d *models.Delivery, ep *models.Endpoint, eventType, tenantID,
	trigger string, schedule []time.Duration, reuse enumspb.WorkflowIdReusePolicy) error {
	opts := client.StartWorkflowOptions{
		ID:                    DeliveryWorkflowID(d.EndpointID, d.EventID),
		TaskQueue:             TaskQueue,
		EnableEagerStart:      true,
		WorkflowIDReusePolicy: reuse,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SAEndpointID.ValueSet(d.EndpointID),
			SAEventID.ValueSet(d.EventID),
			SAEventType.ValueSet(eventType),
			SATenant.ValueSet(tenantID),
			SADeliveryStatus.ValueSet(models.DeliveryPending),
		),
	}
	_, err := c.ExecuteWorkflow(ctx, opts, Delivery, DeliveryInput{
		DeliveryID:     d.ID,
		EndpointID:     d.EndpointID,
		EventID:        d.EventID,
		Schedule:       schedule,
		AttemptTimeout: ep.Timeout(),
		Trigger:        trigger,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start delivery %s: %w", d.ID, err)
	}
	return nil
}

// EndpointWorkflowOptions are the start options of an endpoint's health workflow.
func EndpointWorkflowOptions(endpointID string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       EndpointWorkflowID(endpointID),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(SAEndpointID.ValueSet(endpointID)),
	}
}

// SignalEndpoint sends a signal to an endpoint's health workflow, starting
// the workflow first if it is not running.
func SignalEndpoint(ctx context.Context, c Starter, ep *models.Endpoint, signal string, arg any) error {
	_, err := c.SignalWithStartWorkflow(ctx, EndpointWorkflowID(ep.ID), signal, arg,
		EndpointWorkflowOptions(ep.ID), EndpointHealth, NewEndpointState(ep))
	if err != nil {
		return fmt.Errorf("signal %s to endpoint %s: %w", signal, ep.ID, err)
	}
	return nil
}
