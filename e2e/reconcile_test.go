package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/worker"
)

// An event committed with its deliveries, whose process died before it
// started their workflows, is still delivered: the reconciler starts them.
func TestReconcilerDeliversEventsWhoseWorkflowsNeverStarted(t *testing.T) {
	// Not parallel: its reconciler passes look at the shared hookd, and
	// must not start another test's orphans (nor this one's be started).
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

	r := &worker.Reconciler{Store: hookd.Store, Engine: hookd.Engine, Logger: slog.New(slog.DiscardHandler), Grace: time.Millisecond}
	_, err = r.Pass(ctx)
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "the reconciled delivery arrives", func() bool { return len(rcv.requests()) == 1 })
	require.Equal(t, in.Event.ID, rcv.requests()[0].Header.Get("webhook-id"))

	// A second pass finds the workflow already there and starts nothing new.
	_, err = r.Pass(ctx)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	require.Len(t, rcv.requests(), 1)
}

// A delivery whose workflow is running but late (under a backlog its first
// attempt is not recorded yet) is looked at once, then left alone for
// Recheck: it does not keep the reconciler from orphans behind it, and a
// backlog costs one look per delivery, not a start and a select per pass.
func TestReconcilerLooksAtABusyDeliveryOnceAndStartsTheOrphansBehindIt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	t.Parallel()
	// A hookd of its own, so that the only overdue deliveries are this test's.
	h, err := startDev(t.TempDir())
	require.NoError(t, err)
	defer h.Stop(context.Background())
	c := &client{t: t, base: h.APIURL, key: apiKey}
	ctx := context.Background()

	// Four busy deliveries, oldest of all: their receiver holds the first
	// attempt until the end of the test, so none is recorded.
	release := make(chan struct{})
	var (
		mu     sync.Mutex
		busyOf = map[string]int{} // requests per webhook-id
	)
	busyGot := func() (total int, byID map[string]int) {
		mu.Lock()
		defer mu.Unlock()
		byID = maps.Clone(busyOf)
		for _, n := range byID {
			total += n
		}
		return total, byID
	}
	busyPath := "/" + models.NewID("rcv") // strays from a recycled port are not counted
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !underPath(r, busyPath) {
			http.Error(w, "not this receiver's path", http.StatusGone)
			return
		}
		mu.Lock()
		busyOf[r.Header.Get("webhook-id")]++
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer busy.Close()
	defer close(release)
	busyTenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": busy.URL + busyPath, "tenant_id": busyTenant, "timeout": "30s"})
	var busyIDs []string
	for i := range 4 {
		ev := c.postEvent(fmt.Sprintf("busy-%d-%s", i, busyTenant), map[string]any{"type": "a", "tenant_id": busyTenant, "payload": map[string]any{}})
		busyIDs = append(busyIDs, ev["id"].(string))
	}
	waitFor(t, 10*time.Second, "four attempts in flight", func() bool { n, _ := busyGot(); return n >= 4 })

	// Orphans: committed, their workflows never started.
	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	ep, err := h.Store.GetEndpoint(ctx, epID)
	require.NoError(t, err)
	for i := range 3 {
		now := time.Now().UTC()
		_, err := h.Store.IngestEvent(ctx, models.Event{
			ID: models.NewID("evt"), TenantID: tenant, Type: "a", Payload: `{}`, OccurredAt: now,
			IdempotencyKey: models.NewID("orphan"), RequestHash: fmt.Sprint(i), CreatedAt: now,
		}, []models.Endpoint{*ep})
		require.NoError(t, err)
	}
	time.Sleep(1100 * time.Millisecond) // past the grace, whole seconds apart from the busy ones
	require.Empty(t, rcv.requests())

	// Two a pass: the first two passes look at the busy deliveries (and
	// start nothing), the next two start the orphans.
	r := &worker.Reconciler{Store: h.Store, Engine: h.Engine, Logger: slog.New(slog.DiscardHandler),
		Grace: time.Second, PageSize: 2, MaxPerPass: 2}
	for pass, want := range []int{0, 0, 2, 1, 0} {
		n, err := r.Pass(ctx)
		require.NoError(t, err)
		require.Equal(t, want, n, "started by pass %d", pass+1)
	}
	waitFor(t, 10*time.Second, "the three orphans arrive", func() bool { return len(rcv.requests()) == 3 })
	_, byID := busyGot()
	for _, id := range busyIDs {
		require.Equal(t, 1, byID[id], "busy delivery %s was not started again (requests per webhook-id: %v)", id, byID)
	}
	require.Len(t, byID, 4, "requests per webhook-id: %v", byID)
	overdue, err := h.Store.ListOverdue(ctx, time.Now(), 100)
	require.NoError(t, err)
	require.Empty(t, overdue, "the busy ones are deferred for Recheck; the orphans are delivered")
}

