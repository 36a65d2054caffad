package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
)

// errStoreDown is what an activity answers while hookd's database is unreachable.
var errStoreDown = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

// deliveryRuns runs a Delivery to its end on the test environment's clock,
// following each continue-as-new into a new run that starts where the
// previous one stopped. attempt stands for the Attempt activity; it is told
// the workflow clock. It answers the final result, and the runs it took.
func deliveryRuns(t *testing.T, in DeliveryInput, attempt func(now time.Time, in activities.AttemptInput) (activities.AttemptResult, error),
	setup func(env *testsuite.TestWorkflowEnvironment)) (DeliveryResult, int) {
	t.Helper()
	// The test clock starts now: local activity deadlines are set on it and
	// checked against the real one.
	clock := time.Now()
	var ts testsuite.WorkflowTestSuite
	for runs := 1; runs < 1000; runs++ {
		env := ts.NewTestWorkflowEnvironment()
		env.SetStartTime(clock)
		env.RegisterWorkflow(Delivery)
		var d *activities.Deliverer
		env.OnActivity(d.Attempt, mockCtx, mockAny).Return(func(_ context.Context, ai activities.AttemptInput) (activities.AttemptResult, error) {
			return attempt(env.Now(), ai)
		})
		if setup != nil {
			setup(env)
		}
		env.ExecuteWorkflow(Delivery, in)
		require.True(t, env.IsWorkflowCompleted())
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
			require.NotNil(t, in.Progress, "a continued run carries the progress")
			clock = env.Now()
			continue
		}
		var res DeliveryResult
		require.NoError(t, Outcome(err, &res), "no workflow of hookd fails for an infrastructure reason")
		if err == nil {
			require.NoError(t, env.GetWorkflowResult(&res))
		}
		return res, runs
	}
	t.Fatal("the delivery never ended")
	return DeliveryResult{}, 0
}

// hookd's database unreachable for three days, from the first attempt: the
// delivery neither fails nor uses up an attempt, and its first attempt is
// made once the database is back. Its history stays bounded: runs continue
// as new.
func TestAnOutageOfDaysBeforeTheFirstAttemptUsesUpNoAttempt(t *testing.T) {
	var start time.Time
	var made []activities.AttemptInput
	res, runs := deliveryRuns(t, input(), func(now time.Time, in activities.AttemptInput) (activities.AttemptResult, error) {
		if start.IsZero() {
			start = now
		}
		if now.Sub(start) < 72*time.Hour {
			return activities.AttemptResult{}, errStoreDown
		}
		made = append(made, in)
		return activities.AttemptResult{Succeeded: true, StatusCode: 200}, nil
	}, nil)
	require.Equal(t, DeliveryResult{Status: models.DeliverySucceeded, Attempts: 1}, res)
	require.Len(t, made, 1)
	require.False(t, made[0].Final)
	require.Greater(t, runs, 3, "three days of waits take several runs (history bounded)")
}

// An outage between two scheduled attempts: the delivery waits it out and
// goes on with the same schedule; the attempt that could not be recorded
// is made again, as the same attempt.
func TestAnOutageBetweenAttemptsKeepsTheSchedule(t *testing.T) {
	in := input()
	in.Schedule = []time.Duration{time.Minute, time.Minute}
	in.WaitsPerRun = 7 // several runs, to carry the progress across them
	var start time.Time
	var made []activities.AttemptInput
	res, runs := deliveryRuns(t, in, func(now time.Time, ai activities.AttemptInput) (activities.AttemptResult, error) {
		if start.IsZero() {
			start = now
		}
		if since := now.Sub(start); since > 30*time.Second && since < 49*time.Hour {
			return activities.AttemptResult{}, errStoreDown // down from 30s to 2 days later
		}
		made = append(made, ai)
		return activities.AttemptResult{StatusCode: 500, Error: "HTTP 500"}, nil
	}, nil)
	require.Equal(t, DeliveryResult{Status: models.DeliveryFailed, Attempts: 3}, res, "three attempts, as scheduled")
	require.Len(t, made, 3)
	require.Equal(t, []bool{false, false, true}, []bool{made[0].Final, made[1].Final, made[2].Final})
	require.Greater(t, runs, 1)
}

