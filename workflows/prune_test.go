package workflows

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
)

// pruneStore is a SQLite store with one endpoint, for Prune runs on the
// real activities.
type pruneStore struct {
	t  *testing.T
	s  *models.Store
	ep models.Endpoint
}

func newPruneStore(t *testing.T) *pruneStore {
	s, err := models.Open(t.TempDir() + "/hookd.db")
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(context.Background()))
	now := time.Now().UTC()
	ep := models.Endpoint{ID: models.NewID("ep"), TenantID: "acme", URL: "https://example.com/hook", Profile: "standard",
		Secret: "whsec_x", RetrySchedule: models.DefaultSchedule, TimeoutMS: 30000, PauseThreshold: 10,
		State: models.EndpointActive, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, s.CreateEndpoint(context.Background(), &ep))
	return &pruneStore{t: t, s: s, ep: ep}
}

// add stores n events, each with one delivery in status, created and last
// changed age ago.
func (p *pruneStore) add(n int, status string, age time.Duration) {
	at := time.Now().UTC().Add(-age)
	for i := 0; i < n; i++ {
		ev := models.Event{ID: models.NewID("evt"), TenantID: "acme", Type: "lead.created", Payload: "{}",
			OccurredAt: at, IdempotencyKey: models.NewID("key"), RequestHash: "h", CreatedAt: at}
		in, err := p.s.IngestEvent(context.Background(), ev, []models.Endpoint{p.ep})
		require.NoError(p.t, err)
		require.NoError(p.t, p.s.DB().Model(&models.Delivery{}).Where("id = ?", in.Deliveries[0].ID).
			Updates(map[string]any{"status": status, "updated_at": at}).Error)
	}
}

func (p *pruneStore) count(model any) int64 {
	var n int64
	require.NoError(p.t, p.s.DB().Model(model).Count(&n).Error)
	return n
}

// run runs Prune with in on the test suite and the store's real activities,
// and answers its result or the continue-as-new it ended with.
func (p *pruneStore) run(in PruneInput) (PruneResult, *workflow.ContinueAsNewError, error) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(Prune)
	env.RegisterActivity(&activities.Retention{Store: p.s})
	env.ExecuteWorkflow(Prune, in)
	require.True(p.t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if errors.As(err, &can) {
		return PruneResult{}, can, nil
	}
	if err != nil {
		return PruneResult{}, nil, err
	}
	var res PruneResult
	require.NoError(p.t, env.GetWorkflowResult(&res))
	return res, nil, nil
}

func TestPruneDeletesWhatFinishedBeforeTheRetentionAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	p := newPruneStore(t)
	p.add(7, models.DeliverySucceeded, 48*time.Hour)
	p.add(2, models.DeliveryFailed, 25*time.Hour)
	p.add(2, models.DeliveryPending, 48*time.Hour)
	p.add(1, models.DeliveryHeld, 48*time.Hour)
	p.add(3, models.DeliveryCancelled, 23*time.Hour)

	res, can, err := p.run(PruneInput{Retention: "24h0m0s", BatchSize: 3})
	require.NoError(t, err)
	require.Nil(t, can)
	require.Equal(t, PruneResult{Deliveries: 9, Events: 9}, res)
	var left []models.Delivery
	require.NoError(t, p.s.DB().Order("status").Find(&left).Error)
	statuses := map[string]int{}
	for _, d := range left {
		statuses[d.Status]++
	}
	require.Equal(t, map[string]int{models.DeliveryPending: 2, models.DeliveryHeld: 1, models.DeliveryCancelled: 3}, statuses,
		"pending, held and recently finished deliveries are kept")
	require.Equal(t, int64(6), p.count(&models.Event{}), "with their events")
}

// A run stops after BatchesPerRun batches and continues as new with its
// cutoff and its counts; the runs together prune everything.
func TestPruneContinuesAsNewWithItsCutoffAndCounts(t *testing.T) {
	t.Parallel()
	p := newPruneStore(t)
	p.add(10, models.DeliveryFailed, 48*time.Hour)
	in := PruneInput{Retention: "24h0m0s", BatchSize: 2, BatchesPerRun: 3}
	var before time.Time
	runs := 0
	for {
		runs++
		require.Less(t, runs, 20, "the runs end")
		res, can, err := p.run(in)
		require.NoError(t, err)
		if can == nil {
			require.Equal(t, PruneResult{Deliveries: 10, Events: 10}, res)
			break
		}
		var next PruneInput
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
		require.NotNil(t, next.Progress)
		if runs == 1 {
			before = next.Progress.Before
			require.WithinDuration(t, time.Now().Add(-24*time.Hour), before, time.Minute)
		}
		require.Equal(t, before, next.Progress.Before, "the cutoff stays the first run's")
		require.Equal(t, 2, next.BatchSize)
		in = next
	}
	// 6 batches of deliveries (the sixth finds none) and 6 of events (the
	// sixth finds none left to look at): 3 batches in each of 4 runs.
	require.Equal(t, 4, runs)
	require.Zero(t, p.count(&models.Delivery{}))
	require.Zero(t, p.count(&models.Attempt{}))
	require.Zero(t, p.count(&models.Event{}))
}

func TestPruneRefusesABadRetention(t *testing.T) {
	t.Parallel()
	p := newPruneStore(t)
	p.add(1, models.DeliveryFailed, 48*time.Hour)
	for _, r := range []string{"", "a month", "-1h"} {
		_, _, err := p.run(PruneInput{Retention: r})
		require.ErrorContains(t, err, "not a positive duration", fmt.Sprintf("%q", r))
	}
	require.Equal(t, int64(1), p.count(&models.Delivery{}), "nothing is pruned")
}
