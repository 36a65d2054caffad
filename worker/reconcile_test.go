package worker

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// fakeEngine says which deliveries' workflows run and records the runs the
// reconciler starts again.
type fakeEngine struct {
	mu      sync.Mutex
	running map[string]bool
	again   map[string]engine.Redelivery
}

func (f *fakeEngine) DeliveryRunning(_ context.Context, d *models.Delivery) (bool, error) {
	return f.running[d.ID], nil
}

func (f *fakeEngine) StartAgain(_ context.Context, id string, r engine.Redelivery) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.again[id] = r
	return true, nil
}

// orphans stores n events of one endpoint, each with a pending delivery
// whose workflow is overdue.
func orphans(t *testing.T, s *models.Store, n int) []models.Delivery {
	ctx := context.Background()
	now := time.Now().UTC()
	ep := &models.Endpoint{ID: models.NewID("ep"), TenantID: models.NewID("tenant"), URL: "https://example.com", EventTypes: []string{"*"},
		Profile: "standard", Secret: "whsec_x", TimeoutMS: 1000, PauseThreshold: 10, State: models.EndpointActive,
		CreatedAt: now, UpdatedAt: now}
	require.NoError(t, s.CreateEndpoint(ctx, ep))
	var ds []models.Delivery
	for range n {
		in, err := s.IngestEvent(ctx, models.Event{ID: models.NewID("evt"), TenantID: ep.TenantID, Type: "a", Payload: `{}`,
			OccurredAt: now, IdempotencyKey: models.NewID("key"), RequestHash: "h", CreatedAt: now}, []models.Endpoint{*ep})
		require.NoError(t, err)
		ds = append(ds, in.Deliveries...)
	}
	return ds
}

func TestReconcilerStartsAgainOnlyTheDeliveriesWhoseWorkflowIsNotRunning(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ds := orphans(t, s, 2)
		busy, lost := ds[0], ds[1]
		eng := &fakeEngine{running: map[string]bool{busy.ID: true}, again: map[string]engine.Redelivery{}}
		r := &Reconciler{Store: s, Engine: eng, Logger: slog.New(slog.DiscardHandler), Grace: -time.Second}
		n, err := r.Pass(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, map[string]engine.Redelivery{lost.ID: {Trigger: models.TriggerSchedule, OnlyPending: true}}, eng.again)

		// The running one is left for Recheck; the one started is due again after Grace.
		overdue, err := s.ListOverdue(ctx, time.Now().Add(time.Second), 10)
		require.NoError(t, err)
		require.Len(t, overdue, 1)
		require.Equal(t, lost.ID, overdue[0].ID)
	})
}
