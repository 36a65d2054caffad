package workflows

import (
	"context"
	"errors"
	"fmt"
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
	saved    []activities.HealthSnapshot
	releases int
	replays  []activities.ReplayInput
	// seq and count are the store's HealthSeq and consecutive-failure count
	// as RecordAttempt (failures, success) and SaveHealth move them;
	// threshold the stored pause threshold PauseThreshold reads.
	seq       int64
	count     int
	threshold int
	// notices are the operational webhooks the workflow sent.
	notices *[]activities.NoticeInput
}

func newHealthEnv(t *testing.T) *healthEnv {
	var s testsuite.WorkflowTestSuite
	e := &healthEnv{TestWorkflowEnvironment: s.NewTestWorkflowEnvironment(), t: t}
	e.RegisterWorkflow(EndpointHealth)
	e.notices = notices(e.TestWorkflowEnvironment)
	var h *activities.Health
	e.OnActivity(h.SaveHealth, mock.Anything, "ep_1", mock.Anything).Return(func(_ context.Context, _ string, st activities.HealthSnapshot) (int64, error) {
		e.saved = append(e.saved, st)
		if !st.SetFailures {
			return 0, nil
		}
		e.seq++
		e.count = st.ConsecutiveFailures
		return e.seq, nil
	})
	e.OnActivity(h.PauseThreshold, mock.Anything, "ep_1").Return(func(context.Context, string) (int, error) {
		return e.threshold, nil
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

// failures reports n failed attempts at at, counted and numbered as
// RecordAttempt does.
func (e *healthEnv) failures(at time.Duration, n int) {
	e.at(at, func() {
		for range n {
			e.seq++
			e.count++
			e.SignalWorkflow(SignalAttempt, activities.AttemptReport{EndpointID: "ep_1", Failed: true, Error: "HTTP 500",
				PauseThreshold: 10, Failures: e.count, Seq: e.seq})
		}
	})
}

// success reports a successful attempt at at if, as RecordAttempt decides,
// it ended a run of failures (a success on a healthy endpoint is not
// reported at all).
func (e *healthEnv) success(at time.Duration) {
	e.at(at, func() {
		if e.count == 0 {
			return
		}
		e.seq++
		e.count = 0
		e.SignalWorkflow(SignalAttempt, activities.AttemptReport{EndpointID: "ep_1", PauseThreshold: 10, Seq: e.seq})
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

// report is an attempt report as the store numbers it: the count once the
// attempt was recorded, and the endpoint's HealthSeq then.
func report(seq int64, failures int) activities.AttemptReport {
	r := activities.AttemptReport{EndpointID: "ep_1", Seq: seq, Failures: failures, PauseThreshold: 10}
	if failures > 0 {
		r.Failed, r.Error = true, fmt.Sprintf("HTTP 500 #%d", seq)
	}
	return r
}

func TestThresholdChangeIsReadFromTheStoreAndMayPause(t *testing.T) {
	e := newHealthEnv(t)
	e.at(time.Minute, func() {
		for i := 1; i <= 3; i++ {
			e.SignalWorkflow(SignalAttempt, report(int64(i), i))
		}
	})
	e.at(2*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointActive, st.State)
		require.Equal(t, 10, st.PauseThreshold)
		// PATCH pause_threshold 5: the store has it, the workflow is told.
		e.threshold = 5
		e.SignalWorkflow(SignalSettings, nil)
	})
	e.at(3*time.Minute, func() {
		st := e.query()
		require.Equal(t, 5, st.PauseThreshold, "the health query shows the new threshold")
		require.Equal(t, models.EndpointActive, st.State)
		// A report still carrying the old threshold does not undo the change.
		e.SignalWorkflow(SignalAttempt, report(4, 4))
	})
	e.at(4*time.Minute, func() {
		st := e.query()
		require.Equal(t, 5, st.PauseThreshold)
		require.Equal(t, models.EndpointActive, st.State)
		// Lowered to the count or below: the endpoint is paused at once.
		e.threshold = 3
		e.SignalWorkflow(SignalSettings, nil)
	})
	e.at(5*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointPaused, st.State)
		require.Contains(t, st.PauseReason, "4 consecutive failed attempts (last: HTTP 500 #4)")
	})
	e.run(start(), time.Hour)
	require.Equal(t, models.EndpointPaused, e.saved[len(e.saved)-1].State)
}

// Reports can arrive in another order than the store counted them: the one
// with the highest sequence number wins, so a success counted after a
// failure is not undone by that failure's late report, and nothing is
// counted twice.
func TestReportsArrivingOutOfOrderDoNotMiscount(t *testing.T) {
	e := newHealthEnv(t)
	st := start()
	st.HealthSeq = 100
	e.at(time.Minute, func() {
		for i := 1; i <= 9; i++ {
			e.SignalWorkflow(SignalAttempt, report(100+int64(i), i))
		}
		// Store order: failure 10 (seq 110), success (seq 111), failure (seq 112, count 1).
		// Arrival order: 112, 110, 111.
		e.SignalWorkflow(SignalAttempt, report(112, 1))
		e.SignalWorkflow(SignalAttempt, report(110, 10))
		e.SignalWorkflow(SignalAttempt, report(111, 0))
		e.SignalWorkflow(SignalAttempt, report(50, 0)) // older than the start state
	})
	e.at(2*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointActive, st.State, "the late report of failure 10 does not pause: a success came after it")
		require.Equal(t, 1, st.ConsecutiveFailures)
		require.Equal(t, int64(112), st.HealthSeq)
	})
	e.run(st, time.Hour)
	for _, h := range e.saved {
		require.False(t, h.SetFailures, "the count the store keeps is not written back")
	}
}