// A held delivery re-checks its endpoint every hour; a month of that is
// spread over runs that each stay small, and a release still ends the hold.
func TestAHeldDeliveryContinuesAsNewAndIsStillReleased(t *testing.T) {
	in := input()
	in.Schedule = []time.Duration{time.Minute}
	var start time.Time
	attempts := 0
	res, runs := deliveryRuns(t, in, func(now time.Time, _ activities.AttemptInput) (activities.AttemptResult, error) {
		if start.IsZero() {
			start = now
		}
		if now.Sub(start) < 30*24*time.Hour {
			return activities.AttemptResult{Held: true}, nil
		}
		attempts++
		return activities.AttemptResult{Succeeded: true, StatusCode: 200}, nil
	}, nil)
	require.Equal(t, DeliveryResult{Status: models.DeliverySucceeded, Attempts: 1}, res)
	require.Equal(t, 1, attempts)
	require.GreaterOrEqual(t, runs, 30*24/DefaultWaitsPerRun, "at most DefaultWaitsPerRun hourly re-checks a run")
}

// A release that arrives while a run is waiting out an outage is not lost
// when the run continues as new: the next run's hold ends at once.
func TestAReleaseIsCarriedAcrossContinueAsNew(t *testing.T) {
	in := input()
	in.WaitsPerRun = 3
	var start, heldAt, doneAt time.Time
	res, runs := deliveryRuns(t, in, func(now time.Time, _ activities.AttemptInput) (activities.AttemptResult, error) {
		if start.IsZero() {
			start = now
		}
		switch {
		case now.Sub(start) < 10*time.Minute:
			return activities.AttemptResult{}, errStoreDown
		case heldAt.IsZero():
			heldAt = now // the endpoint is still paused when the store is back
			return activities.AttemptResult{Held: true}, nil
		}
		doneAt = now
		return activities.AttemptResult{Succeeded: true, StatusCode: 200}, nil
	}, func(env *testsuite.TestWorkflowEnvironment) {
		if start.IsZero() { // the first run only
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalRelease, nil) }, 20*time.Second)
		}
	})
	require.Equal(t, DeliveryResult{Status: models.DeliverySucceeded, Attempts: 1}, res)
	require.Greater(t, runs, 2)
	require.Less(t, doneAt.Sub(heldAt), time.Minute, "released at once, not at the hourly re-check")
}

// The endpoint health workflow, facing a store that is down for days while
// it must save a pause, neither fails nor loses the pause: it continues as
// new with the save still to do, and saves once the store is back.
func TestEndpointHealthWaitsOutAnOutageOfDays(t *testing.T) {
	clock := time.Now()
	st := EndpointState{EndpointID: "ep_1", State: models.EndpointActive, PauseThreshold: 3, WaitsPerRun: 20}
	var ts testsuite.WorkflowTestSuite
	var saved []activities.HealthSnapshot
	start := clock
	for runs := 1; ; runs++ {
		require.Less(t, runs, 500)
		env := ts.NewTestWorkflowEnvironment()
		env.SetStartTime(clock)
		env.RegisterWorkflow(EndpointHealth)
		notices(env)
		var h *activities.Health
		env.OnActivity(h.SaveHealth, mockCtx, mockAny, mockAny).Return(func(_ context.Context, _ string, s activities.HealthSnapshot) (int64, error) {
			if env.Now().Sub(start) < 72*time.Hour {
				return 0, errStoreDown
			}
			saved = append(saved, s)
			return 0, nil
		})
		if runs == 1 {
			env.RegisterDelayedCallback(func() {
				env.SignalWorkflow(SignalPause, PauseSignal{Reason: "maintenance"})
			}, time.Minute)
		}
		done := false
		env.RegisterDelayedCallback(func() {
			if len(saved) > 0 {
				var got EndpointState
				v, err := env.QueryWorkflow(QueryHealth)
				require.NoError(t, err)
				require.NoError(t, v.Get(&got))
				require.Equal(t, models.EndpointPaused, got.State)
				done = true
				env.CancelWorkflow()
			}
		}, 80*time.Hour-env.Now().Sub(start))
		env.ExecuteWorkflow(EndpointHealth, st)
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &st))
			require.True(t, st.Unsaved, "the pause is still to be saved")
			clock = env.Now()
			continue
		}
		require.True(t, done, "the run ended with %v before the store came back", err)
		break
	}
	require.NotEmpty(t, saved, "the pause was saved once the store was back")
	for _, s := range saved { // (the test clock's jumps may time a try out after it ran: saving is idempotent)
		require.Equal(t, models.EndpointPaused, s.State)
		require.Equal(t, "maintenance", s.PauseReason)
	}
}
