package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
)

type deliverySuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestDelivery(t *testing.T) { suite.Run(t, new(deliverySuite)) }

func (s *deliverySuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(Delivery)
}

func (s *deliverySuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func input() DeliveryInput {
	return DeliveryInput{
		DeliveryID: "dlv_1", EndpointID: "ep_1", EventID: "evt_1",
		Schedule: models.DefaultSchedule, AttemptTimeout: 30 * time.Second, Trigger: models.TriggerSchedule,
	}
}

// scripted stubs the attempt activity: attempt k (1-based) succeeds when
// outcomes[k-1] is true. It records when each attempt ran and with what input.
type scripted struct {
	start    time.Time
	env      *testsuite.TestWorkflowEnvironment
	outcomes []bool
	at       []time.Duration
	inputs   []activities.AttemptInput
	results  []activities.AttemptResult
}

func (sc *scripted) attempt(_ context.Context, in activities.AttemptInput) (activities.AttemptResult, error) {
	n := len(sc.at)
	sc.at = append(sc.at, sc.env.Now().Sub(sc.start))
	sc.inputs = append(sc.inputs, in)
	r := activities.AttemptResult{Number: n + 1, StatusCode: 500, Error: "HTTP 500"}
	if n < len(sc.results) {
		r = sc.results[n]
		r.Number = n + 1
	} else if n < len(sc.outcomes) && sc.outcomes[n] {
		r = activities.AttemptResult{Number: n + 1, Succeeded: true, StatusCode: 200}
	}
	return r, nil
}

func (s *deliverySuite) run(sc *scripted, in DeliveryInput) DeliveryResult {
	sc.env = s.env
	sc.start = s.env.Now()
	var d *activities.Deliverer
	s.env.OnActivity(d.Attempt, mockCtx, mockAny).Return(sc.attempt)
	s.env.ExecuteWorkflow(Delivery, in)
	s.True(s.env.IsWorkflowCompleted())
	var res DeliveryResult
	s.NoError(Outcome(s.env.GetWorkflowResult(&res), &res))
	return res
}

var cumulative = []time.Duration{0, time.Minute, 6 * time.Minute, 36 * time.Minute, 156 * time.Minute, 156*time.Minute + 24*time.Hour}

func (s *deliverySuite) Test_six_failed_attempts_follow_the_default_schedule_then_the_delivery_fails() {
	s.expectStatus(models.DeliveryFailed)
	sc := &scripted{}
	res := s.run(sc, input())
	s.Equal(DeliveryResult{Status: models.DeliveryFailed, Attempts: 6}, res)
	s.Equal(cumulative, sc.at, "attempt times since start")

	// The workflow fails, readably and for good, so that Temporal's
	// Failures view and ExecutionStatus = 'Failed' show the delivery.
	var app *temporal.ApplicationError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &app)
	s.Equal(ErrTypeExhausted, app.Type())
	s.True(app.NonRetryable())
	s.Equal("6 attempts, last: HTTP 500", app.Message())
	for i, in := range sc.inputs {
		s.Equal(i == 5, in.Final, "only the sixth attempt is final")
		s.Equal(models.TriggerSchedule, in.Trigger)
		if i < 5 {
			s.Equal(models.DefaultSchedule[i], in.NextDelay)
		}
	}
}

func (s *deliverySuite) Test_success_on_attempt_three_stops_the_schedule() {
	s.expectStatus(models.DeliverySucceeded)
	sc := &scripted{outcomes: []bool{false, false, true}}
	res := s.run(sc, input())
	s.Equal(DeliveryResult{Status: models.DeliverySucceeded, Attempts: 3}, res)
	s.Equal(cumulative[:3], sc.at)
}

func (s *deliverySuite) Test_success_at_once_makes_one_attempt() {
	sc := &scripted{outcomes: []bool{true}}
	res := s.run(sc, input())
	s.Equal(DeliveryResult{Status: models.DeliverySucceeded, Attempts: 1}, res)
	s.Equal([]time.Duration{0}, sc.at)
}

func (s *deliverySuite) Test_custom_schedule_is_followed() {
	in := input()
	in.Schedule = []time.Duration{10 * time.Second, 20 * time.Second}
	sc := &scripted{}
	res := s.run(sc, in)
	s.Equal(DeliveryResult{Status: models.DeliveryFailed, Attempts: 3}, res)
	s.Equal([]time.Duration{0, 10 * time.Second, 30 * time.Second}, sc.at)
}

func (s *deliverySuite) Test_retry_after_pushes_the_next_attempt_later_never_earlier() {
	in := input()
	in.Schedule = []time.Duration{time.Minute, time.Minute}
	sc := &scripted{results: []activities.AttemptResult{
		{StatusCode: 429, RetryAfter: 10 * time.Minute}, // later than the schedule: honoured
		{StatusCode: 503, RetryAfter: time.Second},      // earlier than the schedule: ignored
		{StatusCode: 500},
	}}
	res := s.run(sc, in)
	s.Equal(models.DeliveryFailed, res.Status)
	s.Equal([]time.Duration{0, 10 * time.Minute, 11 * time.Minute}, sc.at)
}

