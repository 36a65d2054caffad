package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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

// Old deliveries that stay unattempted for a while for good reason (under a
// backlog their workflows run but their first attempt has not been recorded
// yet; starting them again is a no-op) must not keep the reconciler from
// newer orphans: passes page on with a cursor, and one pass pages through
// everything when MaxPerPass allows.
func TestReconcilerPagesPastABacklogOfBusyDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	t.Parallel()
	// A hookd of its own, so that the only unstarted deliveries are this test's.
	h, err := startDev(t.TempDir())
	require.NoError(t, err)
	defer h.Stop(context.Background())
	c := &client{t: t, base: h.APIURL, key: apiKey}
	ctx := context.Background()

	// Four busy deliveries, oldest of all: their receiver holds the first
	// attempt until the end of the test, so none is recorded.
	release := make(chan struct{})
	var busyGot atomic.Int64
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		busyGot.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer busy.Close()
	defer close(release)
	busyTenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": busy.URL, "tenant_id": busyTenant, "timeout": "30s"})
	for i := range 4 {
		c.postEvent(fmt.Sprintf("busy-%d-%s", i, busyTenant), map[string]any{"type": "a", "tenant_id": busyTenant, "payload": map[string]any{}})
	}
	waitFor(t, 10*time.Second, "four attempts in flight", func() bool { return busyGot.Load() == 4 })

	// Orphans: committed, their workflows never started.
	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	ep, err := h.Store.GetEndpoint(ctx, epID)
	require.NoError(t, err)
	orphan := func(n int) {
		for i := range n {
			now := time.Now().UTC()
			_, err := h.Store.IngestEvent(ctx, models.Event{
				ID: models.NewID("evt"), TenantID: tenant, Type: "a", Payload: `{}`, OccurredAt: now,
				IdempotencyKey: models.NewID("orphan"), RequestHash: fmt.Sprint(i), CreatedAt: now,
			}, []models.Endpoint{*ep})
			require.NoError(t, err)
		}
	}
	orphan(3)
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, rcv.requests())

	// Two per pass: the first two passes see only busy deliveries (the old
	// code, with no cursor, saw them and nothing else, pass after pass).
	r := &worker.Reconciler{Store: h.Store, Client: h.Temporal, Logger: slog.New(slog.DiscardHandler),
		Grace: time.Millisecond, PageSize: 2, MaxPerPass: 2}
	for pass, want := range []int{2, 2, 2, 1} {
		n, err := r.Pass(ctx)
		require.NoError(t, err)
		require.Equal(t, want, n, "pass %d", pass+1)
		if pass < 2 {
			time.Sleep(200 * time.Millisecond)
			require.Empty(t, rcv.requests(), "pass %d looked at busy deliveries only", pass+1)
		}
	}
	waitFor(t, 10*time.Second, "the three orphans arrive", func() bool { return len(rcv.requests()) == 3 })
	require.Equal(t, int64(4), busyGot.Load(), "busy deliveries were not started again")
	// The cycle is over: the next pass starts from the oldest again.
	n, err := r.Pass(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	// Without a per-pass bound, one pass pages through all of them.
	waitFor(t, 10*time.Second, "the orphans' attempts are recorded", func() bool {
		ds, err := h.Store.ListUnstarted(ctx, time.Now(), "", 100)
		require.NoError(t, err)
		return len(ds) == 4
	})
	orphan(3)
	time.Sleep(50 * time.Millisecond) // older than the 1ms grace
	one := &worker.Reconciler{Store: h.Store, Client: h.Temporal, Logger: slog.New(slog.DiscardHandler),
		Grace: time.Millisecond, PageSize: 2}
	n, err = one.Pass(ctx)
	require.NoError(t, err)
	require.Equal(t, 4+3, n)
	waitFor(t, 10*time.Second, "the next three orphans arrive", func() bool { return len(rcv.requests()) == 6 })
	require.Equal(t, int64(4), busyGot.Load())
}
