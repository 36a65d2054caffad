package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
)

// healthEnv runs EndpointHealth with its activities stubbed: saved states,
// releases and replays are recorded.
type healthEnv struct {
	*testsuite.TestWorkflowEnvironment
	t        *testing.T
	saved    []models.Health
	releases int
	replays  []activities.ReplayInput
}

func newHealthEnv(t *testing.T) *healthEnv {
	var s testsuite.WorkflowTestSuite
	e := &healthEnv{TestWorkflowEnvironment: s.NewTestWorkflowEnvironment(), t: t}
	e.RegisterWorkflow(EndpointHealth)
	var h *activities.Health
	e.OnActivity(h.SaveHealth, mock.Anything, "ep_1", mock.Anything).Return(func(_ context.Context, _ string, st models.Health) error {
		e.saved = append(e.saved, st)
		return nil
	})
	e.OnActivity(h.ReleaseHeld, mock.Anything, "ep_1").Return(func(context.Context, string) (int, error) {
		e.releases++
		return 3, nil
	})
	e.OnActivity(h.Replay, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ReplayInput) (int, error) {
		e.replays = append(e.replays, in)
		return 1, nil
	})
	return e
}

func start() EndpointState {
	return EndpointState{EndpointID: "ep_1", State: models.EndpointActive, PauseThreshold: 10}
}

// at schedules fn at d after the start.
func (e *healthEnv) at(d time.Duration, fn func()) { e.RegisterDelayedCallback(fn, d) }

func (e *healthEnv) failures(at time.Duration, n int) {
	e.at(at, func() {
		for range n {
			e.SignalWorkflow(SignalAttempt, activities.AttemptReport{EndpointID: "ep_1", Failed: true, Error: "HTTP 500", PauseThreshold: 10})
		}
	})
}

func (e *healthEnv) success(at time.Duration) {
	e.at(at, func() {
		e.SignalWorkflow(SignalAttempt, activities.AttemptReport{EndpointID: "ep_1", PauseThreshold: 10})
	})
}

func (e *healthEnv) query() EndpointState {
	v, err := e.QueryWorkflow(QueryHealth)
	require.NoError(e.t, err)
	var st EndpointState
	require.NoError(e.t, v.Get(&st))
	return st
}

// run executes the workflow until the test ends it at end.
func (e *healthEnv) run(st EndpointState, end time.Duration) {
	e.at(end, func() { e.CancelWorkflow() })
	e.ExecuteWorkflow(EndpointHealth, st)
	require.True(e.t, e.IsWorkflowCompleted())
}

func TestNineFailuresLeaveTheEndpointActiveTheTenthPausesIt(t *testing.T) {
	e := newHealthEnv(t)
	e.failures(time.Minute, 9)
	e.at(2*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointActive, st.State)
		require.Equal(t, 9, st.ConsecutiveFailures)
	})
	e.failures(3*time.Minute, 1)
	e.at(4*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointPaused, st.State)
		require.Equal(t, 10, st.ConsecutiveFailures)
		require.NotNil(t, st.PausedAt)
		require.Contains(t, st.PauseReason, "10 consecutive failed attempts")
		require.Contains(t, st.PauseReason, "HTTP 500")
	})
	e.run(start(), time.Hour)
	last := e.saved[len(e.saved)-1]
	require.Equal(t, models.EndpointPaused, last.State, "the pause is written to the store")
	require.Equal(t, 10, last.ConsecutiveFailures)
	require.NotNil(t, last.PausedAt)
}

func TestASuccessResetsTheCount(t *testing.T) {
	e := newHealthEnv(t)
	e.failures(time.Minute, 7)
	e.success(2 * time.Minute)
	e.failures(3*time.Minute, 9)
	e.at(4*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointActive, st.State, "7 + 9 failures with a success between do not pause")
		require.Equal(t, 9, st.ConsecutiveFailures)
	})
	e.run(start(), time.Hour)
}

func TestThresholdComesFromTheEndpoint(t *testing.T) {
	e := newHealthEnv(t)
	e.at(time.Minute, func() {
		for range 3 {
			e.SignalWorkflow(SignalAttempt, activities.AttemptReport{Failed: true, PauseThreshold: 3})
		}
	})
	e.at(2*time.Minute, func() { require.Equal(t, models.EndpointPaused, e.query().State) })
	e.run(start(), time.Hour)
}

func TestPauseSignalThenUnpauseReleasesHeldDeliveriesAndResetsTheCount(t *testing.T) {
	e := newHealthEnv(t)
	e.failures(time.Minute, 4)
	e.at(2*time.Minute, func() { e.SignalWorkflow(SignalPause, PauseSignal{Reason: "maintenance"}) })
	e.at(3*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointPaused, st.State)
		require.Equal(t, "maintenance", st.PauseReason)
		require.Zero(t, e.releases)
	})
	e.at(4*time.Minute, func() { e.SignalWorkflow(SignalUnpause, nil) })
	e.at(5*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointActive, st.State)
		require.Zero(t, st.ConsecutiveFailures)
		require.Nil(t, st.PausedAt)
		require.Equal(t, 1, e.releases, "unpause releases the held deliveries")
	})
	e.run(start(), time.Hour)
	require.Equal(t, models.EndpointActive, e.saved[len(e.saved)-1].State)
}

func TestReplaySignalRunsAReplayOfTheRange(t *testing.T) {
	e := newHealthEnv(t)
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := since.Add(time.Hour)
	e.at(time.Minute, func() { e.SignalWorkflow(SignalReplay, ReplaySignal{Since: since, Until: until, OnlyFailed: true}) })
	e.at(time.Minute, func() { e.SignalWorkflow(SignalReplay, ReplaySignal{Since: since, Until: until}) })
	e.run(start(), time.Hour)
	require.Equal(t, []activities.ReplayInput{
		{EndpointID: "ep_1", Since: since, Until: until, OnlyFailed: true},
		{EndpointID: "ep_1", Since: since, Until: until},
	}, e.replays, "replays run one after the other, in the order asked")
}

func TestStateIsCarriedAcrossContinueAsNewAndNoSignalIsLost(t *testing.T) {
	e := newHealthEnv(t)
	st := start()
	st.PauseThreshold = 100000
	// More signals than one run takes, all pending at once: the run may only
	// continue as new once every one of them is counted.
	e.at(time.Minute, func() {
		for range signalsPerRun + 7 {
			e.SignalWorkflow(SignalAttempt, activities.AttemptReport{Failed: true, Error: "timeout"})
		}
	})
	e.at(2*time.Minute, func() { e.SignalWorkflow(SignalPause, PauseSignal{Reason: "ops"}) })
	e.ExecuteWorkflow(EndpointHealth, st)
	require.True(t, e.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(e.GetWorkflowError(), &can), "the run continues as new: %v", e.GetWorkflowError())
	var next EndpointState
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, signalsPerRun+7, next.ConsecutiveFailures, "every pending signal was counted before continuing")
	require.Equal(t, "ep_1", next.EndpointID)
	require.Equal(t, models.EndpointActive, next.State, "the pause signal sent later belongs to the next run")
	require.Equal(t, 100000, next.PauseThreshold)
}
