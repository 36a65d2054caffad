package workflows

import (
	"errors"
	"fmt"
	"time"

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
	logger := workflow.GetLogger(ctx)
	if err := workflow.SetQueryHandler(ctx, QueryHealth, func() (EndpointState, error) { return st, nil }); err != nil {
		return err
	}
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions(30*time.Second))
	patience := newPatience(st.WaitsPerRun)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	var h *activities.Health
	perRun := st.SignalsPerRun
	if perRun <= 0 {
		perRun = DefaultSignalsPerRun
	}

	// dirty: the state must be saved; setFailures: with the count, which
	// starts a new count in the store; reload: the pause threshold must be
	// read again from the store.
	dirty, setFailures, reload := st.Unsaved, st.UnsavedFailures, st.Reload
	st.Unsaved, st.UnsavedFailures, st.Reload = false, false, false
	pause := func(reason string) {
		if st.State == models.EndpointPaused {
			return
		}
		now := workflow.Now(ctx).UTC()
		st.State, st.PausedAt, st.PauseReason = models.EndpointPaused, &now, reason
		dirty = true
		logger.Info("endpoint.paused", "endpoint_id", st.EndpointID, "reason", reason)
	}
	checkThreshold := func() {
		if st.State == models.EndpointActive && st.PauseThreshold > 0 && st.ConsecutiveFailures >= st.PauseThreshold {
			pause(fmt.Sprintf("%d consecutive failed attempts (last: %s)", st.ConsecutiveFailures, st.LastError))
		}
	}

	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, SignalAttempt), func(c workflow.ReceiveChannel, _ bool) {
		var r activities.AttemptReport
		c.Receive(ctx, &r)
		if st.PauseThreshold <= 0 && r.PauseThreshold > 0 {
			st.PauseThreshold = r.PauseThreshold
		}
		if r.Seq <= st.HealthSeq {
			// Stale: a later count is applied already (or the run was
			// started, by this very report, from the stored state).
			if r.Failed && st.LastError == "" {
				st.LastError = r.Error
			}
			checkThreshold()
			return
		}
		st.HealthSeq, st.ConsecutiveFailures = r.Seq, r.Failures
		if r.Failed {
			st.LastError = r.Error
		} else if st.ConsecutiveFailures == 0 {
			st.LastError = ""
		}
		checkThreshold()
	})
	sel.AddReceive(workflow.GetSignalChannel(ctx, SignalPause), func(c workflow.ReceiveChannel, _ bool) {
		var p PauseSignal
		c.Receive(ctx, &p)
		if p.Reason == "" {
			p.Reason = "paused by an operator"
		}
		pause(p.Reason)
	})
	sel.AddReceive(workflow.GetSignalChannel(ctx, SignalUnpause), func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		if st.State == models.EndpointPaused {
			st.State, st.PausedAt, st.PauseReason = models.EndpointActive, nil, ""
			st.ConsecutiveFailures, st.LastError = 0, ""
			dirty, setFailures = true, true
			logger.Info("endpoint.unpaused", "endpoint_id", st.EndpointID)
		}
		// Release even when not paused: it finds nothing, or deliveries a
		// previous release could not reach.
		st.Pending = append(st.Pending, EndpointJob{Release: true})
	})
	sel.AddReceive(workflow.GetSignalChannel(ctx, SignalReplay), func(c workflow.ReceiveChannel, _ bool) {
		var r ReplaySignal
		c.Receive(ctx, &r)
		st.Pending = append(st.Pending, EndpointJob{Replay: &activities.ReplayInput{
			EndpointID: st.EndpointID, Since: r.Since, Until: r.Until, OnlyFailed: r.OnlyFailed}})
	})

	sel.AddReceive(workflow.GetSignalChannel(ctx, SignalSettings), func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		reload = true
	})

	running := false
	// settle carries out what the signals asked of the store, waiting out
	// an outage of the store for as long as it lasts.
	settle := func() error {
		if reload {
			var n int
			if err := patience.run(lctx, "read pause threshold", &n, h.PauseThreshold, st.EndpointID); err != nil {
				return err
			}
			if n > 0 && n != st.PauseThreshold {
				logger.Info("endpoint.pause_threshold_changed", "endpoint_id", st.EndpointID, "from", st.PauseThreshold, "to", n)
				st.PauseThreshold = n
				checkThreshold()
			}
			reload = false
		}
		if dirty {
			var seq int64
			err := patience.run(lctx, "save health", &seq, h.SaveHealth, st.EndpointID, activities.HealthSnapshot{
				State: st.State, PausedAt: st.PausedAt, PauseReason: st.PauseReason,
				SetFailures: setFailures, ConsecutiveFailures: st.ConsecutiveFailures,
			})
			if err != nil {
				return err
			}
			if setFailures && seq > 0 {
				st.HealthSeq = seq
			}
			dirty, setFailures = false, false
		}
		return nil
	}
	// settleOrContinue settles; a run that has waited its budget (and runs
	// no job, whose result it would lose) reads the signals it holds and
	// continues as new with the work still to do.
	settleOrContinue := func() error {
		for {
			err := settle()
			if !errors.Is(err, errRunFull) {
				return err
			}
			if running {
				patience.waits = 0
				continue
			}
			for sel.HasPending() {
				sel.Select(ctx)
			}
			st.Unsaved, st.UnsavedFailures, st.Reload = dirty, setFailures, reload
			return workflow.NewContinueAsNewError(ctx, EndpointHealth, st)
		}
	}

	if err := settleOrContinue(); err != nil { // what the previous run left to do
		return err
	}
	for signals := 0; ; signals++ {
		sel.Select(ctx)
		if err := settleOrContinue(); err != nil {
			return err
		}
		if !running && len(st.Pending) > 0 {
			job := st.Pending[0]
			st.Pending = st.Pending[1:]
			running = true
			var f workflow.Future
			if job.Release {
				f = workflow.ExecuteActivity(actx, h.ReleaseHeld, st.EndpointID)
			} else {
				f = workflow.ExecuteActivity(actx, h.Replay, *job.Replay)
			}
			sel.AddFuture(f, func(f workflow.Future) {
				var n int
				if err := f.Get(ctx, &n); err != nil {
					logger.Error("endpoint job failed", "endpoint_id", st.EndpointID, "error", err)
				}
				running = false
			})
		}
		if !running && !sel.HasPending() &&
			(signals+1 >= perRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()) {
			if len(st.Pending) == 0 {
				return workflow.NewContinueAsNewError(ctx, EndpointHealth, st)
			}
		}
	}
}
