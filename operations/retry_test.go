package operations

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
)

func TestRetryOfAFinishedDeliveryResetsItAndStartsASingleAttempt(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		for _, status := range []string{models.DeliverySucceeded, models.DeliveryFailed} {
			d := e.ingest(tenant).Deliveries[0]
			e.setStatus(d.ID, status)
			got, err := e.ops.RetryDelivery(e.ctx, d.ID)
			require.NoError(t, err, status)
			require.Equal(t, models.DeliveryPending, got.Status, "%s: reset before its new run", status)
			require.Equal(t, engine.Redelivery{Trigger: models.TriggerManual, SingleAttempt: true}, e.engine.again[d.ID], status)
		}
		require.Empty(t, e.engine.retried)
	})
}

func TestRetryOfADeliveryUnderWaySignalsItsRun(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		d := e.ingest(tenant).Deliveries[0]
		e.engine.running = true
		got, err := e.ops.RetryDelivery(e.ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, d.ID, got.ID)
		require.Equal(t, []string{d.ID}, e.engine.retried)
		require.Empty(t, e.engine.again, "its open run makes the attempt")

		// A pending delivery whose run is gone gets a new one.
		e.engine.running = false
		_, err = e.ops.RetryDelivery(e.ctx, d.ID)
		require.NoError(t, err)
		require.Contains(t, e.engine.again, d.ID)
	})
}

func TestRetryOnAPausedEndpointIsAConflict(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		ep := e.endpoint(tenant)
		d := e.ingest(tenant).Deliveries[0]
		_, err := e.store.SaveHealth(e.ctx, ep.ID, models.Health{State: models.EndpointPaused})
		require.NoError(t, err)
		_, err = e.ops.RetryDelivery(e.ctx, d.ID)
		requireKind(t, err, Conflict, "")
		require.Contains(t, err.Error(), "unpause it first")
		require.Empty(t, e.engine.again)
	})
}

func TestRetryOfACancelledDeliveryOfADeletedEndpointIsNotFound(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		ep := e.endpoint(tenant)
		d := e.ingest(tenant).Deliveries[0]
		require.NoError(t, e.ops.DeleteEndpoint(e.ctx, ep.ID))
		_, err := e.ops.RetryDelivery(e.ctx, d.ID)
		requireKind(t, err, NotFound, "")
		_, err = e.ops.RetryDelivery(e.ctx, "dlv_missing")
		requireKind(t, err, NotFound, "")
		require.Empty(t, e.engine.again)
	})
}

func TestGetDeliveryAnswersItsAttemptsAndNotFound(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		in := e.ingest(tenant)
		d, atts, err := e.ops.GetDelivery(e.ctx, in.Deliveries[0].ID)
		require.NoError(t, err)
		require.Equal(t, in.Deliveries[0].ID, d.ID)
		require.Empty(t, atts)
		ds, err := e.ops.ListDeliveries(e.ctx, models.DeliveryFilter{EventID: in.Event.ID, Limit: 10})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		_, _, err = e.ops.GetDelivery(e.ctx, "dlv_missing")
		requireKind(t, err, NotFound, "")
		_, _, err = e.ops.GetEvent(e.ctx, "evt_missing", "", 10)
		requireKind(t, err, NotFound, "")
	})
}