// A report that starts the workflow (signal-with-start) finds its own count
// in the start state, read from the store: it still pauses at the threshold.
func TestARunStartedByTheTenthFailurePauses(t *testing.T) {
	e := newHealthEnv(t)
	st := start()
	st.HealthSeq, st.ConsecutiveFailures = 10, 10
	e.at(time.Minute, func() { e.SignalWorkflow(SignalAttempt, report(10, 10)) })
	e.at(2*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointPaused, st.State)
		require.Equal(t, "10 consecutive failed attempts (last: HTTP 500 #10)", st.PauseReason)
	})
	e.run(st, time.Hour)
}

// After an unpause the count starts again from 0 in the store and in the
// workflow; reports of attempts made before it are stale.
func TestUnpauseStartsANewCountAndIgnoresEarlierReports(t *testing.T) {
	e := newHealthEnv(t)
	e.seq = 10
	st := start()
	st.HealthSeq = 10
	e.at(time.Minute, func() {
		for i := 1; i <= 10; i++ {
			e.SignalWorkflow(SignalAttempt, report(10+int64(i), i))
		}
	})
	e.at(2*time.Minute, func() {
		require.Equal(t, models.EndpointPaused, e.query().State)
		e.seq = 21 // a failure in flight when the pause came was counted by the store (seq 21)
		e.SignalWorkflow(SignalUnpause, nil)
	})
	e.at(3*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointActive, st.State)
		require.Zero(t, st.ConsecutiveFailures)
		require.Equal(t, int64(22), st.HealthSeq, "the reset is numbered by the store")
		e.SignalWorkflow(SignalAttempt, report(21, 11)) // its report arrives late
	})
	e.at(4*time.Minute, func() {
		st := e.query()
		require.Equal(t, models.EndpointActive, st.State)
		require.Zero(t, st.ConsecutiveFailures, "a report from before the unpause is stale")
		e.SignalWorkflow(SignalAttempt, report(23, 1))
	})
	e.at(5*time.Minute, func() { require.Equal(t, 1, e.query().ConsecutiveFailures) })
	e.run(st, time.Hour)
	var resets int
	for _, h := range e.saved {
		if h.SetFailures {
			resets++
			require.Zero(t, h.ConsecutiveFailures)
		}
	}
	require.Equal(t, 1, resets)
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