func (s *deliverySuite) Test_retry_now_signal_attempts_at_once_without_consuming_the_schedule() {
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(SignalRetryNow, nil) }, 30*time.Second)
	in := input()
	in.Schedule = []time.Duration{time.Minute}
	sc := &scripted{}
	res := s.run(sc, in)
	s.Equal(DeliveryResult{Status: models.DeliveryFailed, Attempts: 3}, res)
	s.Equal([]time.Duration{0, 30 * time.Second, time.Minute}, sc.at)
	s.Equal(models.TriggerManual, sc.inputs[1].Trigger)
	s.False(sc.inputs[1].Final, "a manual attempt never ends the schedule")
	s.Equal(30*time.Second, sc.inputs[1].NextDelay, "next scheduled attempt is still due at 1m")
	s.True(sc.inputs[2].Final)
}

func (s *deliverySuite) Test_a_deleted_endpoint_cancels_the_delivery() {
	sc := &scripted{results: []activities.AttemptResult{{Gone: true}}}
	res := s.run(sc, input())
	s.Equal(DeliveryResult{Status: models.DeliveryCancelled, Attempts: 0}, res)
}

func (s *deliverySuite) Test_store_errors_are_retried_not_counted_as_attempts() {
	calls := 0
	var d *activities.Deliverer
	s.env.OnActivity(d.Attempt, mockCtx, mockAny).Return(func(context.Context, activities.AttemptInput) (activities.AttemptResult, error) {
		calls++
		if calls <= 3 {
			return activities.AttemptResult{}, errors.New("database is down")
		}
		return activities.AttemptResult{Succeeded: true, StatusCode: 200}, nil
	})
	s.env.ExecuteWorkflow(Delivery, input())
	s.NoError(s.env.GetWorkflowError())
	var res DeliveryResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(DeliveryResult{Status: models.DeliverySucceeded, Attempts: 1}, res)
	s.Equal(4, calls)
}

// expectStatus requires the final status to be upserted exactly once, so the
// Temporal UI can filter on it.
func (s *deliverySuite) expectStatus(want string) {
	s.env.OnUpsertTypedSearchAttributes(temporal.NewSearchAttributes(SADeliveryStatus.ValueSet(want))).Return(nil).Once()
}

func TestWorkflowIDs(t *testing.T) {
	require.Equal(t, "delivery/ep_1/evt_2", DeliveryWorkflowID("ep_1", "evt_2"))
	require.Equal(t, "endpoint/ep_1", EndpointWorkflowID("ep_1"))
}

func (s *deliverySuite) Test_a_held_attempt_waits_for_release_and_uses_up_no_attempt() {
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(SignalRelease, nil) }, 10*time.Minute)
	in := input()
	in.Schedule = []time.Duration{time.Minute}
	sc := &scripted{results: []activities.AttemptResult{
		{Held: true},
		{StatusCode: 500}, // attempt 1, made when released
		{StatusCode: 200, Succeeded: true},
	}}
	res := s.run(sc, in)
	s.Equal(DeliveryResult{Status: models.DeliverySucceeded, Attempts: 2}, res)
	s.Equal([]time.Duration{0, 10 * time.Minute, 11 * time.Minute}, sc.at)
	s.False(sc.inputs[1].Final, "the held attempt is retried as the same, non-final attempt")
}

func (s *deliverySuite) Test_a_held_attempt_is_released_by_the_release_update_too() {
	var accepted, completed bool
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateRelease, "release-1", &testsuite.TestUpdateCallback{
			OnAccept:   func() { accepted = true },
			OnReject:   func(err error) { s.Fail("release update rejected", err) },
			OnComplete: func(_ interface{}, err error) { s.NoError(err); completed = true },
		})
	}, 2*time.Hour)
	in := input()
	in.Schedule = []time.Duration{time.Minute}
	sc := &scripted{results: []activities.AttemptResult{
		{Held: true},
		{Held: true},                       // the hourly recheck: still paused
		{StatusCode: 200, Succeeded: true}, // attempt 1, made when released
	}}
	res := s.run(sc, in)
	s.Equal(DeliveryResult{Status: models.DeliverySucceeded, Attempts: 1}, res)
	s.Equal([]time.Duration{0, time.Hour, 2 * time.Hour}, sc.at,
		"held: rechecked after an hour (still held), then released by the update")
	s.True(accepted && completed)
}

func (s *deliverySuite) Test_failures_are_reported_to_the_endpoint_health_workflow() {
	var d *activities.Deliverer
	var reports []activities.AttemptReport
	s.env.OnActivity(d.ReportHealth, mockCtx, mockAny).Return(func(_ context.Context, r activities.AttemptReport) error {
		reports = append(reports, r)
		return nil
	})
	in := input()
	in.Schedule = []time.Duration{time.Minute}
	sc := &scripted{results: []activities.AttemptResult{
		{StatusCode: 500, Report: &activities.AttemptReport{DeliveryID: "dlv_1", Failed: true}},
		{StatusCode: 200, Succeeded: true}, // healthy endpoint: nothing to report
	}}
	res := s.run(sc, in)
	s.Equal(models.DeliverySucceeded, res.Status)
	s.Len(reports, 1)
	s.True(reports[0].Failed)
}

func (s *deliverySuite) Test_a_410_fails_the_delivery_at_once() {
	disabledAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sc := &scripted{results: []activities.AttemptResult{{StatusCode: 410, Error: "HTTP 410", DisabledAt: &disabledAt}}}
	res := s.run(sc, input())
	s.Equal(DeliveryResult{Status: models.DeliveryFailed, Attempts: 1}, res, "no retry after a 410")
	s.Len(sc.at, 1)
}
