package workflows

import (
	"context"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookd/hookd/activities"
)

var (
	mockCtx = mock.Anything
	mockAny = mock.Anything
)

// notices stubs the Notify activity: it records the operational webhooks
// the workflow sends, in order, into the slice it answers.
func notices(env *testsuite.TestWorkflowEnvironment) *[]activities.NoticeInput {
	var sent []activities.NoticeInput
	var n *activities.Notifier
	env.OnActivity(n.Notify, mockCtx, mockAny).Return(func(_ context.Context, in activities.NoticeInput) error {
		sent = append(sent, in)
		return nil
	}).Maybe()
	return &sent
}
