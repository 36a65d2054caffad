package operations

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// applyPauses stands in for the health workflow: it applies pause and
// unpause signals to the store at once.
func (e *env) applyPauses() {
	e.engine.onSignal = func(ep *models.Endpoint, signal string) {
		state := map[string]string{workflows.SignalPause: models.EndpointPaused, workflows.SignalUnpause: models.EndpointActive}[signal]
		if state != "" {
			_, err := e.store.SaveHealth(e.ctx, ep.ID, models.Health{State: state})
			require.NoError(e.t, err)
		}
	}
}

func TestPauseAndUnpauseSignalTheHealthWorkflowAndAnswerOnceApplied(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		e.applyPauses()
		ep := e.endpoint(models.NewID("tenant"))
		h, err := e.ops.Pause(e.ctx, ep.ID, "maintenance")
		require.NoError(t, err)
		require.True(t, h.Applied)
		require.Equal(t, models.EndpointPaused, h.Endpoint.State)
		h, err = e.ops.Unpause(e.ctx, ep.ID)
		require.NoError(t, err)
		require.True(t, h.Applied)
		require.Equal(t, models.EndpointActive, h.Endpoint.State)
		require.Equal(t, []string{ep.ID + " " + workflows.SignalPause, ep.ID + " " + workflows.SignalUnpause}, e.engine.signalsSent())
	})
}

func TestPauseRefusesALongReasonAndAMissingEndpointWithoutSignalling(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		_, err := e.ops.Pause(e.ctx, ep.ID, string(make([]byte, 513)))
		requireKind(t, err, Invalid, "reason")
		_, err = e.ops.Pause(e.ctx, "ep_missing", "")
		requireKind(t, err, NotFound, "")
		_, err = e.ops.Unpause(e.ctx, "ep_missing")
		requireKind(t, err, NotFound, "")
		require.Empty(t, e.engine.signalsSent())
	})
}

func TestEndpointHealthCountsHeldDeliveries(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		ep := e.endpoint(tenant)
		e.setStatus(e.ingest(tenant).Deliveries[0].ID, models.DeliveryHeld)
		e.ingest(tenant)
		h, err := e.ops.EndpointHealth(e.ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), h.Held)
		require.True(t, h.Applied)
	})
}

func TestReplaySignalsTheRangeToTheHealthWorkflowAndADryRunOnlyCounts(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		ep := e.endpoint(tenant)
		failed := e.ingest(tenant).Deliveries[0]
		e.setStatus(failed.ID, models.DeliveryFailed)
		e.setStatus(e.ingest(tenant).Deliveries[0].ID, models.DeliverySucceeded)
		e.ingest(tenant) // still pending: not replayed
		since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

		r, err := e.ops.Replay(e.ctx, ep.ID, ReplayInput{Since: &since, DryRun: true})
		require.NoError(t, err)
		require.Equal(t, int64(2), r.Deliveries)
		require.Empty(t, e.engine.signalsSent(), "a dry run signals nothing")

		r, err = e.ops.Replay(e.ctx, ep.ID, ReplayInput{Since: &since, OnlyFailed: true})
		require.NoError(t, err)
		require.Equal(t, int64(1), r.Deliveries)
		require.False(t, r.Until.IsZero(), "until defaults to now")
		require.Equal(t, []string{ep.ID + " " + workflows.SignalReplay}, e.engine.signalsSent())
	})
}

func TestReplayRefusesAMissingOrEmptyRange(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		_, err := e.ops.Replay(e.ctx, ep.ID, ReplayInput{})
		requireKind(t, err, Invalid, "since")
		_, err = e.ops.Replay(e.ctx, ep.ID, ReplayInput{Since: ptr("last week")})
		requireKind(t, err, Invalid, "since")
		_, err = e.ops.Replay(e.ctx, ep.ID, ReplayInput{Since: ptr("2024-05-02T00:00:00Z"), Until: ptr("2024-05-01T00:00:00Z")})
		requireKind(t, err, Invalid, "until")
		_, err = e.ops.Replay(e.ctx, "ep_missing", ReplayInput{Since: ptr("2024-05-01T00:00:00Z")})
		requireKind(t, err, NotFound, "")
		require.Empty(t, e.engine.signalsSent())
	})
}

// A pause the workflow has not applied within AwaitTimeout answers the
// health as it is, not an error (the wait running out mid-read was a 500
// on PostgreSQL).
func TestPauseNotYetAppliedAnswersTheHealthAsItIs(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		h, err := e.ops.Pause(e.ctx, ep.ID, "")
		require.NoError(t, err)
		require.False(t, h.Applied)
		require.Equal(t, models.EndpointActive, h.Endpoint.State)
	})
}

// A disabled endpoint is neither paused nor unpaused (its workflow would
// never get there): the refusal says to enable it, and nothing is signalled.
func TestPauseAndUnpauseOfADisabledEndpointAreRefused(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		_, err := e.store.DisableEndpoint(e.ctx, ep.ID, "the receiver answered 410 Gone", time.Now())
		require.NoError(t, err)
		_, err = e.ops.Pause(e.ctx, ep.ID, "")
		requireKind(t, err, Conflict, "")
		require.Contains(t, err.Error(), "/v1/endpoints/"+ep.ID+"/enable")
		_, err = e.ops.Unpause(e.ctx, ep.ID)
		requireKind(t, err, Conflict, "")
		require.Empty(t, e.engine.signalsSent())
	})
}