// A delivery that has had attempts, and whose workflow is no longer running
// (it failed, was terminated, or its run was lost), is restarted once it is
// overdue: it is not left pending for good.
func TestReconcilerRestartsADeliveryWithAttemptsWhoseWorkflowIsGone(t *testing.T) {
	// Not parallel: its reconciler passes look at the shared hookd, and
	// must not start another test's orphans (nor this one's be started).
	c := api(t)
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return 500
		}
		return 200
	})
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{"1h"}})
	ev := c.postEvent("gone-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
	d := ev["deliveries"].([]any)[0].(map[string]any)
	id := d["id"].(string)
	ctx := context.Background()
	waitFor(t, 10*time.Second, "the first attempt is recorded", func() bool {
		got, err := hookd.Store.GetDelivery(ctx, id)
		require.NoError(t, err)
		return got.AttemptCount == 1
	})
	require.NoError(t, hookd.Temporal.TerminateWorkflow(ctx, d["workflow_id"].(string), "", "lost, as a run failed by an outage was"))
	// An hour later, its retry is overdue.
	require.NoError(t, hookd.Store.DB().Model(&models.Delivery{}).Where("id = ?", id).
		Update("reconcile_at", time.Now().Add(-time.Hour)).Error)

	r := &worker.Reconciler{Store: hookd.Store, Engine: hookd.Engine, Logger: slog.New(slog.DiscardHandler), Grace: time.Millisecond}
	_, err := r.Pass(ctx)
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "the delivery is made", func() bool { return len(rcv.requests()) == 2 })
	waitFor(t, 10*time.Second, "it succeeds", func() bool {
		got, err := hookd.Store.GetDelivery(ctx, id)
		require.NoError(t, err)
		return got.Status == models.DeliverySucceeded
	})
}

// A redelivery whose workflow start failed (the delivery is reset to
// pending, then Temporal refused the start) is not stranded: the
// reconciler starts it.
func TestReconcilerStartsARedeliveryWhoseStartFailed(t *testing.T) {
	// Not parallel: its reconciler passes look at the shared hookd, and
	// must not start another test's orphans (nor this one's be started).
	c := api(t)
	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	ev := c.postEvent("redeliver-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
	id := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	ctx := context.Background()
	waitFor(t, 10*time.Second, "the delivery succeeds", func() bool {
		got, err := hookd.Store.GetDelivery(ctx, id)
		require.NoError(t, err)
		return got.Status == models.DeliverySucceeded
	})
	ok, err := hookd.Store.ResetForRedelivery(ctx, id) // ... and the start that should follow fails
	require.NoError(t, err)
	require.True(t, ok)
	time.Sleep(20 * time.Millisecond)

	r := &worker.Reconciler{Store: hookd.Store, Engine: hookd.Engine, Logger: slog.New(slog.DiscardHandler), Grace: time.Millisecond}
	_, err = r.Pass(ctx)
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "the redelivery is made", func() bool { return len(rcv.requests()) == 2 })
}
