package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// retentionFixture is a store with one endpoint and helpers that store an
// event with one delivery in a given status, back-dated.
type retentionFixture struct {
	t  *testing.T
	s  *models.Store
	ep *models.Endpoint
}

func newRetentionFixture(t *testing.T, s *models.Store) *retentionFixture {
	ep := newEndpoint("acme")
	require.NoError(t, s.CreateEndpoint(context.Background(), ep))
	return &retentionFixture{t: t, s: s, ep: ep}
}

// delivery stores an event created at `at`, with one delivery to the
// endpoint in status, last changed at `at`, and attempts attempts.
func (f *retentionFixture) delivery(status string, at time.Time, attempts int) models.Delivery {
	ctx := context.Background()
	ev := newEvent("acme", "lead.created", models.NewID("key"))
	ev.CreatedAt = at
	in, err := f.s.IngestEvent(ctx, ev, []models.Endpoint{*f.ep})
	require.NoError(f.t, err)
	d := in.Deliveries[0]
	for i := 1; i <= attempts; i++ {
		require.NoError(f.t, f.s.DB().Create(&models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: i,
			Trigger: models.TriggerSchedule, URL: f.ep.URL, StartedAt: at, CreatedAt: at}).Error)
	}
	require.NoError(f.t, f.s.DB().Model(&models.Delivery{}).Where("id = ?", d.ID).
		Updates(map[string]any{"status": status, "updated_at": at, "created_at": at}).Error)
	d.Status = status
	return d
}

func (f *retentionFixture) exists(model any, id string) bool {
	var n int64
	require.NoError(f.t, f.s.DB().Model(model).Where("id = ?", id).Count(&n).Error)
	return n == 1
}

func (f *retentionFixture) attempts(deliveryID string) int64 {
	var n int64
	require.NoError(f.t, f.s.DB().Model(&models.Attempt{}).Where("delivery_id = ?", deliveryID).Count(&n).Error)
	return n
}

func TestPruneDeletesOldFinishedDeliveriesWithTheirAttemptsAndNeverPendingOrHeld(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newRetentionFixture(t, s)
		cutoff := time.Now().UTC().Add(-24 * time.Hour)
		old := cutoff.Add(-time.Hour)
		gone := map[string]models.Delivery{}
		for _, status := range []string{models.DeliverySucceeded, models.DeliveryFailed, models.DeliveryCancelled} {
			gone[status] = f.delivery(status, old, 2)
		}
		kept := map[string]models.Delivery{
			"old pending":     f.delivery(models.DeliveryPending, old, 1),
			"old held":        f.delivery(models.DeliveryHeld, old, 1),
			"recent succeded": f.delivery(models.DeliverySucceeded, cutoff.Add(time.Minute), 1),
		}

		n, err := s.PruneDeliveries(ctx, cutoff, 500)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		for status, d := range gone {
			require.False(t, f.exists(&models.Delivery{}, d.ID), "an old %s delivery is pruned", status)
			require.Zero(t, f.attempts(d.ID), "with its attempts (%s)", status)
		}
		for name, d := range kept {
			require.True(t, f.exists(&models.Delivery{}, d.ID), "%s delivery is kept", name)
			require.Equal(t, int64(1), f.attempts(d.ID), "%s delivery keeps its attempts", name)
		}
		n, err = s.PruneDeliveries(ctx, cutoff, 500)
		require.NoError(t, err)
		require.Zero(t, n, "nothing is left to prune")
	})
}

func TestPruneDeliveriesDeletesAtMostOneBatchOldestFirst(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newRetentionFixture(t, s)
		cutoff := time.Now().UTC()
		var ds []models.Delivery
		for i := 0; i < 7; i++ {
			ds = append(ds, f.delivery(models.DeliveryFailed, cutoff.Add(-time.Duration(10-i)*time.Hour), 1))
		}
		n, err := s.PruneDeliveries(ctx, cutoff, 3)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		for i, d := range ds {
			require.Equal(t, i >= 3, f.exists(&models.Delivery{}, d.ID), "delivery %d of 7, oldest first", i)
		}
		for _, want := range []int{3, 1, 0} {
			n, err = s.PruneDeliveries(ctx, cutoff, 3)
			require.NoError(t, err)
			require.Equal(t, want, n)
		}
		_, err = s.PruneDeliveries(ctx, cutoff, 0)
		require.Error(t, err, "a batch of none is a mistake of the caller")
	})
}

func TestPruneEventsKeepsEventsThatStillHaveDeliveries(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newRetentionFixture(t, s)
		cutoff := time.Now().UTC().Add(-time.Hour)
		old := cutoff.Add(-48 * time.Hour)
		finished := f.delivery(models.DeliverySucceeded, old, 1)
		pending := f.delivery(models.DeliveryPending, old, 0)
		held := f.delivery(models.DeliveryHeld, old, 0)
		// Its event is old, but the delivery finished recently: both stay.
		recentlyFinished := f.delivery(models.DeliveryFailed, old, 1)
		require.NoError(t, s.DB().Model(&models.Delivery{}).Where("id = ?", recentlyFinished.ID).Update("updated_at", cutoff.Add(time.Minute)).Error)
		// An old event no endpoint wanted, and a recent one.
		lonely := newEvent("acme", "lead.created", "lonely")
		lonely.CreatedAt = old
		_, err := s.IngestEvent(ctx, lonely, nil)
		require.NoError(t, err)
		recent := newEvent("acme", "lead.created", "recent")
		recent.CreatedAt = cutoff.Add(time.Minute)
		_, err = s.IngestEvent(ctx, recent, nil)
		require.NoError(t, err)

		n, err := s.PruneDeliveries(ctx, cutoff, 500)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		deleted := 0
		var cur models.EventCursor
		for walks := 0; ; walks++ {
			require.Less(t, walks, 10, "the walk ends")
			p, err := s.PruneEvents(ctx, cutoff, 2, cur)
			require.NoError(t, err)
			deleted += p.Deleted
			if p.Done {
				break
			}
			require.NotEqual(t, cur, p.Next, "the cursor moves")
			cur = p.Next
		}
		require.Equal(t, 2, deleted)
		require.False(t, f.exists(&models.Event{}, finished.EventID), "the event of a pruned delivery is pruned")
		require.False(t, f.exists(&models.Event{}, lonely.ID), "an old event without deliveries is pruned")
		for name, id := range map[string]string{
			"pending": pending.EventID, "held": held.EventID, "recently finished": recentlyFinished.EventID, "recent": recent.ID,
		} {
			require.True(t, f.exists(&models.Event{}, id), "the event of a %s delivery is kept", name)
		}
	})
}

// The walk visits events created in the same instant one by one: the
// cursor's id breaks the tie.
func TestPruneEventsWalksEventsOfOneInstant(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		for i := 0; i < 5; i++ {
			ev := newEvent("acme", "lead.created", fmt.Sprintf("k%d", i))
			ev.CreatedAt = at
			_, err := s.IngestEvent(ctx, ev, nil)
			require.NoError(t, err)
		}
		var cur models.EventCursor
		total := 0
		for calls := 1; ; calls++ {
			p, err := s.PruneEvents(ctx, time.Now(), 2, cur)
			require.NoError(t, err)
			total += p.Deleted
			cur = p.Next
			if p.Done {
				require.Equal(t, 3, calls, "2 + 2 + 1")
				break
			}
		}
		require.Equal(t, 5, total)
	})
}
