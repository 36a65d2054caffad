package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
)

// EndpointState is what the endpoint health workflow knows of its endpoint;
// it is also the answer to the health query and is carried across
// continue-as-new.
type EndpointState struct {
	EndpointID          string     `json:"endpoint_id"`
	State               string     `json:"state"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	PauseThreshold      int        `json:"pause_threshold"`
	PausedAt            *time.Time `json:"paused_at"`
	PauseReason         string     `json:"pause_reason"`
	LastError           string     `json:"last_error,omitempty"`
	// HealthSeq is the endpoint's models.Endpoint.HealthSeq that
	// ConsecutiveFailures is as of: an attempt report with a Seq not above
	// it is stale and ignored.
	HealthSeq int64 `json:"health_seq"`
	// SignalsPerRun bounds one run's history: after that many signals the
	// workflow continues as new. 0 means DefaultSignalsPerRun.
	SignalsPerRun int `json:"signals_per_run,omitempty"`
	// Pending holds operator requests (release, replay) not yet carried out.
	Pending []EndpointJob `json:"pending,omitempty"`
	// Notices are operational webhooks (endpoint.paused, endpoint.unpaused)
	// not sent yet; they are sent once the state they tell of is saved.
	Notices []activities.NoticeInput `json:"notices,omitempty"`
	// Unsaved, UnsavedFailures and Reload carry work a run could not finish
	// during an outage of hookd's store to the next run: the state must be
	// saved (with the failure count), the pause threshold read again.
	Unsaved         bool `json:"unsaved,omitempty"`
	UnsavedFailures bool `json:"unsaved_failures,omitempty"`
	Reload          bool `json:"reload,omitempty"`
	// WaitsPerRun bounds the waits one run makes during an outage (see
	// patience); 0 means DefaultWaitsPerRun.
	WaitsPerRun int `json:"waits_per_run,omitempty"`
}

// EndpointJob is a long operation the workflow runs as an activity, one at a time.
type EndpointJob struct {
	Release bool                    `json:"release,omitempty"`
	Replay  *activities.ReplayInput `json:"replay,omitempty"`
}

// PauseSignal is the payload of the pause signal.
type PauseSignal struct {
	Reason string `json:"reason"`
}

// ReplaySignal is the payload of the replay signal.
type ReplaySignal struct {
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
	OnlyFailed bool      `json:"only_failed"`
}

// NewEndpointState is the state an endpoint's workflow starts from.
func NewEndpointState(ep *models.Endpoint) EndpointState {
	return EndpointState{
		EndpointID: ep.ID, State: ep.State, ConsecutiveFailures: ep.ConsecutiveFailures,
		PauseThreshold: ep.PauseThreshold, PausedAt: ep.PausedAt, PauseReason: ep.PauseReason,
		HealthSeq: ep.HealthSeq,
	}
}

// DefaultSignalsPerRun bounds one run's history when the state does not say
// otherwise; then the workflow continues as new.
const DefaultSignalsPerRun = 500

// EndpointHealth is the long-running workflow of one endpoint
// (id endpoint/<endpoint_id>). It counts consecutive failed attempts across
// all the endpoint's deliveries, pauses the endpoint at its threshold,
// carries out pause, unpause and replay signals, and answers the health query.
//
// It is told only about failures and recoveries (see activities.AttemptResult.Report),
// so a healthy endpoint costs it nothing however much traffic it gets. The
// count itself is kept by the store, in the transaction of each attempt;
// each report carries the count and the sequence number the store gave it,
// and the workflow applies only reports newer than what it has, so reports
// arriving out of order never miscount. Every change of state is mirrored to
// the store before anything else happens, so attempts see a pause at once.
// History stays bounded: after SignalsPerRun signals, or when the server
// suggests it, the workflow continues as new with its state, once no signal
// is pending and no job is running, so no signal is lost.
func EndpointHealth(ctx workflow.Context, st EndpointState) error {
	e := &endpointHealth{ctx: ctx, logger: workflow.GetLogger(ctx), st: st}
	if err := workflow.SetQueryHandler(ctx, QueryHealth, func() (EndpointState, error) { return e.st, nil }); err != nil {
		return err
	}
	e.init()
	e.listen()
	if err := e.settleOrContinue(); err != nil { // what the previous run left to do
		return err
	}
	return e.run()
}

// endpointHealth is one run of the EndpointHealth workflow.
type endpointHealth struct {
	ctx      workflow.Context
	lctx     workflow.Context // with the local activity options
	actx     workflow.Context // with the options of the long jobs
	logger   log.Logger
	st       EndpointState
	patience *patience
	perRun   int // signals before the run continues as new
	sel      workflow.Selector
	// dirty: the state must be saved; setFailures: with the count, which
	// starts a new count in the store; reload: the pause threshold must be
	// read again from the store.
	dirty, setFailures, reload bool
	running                    bool               // a job (release, replay) runs
	act                        *activities.Health // nil: activities are called through it by method
}

// init sets the run up from its state, taking over the work the previous
// run left undone.
func (e *endpointHealth) init() {
	e.lctx = workflow.WithLocalActivityOptions(e.ctx, localOptions(30*time.Second))
	e.patience = newPatience(e.st.WaitsPerRun)
	e.actx = workflow.WithActivityOptions(e.ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	e.perRun = e.st.SignalsPerRun
	if e.perRun <= 0 {
		e.perRun = DefaultSignalsPerRun
	}
	e.dirty, e.setFailures, e.reload = e.st.Unsaved, e.st.UnsavedFailures, e.st.Reload
	e.st.Unsaved, e.st.UnsavedFailures, e.st.Reload = false, false, false
	e.sel = workflow.NewSelector(e.ctx)
}

// listen makes each signal a case of the run's selector.
func (e *endpointHealth) listen() {
	e.sel.AddReceive(workflow.GetSignalChannel(e.ctx, SignalAttempt), e.onAttempt)
	e.sel.AddReceive(workflow.GetSignalChannel(e.ctx, SignalPause), e.onPause)
	e.sel.AddReceive(workflow.GetSignalChannel(e.ctx, SignalUnpause), e.onUnpause)
	e.sel.AddReceive(workflow.GetSignalChannel(e.ctx, SignalReplay), e.onReplay)
	e.sel.AddReceive(workflow.GetSignalChannel(e.ctx, SignalSettings), e.onSettings)
}

// run handles one signal (or the end of a job) after the other, settles
// what each asked of the store, starts the jobs, and continues as new once
// the run has handled its budget of signals.
func (e *endpointHealth) run() error {
	for signals := 0; ; signals++ {
		e.sel.Select(e.ctx)
		if err := e.settleOrContinue(); err != nil {
			return err
		}
		e.startJob()
		if e.full(signals + 1) {
			return workflow.NewContinueAsNewError(e.ctx, EndpointHealth, e.st)
		}
	}
}

// full reports whether the run, having handled signals, must continue as
// new now: it has used its budget (or the server suggests it), and no
// signal is pending, no job runs or waits, so nothing is lost.
func (e *endpointHealth) full(signals int) bool {
	return !e.running && !e.sel.HasPending() &&
		(signals >= e.perRun || workflow.GetInfo(e.ctx).GetContinueAsNewSuggested()) &&
		len(e.st.Pending) == 0
}

// onAttempt applies an attempt's report, and queues the operational
// webhook of a delivery that failed for good.
func (e *endpointHealth) onAttempt(c workflow.ReceiveChannel, _ bool) {
	var r activities.AttemptReport
	c.Receive(e.ctx, &r)
	e.applyReport(r)
	switch {
	case r.DisabledAt != nil:
		e.queueNotice(activities.NoticeInput{Type: activities.NoticeEndpointDisabled, EndpointID: e.st.EndpointID,
			At: r.DisabledAt.UTC(), Reason: activities.GoneReason})
	case r.Exhausted:
		e.queueNotice(activities.NoticeInput{Type: activities.NoticeDeliveryExhausted, EndpointID: e.st.EndpointID,
			At: r.At.UTC(), DeliveryID: r.DeliveryID, EventID: r.EventID, Attempts: r.Attempt,
			LastStatusCode: r.StatusCode, LastError: r.Error})
	}
}

// applyReport takes the count of a report newer than what the run has; a
// stale one (a later count is applied already, or the run was started,
// by this very report, from the stored state) only fills in a missing
// last error. Either may reach the pause threshold.
func (e *endpointHealth) applyReport(r activities.AttemptReport) {
	st := &e.st
	if st.PauseThreshold <= 0 && r.PauseThreshold > 0 {
		st.PauseThreshold = r.PauseThreshold
	}
	switch {
	case r.Seq <= st.HealthSeq:
		if r.Failed && st.LastError == "" {
			st.LastError = r.Error
		}
	default:
		st.HealthSeq, st.ConsecutiveFailures = r.Seq, r.Failures
		if r.Failed {
			st.LastError = r.Error
		} else if st.ConsecutiveFailures == 0 {
			st.LastError = ""
		}
	}
	e.checkThreshold()
}

// checkThreshold pauses an active endpoint that has reached its threshold.
func (e *endpointHealth) checkThreshold() {
	st := &e.st
	if st.State == models.EndpointActive && st.PauseThreshold > 0 && st.ConsecutiveFailures >= st.PauseThreshold {
		e.pause(fmt.Sprintf("%d consecutive failed attempts (last: %s)", st.ConsecutiveFailures, st.LastError))
	}
}

// onPause pauses the endpoint for the operator's reason.
func (e *endpointHealth) onPause(c workflow.ReceiveChannel, _ bool) {
	var p PauseSignal
	c.Receive(e.ctx, &p)
	if p.Reason == "" {
		p.Reason = "paused by an operator"
	}
	e.pause(p.Reason)
}

// pause pauses the endpoint unless it is paused already.
func (e *endpointHealth) pause(reason string) {
	if e.st.State == models.EndpointPaused {
		return
	}
	// In microseconds, as PostgreSQL keeps it: the operational webhook and
	// the stored endpoint tell the same time on every store.
	now := workflow.Now(e.ctx).UTC().Truncate(time.Microsecond)
	e.st.State, e.st.PausedAt, e.st.PauseReason = models.EndpointPaused, &now, reason
	e.dirty = true
	e.logger.Info("endpoint.paused", "endpoint_id", e.st.EndpointID, "reason", reason)
	e.queueNotice(activities.NoticeInput{Type: activities.NoticeEndpointPaused, EndpointID: e.st.EndpointID, At: now, Reason: reason})
}

// queueNotice queues an operational webhook, to be sent once the state it
// tells of is saved. Runs started by older code queue none.
func (e *endpointHealth) queueNotice(n activities.NoticeInput) {
	if workflow.GetVersion(e.ctx, changeOperationalWebhooks, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	e.st.Notices = append(e.st.Notices, n)
}

// sendNotices sends the queued operational webhooks, oldest first.
func (e *endpointHealth) sendNotices() error {
	for len(e.st.Notices) > 0 {
		if err := sendNotice(e.ctx, e.st.Notices[0]); err != nil {
			return err
		}
		e.st.Notices = e.st.Notices[1:]
	}
	return nil
}

// onUnpause unpauses a paused endpoint, starting a new count, and queues a
// release of its held deliveries. It releases even when the endpoint is
// not paused: that finds nothing, or deliveries a previous release could
// not reach.
func (e *endpointHealth) onUnpause(c workflow.ReceiveChannel, _ bool) {
	c.Receive(e.ctx, nil)
	e.unpause()
	e.st.Pending = append(e.st.Pending, EndpointJob{Release: true})
}

// unpause makes a paused endpoint active with no failures on record.
func (e *endpointHealth) unpause() {
	st := &e.st
	if st.State != models.EndpointPaused {
		return
	}
	st.State, st.PausedAt, st.PauseReason = models.EndpointActive, nil, ""
	st.ConsecutiveFailures, st.LastError = 0, ""
	e.dirty, e.setFailures = true, true
	e.logger.Info("endpoint.unpaused", "endpoint_id", st.EndpointID)
	e.queueNotice(activities.NoticeInput{Type: activities.NoticeEndpointUnpaused, EndpointID: st.EndpointID,
		At: workflow.Now(e.ctx).UTC().Truncate(time.Microsecond)})
}

// onReplay queues a replay of the signal's range.
func (e *endpointHealth) onReplay(c workflow.ReceiveChannel, _ bool) {
	var r ReplaySignal
	c.Receive(e.ctx, &r)
	e.st.Pending = append(e.st.Pending, EndpointJob{Replay: &activities.ReplayInput{
		EndpointID: e.st.EndpointID, Since: r.Since, Until: r.Until, OnlyFailed: r.OnlyFailed}})
}

// onSettings has the pause threshold read again.
func (e *endpointHealth) onSettings(c workflow.ReceiveChannel, _ bool) {
	c.Receive(e.ctx, nil)
	e.reload = true
}

// settleOrContinue settles; a run that has waited its budget (and runs no
// job, whose result it would lose) continues as new with the work still
// to do.
func (e *endpointHealth) settleOrContinue() error {
	for {
		err := e.settle()
		if !errors.Is(err, errRunFull) {
			return err
		}
		if !e.running {
			return e.continueUnsettled()
		}
		e.patience.waits = 0
	}
}

// continueUnsettled reads the signals the run holds and continues as new,
// handing the next run what is still to be settled.
func (e *endpointHealth) continueUnsettled() error {
	for e.sel.HasPending() {
		e.sel.Select(e.ctx)
	}
	e.st.Unsaved, e.st.UnsavedFailures, e.st.Reload = e.dirty, e.setFailures, e.reload
	return workflow.NewContinueAsNewError(e.ctx, EndpointHealth, e.st)
}

// settle carries out what the signals asked of the store, waiting out an
// outage of the store for as long as the run's budget of waits lasts, then
// sends the operational webhooks of the changes saved.
func (e *endpointHealth) settle() error {
	if err := e.reloadThreshold(); err != nil {
		return err
	}
	if err := e.save(); err != nil {
		return err
	}
	return e.sendNotices()
}

// reloadThreshold reads the pause threshold again when a signal asked for
// it; a new threshold may pause the endpoint at once.
func (e *endpointHealth) reloadThreshold() error {
	if !e.reload {
		return nil
	}
	var n int
	if err := e.patience.run(e.lctx, "read pause threshold", &n, e.act.PauseThreshold, e.st.EndpointID); err != nil {
		return err
	}
	if n > 0 && n != e.st.PauseThreshold {
		e.logger.Info("endpoint.pause_threshold_changed", "endpoint_id", e.st.EndpointID, "from", e.st.PauseThreshold, "to", n)
		e.st.PauseThreshold = n
		e.checkThreshold()
	}
	e.reload = false
	return nil
}

// save mirrors a changed state into the store; with setFailures it takes
// the store's new HealthSeq, so reports of earlier attempts are stale.
func (e *endpointHealth) save() error {
	if !e.dirty {
		return nil
	}
	var seq int64
	err := e.patience.run(e.lctx, "save health", &seq, e.act.SaveHealth, e.st.EndpointID, activities.HealthSnapshot{
		State: e.st.State, PausedAt: e.st.PausedAt, PauseReason: e.st.PauseReason,
		SetFailures: e.setFailures, ConsecutiveFailures: e.st.ConsecutiveFailures,
	})
	if err != nil {
		return err
	}
	if e.setFailures && seq > 0 {
		e.st.HealthSeq = seq
	}
	e.dirty, e.setFailures = false, false
	return nil
}

// startJob starts the oldest pending job, if none runs.
func (e *endpointHealth) startJob() {
	if e.running || len(e.st.Pending) == 0 {
		return
	}
	job := e.st.Pending[0]
	e.st.Pending = e.st.Pending[1:]
	e.running = true
	var f workflow.Future
	if job.Release {
		f = workflow.ExecuteActivity(e.actx, e.act.ReleaseHeld, e.st.EndpointID)
	} else {
		f = workflow.ExecuteActivity(e.actx, e.act.Replay, *job.Replay)
	}
	e.sel.AddFuture(f, e.jobDone)
}

// jobDone ends a job. A job that failed for good is logged: the operator
// may send its signal again.
func (e *endpointHealth) jobDone(f workflow.Future) {
	var n int
	if err := f.Get(e.ctx, &n); err != nil {
		e.logger.Error("endpoint job failed", "endpoint_id", e.st.EndpointID, "error", err)
	}
	e.running = false
}
