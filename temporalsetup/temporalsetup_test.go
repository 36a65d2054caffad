package temporalsetup

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	"github.com/hookd/hookd/workflows"
)

// cluster is the part of a Temporal frontend RegisterSearchAttributes talks
// to: it has the attributes in have, and answers an add with addErr.
type cluster struct {
	client.Client
	have   map[string]enums.IndexedValueType
	addErr error
	added  map[string]enums.IndexedValueType
}

func (c *cluster) OperatorService() operatorservice.OperatorServiceClient { return operator{c: c} }
func (c *cluster) WorkflowService() workflowservice.WorkflowServiceClient { return frontend{} }

type operator struct {
	operatorservice.OperatorServiceClient
	c *cluster
}

func (o operator) ListSearchAttributes(context.Context, *operatorservice.ListSearchAttributesRequest, ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error) {
	return &operatorservice.ListSearchAttributesResponse{CustomAttributes: o.c.have}, nil
}

func (o operator) AddSearchAttributes(_ context.Context, req *operatorservice.AddSearchAttributesRequest, _ ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error) {
	o.c.added = req.GetSearchAttributes()
	return &operatorservice.AddSearchAttributesResponse{}, o.c.addErr
}

// frontend knows every attribute at once.
type frontend struct {
	workflowservice.WorkflowServiceClient
}

func (frontend) CountWorkflowExecutions(context.Context, *workflowservice.CountWorkflowExecutionsRequest, ...grpc.CallOption) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	return &workflowservice.CountWorkflowExecutionsResponse{}, nil
}

func TestRegisterSearchAttributesAddsTheMissingOnes(t *testing.T) {
	c := &cluster{}
	require.NoError(t, RegisterSearchAttributes(context.Background(), c, "default"))
	require.Equal(t, workflows.SearchAttributes(), c.added)
}

func TestRegisterSearchAttributesLeavesExistingOnesAlone(t *testing.T) {
	c := &cluster{have: workflows.SearchAttributes()}
	require.NoError(t, RegisterSearchAttributes(context.Background(), c, "default"))
	require.Nil(t, c.added, "nothing to add")
}

func TestSearchAttributesAnotherProcessAddedFirstAreNoError(t *testing.T) {
	c := &cluster{addErr: serviceerror.NewAlreadyExists("Search attribute HookdEndpointID already exists.")}
	require.NoError(t, RegisterSearchAttributes(context.Background(), c, "default"))
}

func TestARefusedAddOfSearchAttributesIsAnError(t *testing.T) {
	c := &cluster{addErr: serviceerror.NewPermissionDenied("not allowed", "")}
	require.ErrorContains(t, RegisterSearchAttributes(context.Background(), c, "default"), "add search attributes: not allowed")
}