// More reports than one run takes: the run continues as new with a
// consistent state, and since every report carries the store's absolute
// count, one that a run never saw (the test environment, unlike the server,
// does not hand signals sent after the continue-as-new to the next run)
// costs nothing: the next report brings the count up to date.
func TestStateIsCarriedAcrossContinueAsNewAndTheStoreCountHealsAMissedReport(t *testing.T) {
	e := newHealthEnv(t)
	st := start()
	st.PauseThreshold = 100000
	e.failures(time.Minute, DefaultSignalsPerRun+7)
	e.ExecuteWorkflow(EndpointHealth, st)
	next := continuedAsNew(t, e)
	require.GreaterOrEqual(t, next.ConsecutiveFailures, DefaultSignalsPerRun, "the run counted a full budget of reports")
	require.Equal(t, int64(next.ConsecutiveFailures), next.HealthSeq, "count and sequence number agree")
	require.Equal(t, "ep_1", next.EndpointID)
	require.Equal(t, models.EndpointActive, next.State)
	require.Equal(t, 100000, next.PauseThreshold)

	e2 := newHealthEnv(t)
	e2.seq, e2.count = e.seq, e.count
	e2.failures(time.Minute, 1)
	e2.at(2*time.Minute, func() {
		got := e2.query()
		require.Equal(t, DefaultSignalsPerRun+8, got.ConsecutiveFailures, "the store's count, not the run's")
		require.Equal(t, int64(DefaultSignalsPerRun+8), got.HealthSeq)
	})
	e2.run(next, time.Hour)
}

// continuedAsNew checks that the run ended by continuing as new and returns
// the state it handed to the next run.
func continuedAsNew(t *testing.T, e *healthEnv) EndpointState {
	t.Helper()
	require.True(t, e.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(e.GetWorkflowError(), &can), "the run continues as new: %v", e.GetWorkflowError())
	var next EndpointState
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	return next
}

// Runs of 3 signals each: counting, a pause, a replay that is still running
// when the budget is reached (signals keep being served meanwhile, and the
// run waits for it), an unpause and its release all carry over from run to
// run, and the state handed over is the state the next run answers.
func TestSignalsAcrossContinueAsNewKeepTheState(t *testing.T) {
	first := start()
	first.SignalsPerRun = 3

	// Run 1: two failures and a replay whose activity takes a while; four
	// more failures arrive while it runs.
	e := newHealthEnv(t)
	e.OnActivity((*activities.Health)(nil).Replay, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ReplayInput) (int, error) {
		e.replays = append(e.replays, in)
		time.Sleep(50 * time.Millisecond)
		return 1, nil
	}).Once()
	e.SetTestTimeout(time.Minute)
	e.at(time.Minute, func() {
		e.SignalWorkflow(SignalAttempt, report(1, 1))
		e.SignalWorkflow(SignalAttempt, report(2, 2))
		e.SignalWorkflow(SignalReplay, ReplaySignal{OnlyFailed: true})
		for i := 3; i <= 6; i++ {
			e.SignalWorkflow(SignalAttempt, report(int64(i), i))
		}
	})
	e.ExecuteWorkflow(EndpointHealth, first)
	second := continuedAsNew(t, e)
	require.Len(t, e.replays, 1, "the replay ran in the first run")
	require.Equal(t, 6, second.ConsecutiveFailures, "signals that came while the replay ran were counted, none lost")
	require.Equal(t, int64(6), second.HealthSeq)
	require.Equal(t, 3, second.SignalsPerRun, "the budget is carried")
	require.Empty(t, second.Pending)
	require.Equal(t, models.EndpointActive, second.State)

	// Run 2: it starts from the state handed over. The report of failure 10
	// arrives before those of 7-9, and pauses; a report older than the
	// carried state is ignored. (The test environment hands each signal to
	// the workflow on its own, so each run here gets exactly its budget.)
	e = newHealthEnv(t)
	e.at(time.Minute, func() {
		st := e.query()
		require.Equal(t, 6, st.ConsecutiveFailures, "the next run answers the carried state")
		require.Equal(t, int64(6), st.HealthSeq)
		e.SignalWorkflow(SignalAttempt, report(5, 5))
		e.SignalWorkflow(SignalAttempt, report(10, 10))
		e.SignalWorkflow(SignalAttempt, report(8, 8))
	})
	e.ExecuteWorkflow(EndpointHealth, second)
	third := continuedAsNew(t, e)
	require.Equal(t, models.EndpointPaused, third.State)
	require.Equal(t, 10, third.ConsecutiveFailures)
	require.Contains(t, third.PauseReason, "10 consecutive failed attempts")
	require.NotNil(t, third.PausedAt)

	// Run 3: paused state carried; an unpause resets the count and releases.
	e = newHealthEnv(t)
	e.seq = 10
	e.at(time.Minute, func() {
		require.Equal(t, models.EndpointPaused, e.query().State)
		e.SignalWorkflow(SignalUnpause, nil)
		e.SignalWorkflow(SignalAttempt, report(9, 9)) // from before the unpause: stale
		e.SignalWorkflow(SignalAttempt, report(12, 1))
	})
	e.ExecuteWorkflow(EndpointHealth, third)
	fourth := continuedAsNew(t, e)
	require.Equal(t, 1, e.releases)
	require.Equal(t, models.EndpointActive, fourth.State)
	require.Nil(t, fourth.PausedAt)
	require.Equal(t, 1, fourth.ConsecutiveFailures)
	require.Equal(t, int64(12), fourth.HealthSeq)
}

