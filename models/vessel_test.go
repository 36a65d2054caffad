package models_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

func newVesselEndpoint(connection string) *models.Endpoint {
	e := newEndpoint(connection, "*")
	e.Profile = "vessel"
	return e
}

func TestConcurrentVesselWebhookCreatesForOneConnectionHaveOneWinner(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		eps, winner := raceCreates(t, func() *models.Endpoint { return newVesselEndpoint("conn_race") },
			func(e *models.Endpoint) error { return s.CreateVesselWebhook(ctx, e) }, models.ErrVesselWebhookExists)

		got, err := s.GetVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: "conn_race"})
		require.NoError(t, err)
		require.Equal(t, eps[winner].ID, got.ID)
		var count int64
		require.NoError(t, s.DB().Model(&models.Endpoint{}).Where("tenant_id = ?", "conn_race").Count(&count).Error)
		require.Equal(t, int64(1), count, "a losing create wrote no endpoint")
	})
}

func TestDeletedVesselWebhookIsGoneAndItsOpenDeliveriesCancelled(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		e := newVesselEndpoint("conn_del")
		require.NoError(t, s.CreateVesselWebhook(ctx, e))
		in, err := s.IngestEvent(ctx, newEvent("conn_del", "STATUS_CHANGE", "k-del"), []models.Endpoint{*e})
		require.NoError(t, err)

		_, _, err = s.DeleteVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: "conn_del", EndpointID: models.NewID("ep")})
		require.ErrorIs(t, err, models.ErrNotFound, "a webhook id of another connection deletes nothing")

		deleted, open, err := s.DeleteVesselWebhook(ctx, models.VesselWebhookFilter{EndpointID: e.ID})
		require.NoError(t, err)
		require.Equal(t, e.ID, deleted.ID)
		require.Len(t, open, 1)
		d, err := s.GetDelivery(ctx, in.Deliveries[0].ID)
		require.NoError(t, err)
		require.Equal(t, models.DeliveryCancelled, d.Status)

		_, err = s.GetVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: "conn_del"})
		require.ErrorIs(t, err, models.ErrNotFound)
		_, err = s.GetEndpoint(ctx, e.ID)
		require.ErrorIs(t, err, models.ErrNotFound)
		_, _, err = s.DeleteVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: "conn_del"})
		require.ErrorIs(t, err, models.ErrNotFound)

		require.NoError(t, s.CreateVesselWebhook(ctx, newVesselEndpoint("conn_del")), "the connection can have a new webhook")
	})
}

func TestVesselWebhookWhoseEndpointWasDeletedOtherwiseNoLongerCounts(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		e := newVesselEndpoint("conn_stale")
		require.NoError(t, s.CreateVesselWebhook(ctx, e))
		_, err := s.DeleteEndpoint(ctx, e.ID)
		require.NoError(t, err)

		_, err = s.GetVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: "conn_stale"})
		require.ErrorIs(t, err, models.ErrNotFound)
		next := newVesselEndpoint("conn_stale")
		require.NoError(t, s.CreateVesselWebhook(ctx, next))
		got, err := s.GetVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: "conn_stale"})
		require.NoError(t, err)
		require.Equal(t, next.ID, got.ID)
	})
}

func TestConcurrentSoleEndpointCreatesForOneTenantHaveOneWinner(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		eps, winner := raceCreates(t, func() *models.Endpoint { return newEndpoint("tenant_sole_race", "*") },
			func(e *models.Endpoint) error { return s.CreateSoleEndpoint(ctx, e) }, models.ErrTenantHasEndpoint)
		var count int64
		require.NoError(t, s.DB().Model(&models.Endpoint{}).Where("tenant_id = ?", "tenant_sole_race").Count(&count).Error)
		require.Equal(t, int64(1), count, "a losing create wrote no endpoint")

		// The winner is the tenant's Vessel webhook too: the two rules are one.
		got, err := s.GetVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: "tenant_sole_race"})
		require.NoError(t, err)
		require.Equal(t, eps[winner].ID, got.ID)
		require.ErrorIs(t, s.CreateVesselWebhook(ctx, newVesselEndpoint("tenant_sole_race")), models.ErrVesselWebhookExists)
	})
}

func TestSoleEndpointCountsEndpointsThatNoMarkCovers(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		// An endpoint made while the setting was off has no mark.
		old := newEndpoint("tenant_sole_old", "*")
		require.NoError(t, s.CreateEndpoint(ctx, old))
		require.ErrorIs(t, s.CreateSoleEndpoint(ctx, newEndpoint("tenant_sole_old", "*")), models.ErrTenantHasEndpoint)
		_, err := s.GetVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: "tenant_sole_old"})
		require.ErrorIs(t, err, models.ErrNotFound, "the refused create left no mark")

		// Once it is deleted through the regular route, the tenant may have one again.
		_, err = s.DeleteEndpoint(ctx, old.ID)
		require.NoError(t, err)
		first := newEndpoint("tenant_sole_old", "*")
		require.NoError(t, s.CreateSoleEndpoint(ctx, first))
		_, err = s.DeleteEndpoint(ctx, first.ID)
		require.NoError(t, err)
		require.NoError(t, s.CreateSoleEndpoint(ctx, newEndpoint("tenant_sole_old", "*")), "a mark whose endpoint is gone does not count")

		// A Vessel webhook is the tenant's endpoint too.
		require.NoError(t, s.CreateVesselWebhook(ctx, newVesselEndpoint("conn_sole")))
		require.ErrorIs(t, s.CreateSoleEndpoint(ctx, newEndpoint("conn_sole", "*")), models.ErrTenantHasEndpoint)
	})
}

// raceCreates runs 10 creates of one tenant's endpoint at once and requires
// exactly one to win and every other to fail with lose. It returns the
// endpoints tried and the winner's index.
func raceCreates(t *testing.T, newEp func() *models.Endpoint, create func(*models.Endpoint) error, lose error) ([]*models.Endpoint, int) {
	t.Helper()
	const n = 10
	eps := make([]*models.Endpoint, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		eps[i] = newEp()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = create(eps[i])
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two creates won")
			winner = i
			continue
		}
		require.ErrorIs(t, err, lose, "create %d", i)
	}
	require.NotEqual(t, -1, winner, "one create won")
	return eps, winner
}
