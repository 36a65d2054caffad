// Package workflows holds hookd's Temporal workflows: Delivery, one per
// (event, endpoint); EndpointHealth, one per endpoint; and Prune, which the
// schedule hookd-retention (RetentionScheduleID) starts every hour to
// delete finished data older than HOOKD_RETENTION. Workflows never touch the database or the network
// themselves; every side effect is an activity in package activities.
//
// Workflow ids, signals and search attributes are part of hookd's interface:
// operators use them from the Temporal UI and the temporal CLI.
//
// So is workflow history: a worker must replay the histories of runs that
// older code started. testdata holds histories recorded from real runs
// (e2e/record_histories_test.go writes them); a test replays every one
// against the code as it is. A change that fails it needs workflow.GetVersion,
// not a new recording: branch on the version where the commands differ, keep
// the old branch for as long as runs started by older code can be open (a
// delivery's ~26 h, or until its endpoint is unpaused when held), and record
// the new path under a new name beside the old history. Delivery's finish
// is the example (changeExhaustedFails). Workflow and activity arguments and results are
// types of this package or of package activities, never storage structs.
package workflows

import (
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the one task queue hookd's workers poll.
const TaskQueue = "hookd"

// DeliveryWorkflowID is the id of the workflow delivering eventID to endpointID.
func DeliveryWorkflowID(endpointID, eventID string) string {
	return "delivery/" + endpointID + "/" + eventID
}

// RetentionScheduleID is the Temporal Schedule hookd creates to run Prune
// every hour; the id of each workflow it starts begins with it. Operators
// may pause it in the Temporal UI; hookd leaves a pause alone.
const RetentionScheduleID = "hookd-retention"

// EndpointWorkflowID is the id of the endpoint's long-running health workflow.
func EndpointWorkflowID(endpointID string) string {
	return "endpoint/" + endpointID
}

// Signals and queries.
const (
	// SignalRetryNow asks a delivery for one more attempt now, outside its
	// schedule (the schedule is not consumed).
	SignalRetryNow = "retry-now"
	// SignalRelease wakes a held delivery after its endpoint is unpaused.
	SignalRelease = "release"
	// UpdateRelease does the same as an update, which is how hookd itself
	// releases: an update reaches the worker directly through matching (a
	// signal waits for the history shard's next transfer-queue read), and it
	// answers once the workflow task that made the released attempt is done.
	UpdateRelease = "release"

	// SignalAttempt reports an attempt's outcome to the endpoint workflow
	// (sent by hookd itself on failures and on recoveries only).
	SignalAttempt = "attempt"
	// SignalPause pauses an endpoint: {"reason": "…"}.
	SignalPause = "pause"
	// SignalUnpause unpauses it and delivers its held deliveries, oldest first.
	SignalUnpause = "unpause"
	// SignalReplay redelivers a time range: {"since","until","only_failed"}.
	SignalReplay = "replay"
	// SignalSettings tells the endpoint workflow that the endpoint's
	// settings changed (sent by hookd on a PATCH of pause_threshold): it
	// reads its pause threshold again from the store. No payload.
	SignalSettings = "settings"
	// QueryHealth answers the endpoint's EndpointState.
	QueryHealth = "health"
)

// Search attributes set on every delivery so the Temporal UI can filter
// deliveries, e.g. HookdEndpointId = "ep_…" AND HookdDeliveryStatus = "failed".
var (
	SAEndpointID     = temporal.NewSearchAttributeKeyKeyword("HookdEndpointId")
	SAEventID        = temporal.NewSearchAttributeKeyKeyword("HookdEventId")
	SAEventType      = temporal.NewSearchAttributeKeyKeyword("HookdEventType")
	SATenant         = temporal.NewSearchAttributeKeyKeyword("HookdTenant")
	SADeliveryStatus = temporal.NewSearchAttributeKeyKeyword("HookdDeliveryStatus")
)

// SearchAttributes is what hookd registers on its namespace at start-up.
func SearchAttributes() map[string]enums.IndexedValueType {
	out := map[string]enums.IndexedValueType{}
	for _, k := range []temporal.SearchAttributeKeyKeyword{SAEndpointID, SAEventID, SAEventType, SATenant, SADeliveryStatus} {
		out[k.GetName()] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	return out
}