func TestPauseAtTheThresholdAndUnpauseSendOperationalWebhooksOnceSaved(t *testing.T) {
	e := newHealthEnv(t)
	e.failures(time.Minute, 10)
	e.at(2*time.Minute, func() {
		require.Len(t, *e.notices, 1, "the tenth failure pauses the endpoint and tells the operator")
		require.Equal(t, models.EndpointPaused, e.saved[len(e.saved)-1].State, "the pause is saved before it is told")
		e.SignalWorkflow(SignalPause, PauseSignal{Reason: "again"})
	})
	e.at(3*time.Minute, func() { e.SignalWorkflow(SignalUnpause, nil) })
	e.at(4*time.Minute, func() { e.SignalWorkflow(SignalUnpause, nil) })
	e.run(start(), time.Hour)

	sent := *e.notices
	require.Len(t, sent, 2, "a pause of a paused endpoint and an unpause of an active one send nothing")
	paused, unpaused := sent[0], sent[1]
	require.Equal(t, activities.NoticeEndpointPaused, paused.Type)
	require.Equal(t, "ep_1", paused.EndpointID)
	require.Equal(t, "10 consecutive failed attempts (last: HTTP 500)", paused.Reason)
	require.Equal(t, activities.NoticeEndpointUnpaused, unpaused.Type)
	require.WithinDuration(t, paused.At.Add(2*time.Minute), unpaused.At, time.Microsecond, "each notice carries the workflow time of its change")
	require.Equal(t, fmt.Sprintf("endpoint.paused/ep_1/%d", paused.At.UnixNano()), paused.Key(),
		"the idempotency key is the same however often the activity runs")
	require.NotEqual(t, paused.Key(), unpaused.Key())
}

func TestAReportOfADeliveryFailedForGoodSendsItsOperationalWebhook(t *testing.T) {
	e := newHealthEnv(t)
	last := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	disabled := last.Add(time.Hour)
	e.at(time.Minute, func() {
		e.SignalWorkflow(SignalAttempt, activities.AttemptReport{EndpointID: "ep_1", DeliveryID: "dlv_1", Failed: true,
			Error: "HTTP 503", At: last, PauseThreshold: 10, Failures: 1, Seq: 1,
			Exhausted: true, EventID: "evt_1", Attempt: 6, StatusCode: 503})
	})
	e.at(2*time.Minute, func() {
		e.SignalWorkflow(SignalAttempt, activities.AttemptReport{EndpointID: "ep_1", DeliveryID: "dlv_2", Failed: true,
			Error: "HTTP 410", At: disabled, PauseThreshold: 10, Failures: 2, Seq: 2,
			DisabledAt: &disabled, EventID: "evt_2", Attempt: 1, StatusCode: 410})
	})
	e.at(3*time.Minute, func() {
		e.SignalWorkflow(SignalAttempt, activities.AttemptReport{EndpointID: "ep_1", DeliveryID: "dlv_3", Failed: true,
			Error: "HTTP 500", PauseThreshold: 10, Failures: 3, Seq: 3})
	})
	e.run(start(), time.Hour)

	require.Equal(t, []activities.NoticeInput{
		{Type: activities.NoticeDeliveryExhausted, EndpointID: "ep_1", At: last, DeliveryID: "dlv_1", EventID: "evt_1",
			Attempts: 6, LastStatusCode: 503, LastError: "HTTP 503"},
		{Type: activities.NoticeEndpointDisabled, EndpointID: "ep_1", At: disabled, Reason: activities.GoneReason},
	}, *e.notices, "a failure the schedule goes on from sends nothing")
}
