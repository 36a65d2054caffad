package e2e

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/worker"
)

// An event committed with its deliveries, whose process died before it
// started their workflows, is still delivered: the reconciler starts them.
func TestReconcilerDeliversEventsWhoseWorkflowsNeverStarted(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	ctx := context.Background()
	ep, err := hookd.Store.GetEndpoint(ctx, epID)
	require.NoError(t, err)

	// What the API commits before it starts workflows — and then "dies".
	now := time.Now().UTC()
	in, err := hookd.Store.IngestEvent(ctx, models.Event{
		ID: models.NewID("evt"), TenantID: tenant, Type: "a", Payload: `{"lost":false}`, OccurredAt: now,
		IdempotencyKey: "crash-" + tenant, RequestHash: "h", CreatedAt: now,
	}, []models.Endpoint{*ep})
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, rcv.requests(), "nothing started the workflow")

	r := &worker.Reconciler{Store: hookd.Store, Client: hookd.Temporal, Logger: slog.New(slog.DiscardHandler), Grace: time.Millisecond}
	n, err := r.Pass(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 1)
	waitFor(t, 10*time.Second, "the reconciled delivery arrives", func() bool { return len(rcv.requests()) == 1 })
	require.Equal(t, in.Event.ID, rcv.requests()[0].Header.Get("webhook-id"))

	// A second pass finds the workflow already there and starts nothing new.
	_, err = r.Pass(ctx)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	require.Len(t, rcv.requests(), 1)
}
