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

// DeliveryStart is what starting a delivery's workflow takes.
type DeliveryStart struct {
	Delivery  *models.Delivery
	Endpoint  *models.Endpoint
	EventType string
	TenantID  string
	// Trigger is recorded on the run's first attempt (models.Trigger…).
	Trigger string
	// Schedule is the retry schedule; nil makes a single attempt.
	Schedule []time.Duration
	Reuse    enumspb.WorkflowIdReusePolicy
}

// StartDelivery starts the Delivery workflow of s.Delivery. With reuse
// REJECT_DUPLICATE it is idempotent: an open or closed run of the same id
// counts as started. With ALLOW_DUPLICATE it starts a new run after a closed
// one (replay, manual retry); a run still open is left alone.
func StartDelivery(ctx context.Context, c Starter, s DeliveryStart) error {
	d := s.Delivery
	opts := client.StartWorkflowOptions{
		ID:                    DeliveryWorkflowID(d.EndpointID, d.EventID),
		TaskQueue:             TaskQueue,
		EnableEagerStart:      true,
		WorkflowIDReusePolicy: s.Reuse,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SAEndpointID.ValueSet(d.EndpointID),
			SAEventID.ValueSet(d.EventID),
			SAEventType.ValueSet(s.EventType),
			SATenant.ValueSet(s.TenantID),
			SADeliveryStatus.ValueSet(models.DeliveryPending),
		),
	}
	_, err := c.ExecuteWorkflow(ctx, opts, Delivery, DeliveryInput{
		DeliveryID:     d.ID,
		EndpointID:     d.EndpointID,
		EventID:        d.EventID,
		Schedule:       s.Schedule,
		AttemptTimeout: s.Endpoint.Timeout(),
		Trigger:        s.Trigger,
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
