package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
)

// changeOperationalWebhooks marks, in an EndpointHealth run's history,
// that the run sends operational webhooks (activities.Notifier): when it
// pauses or unpauses its endpoint, and when an attempt's report says that a
// delivery used up its schedule (delivery.exhausted) or that the receiver
// answered 410 Gone (endpoint.disabled). The endpoint's workflow sends them,
// not the Delivery, so that a delivery's run ends as soon as its last
// attempt is recorded, as before. Runs started by older code sent none, and
// still send none when they are replayed.
const changeOperationalWebhooks = "operational-webhooks"

// noticeOptions are the options of the Notify activity: a regular
// activity, retried by the server for as long as it takes (hookd's own
// outage must not lose a notice), which costs the run's history three
// events however long that is.
var noticeOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// sendNotice sends one operational webhook; it returns only nil or a
// cancellation.
func sendNotice(ctx workflow.Context, n activities.NoticeInput) error {
	var act *activities.Notifier
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, noticeOptions), act.Notify, n).Get(ctx, nil)
}
