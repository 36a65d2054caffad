package models_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

func newPrimaryEndpoint(tenant string) *models.Endpoint {
	return newEndpoint(tenant, "*")
}

func TestConcurrentPrimaryEndpointCreatesForOneTenantHaveOneWinner(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		eps, winner := raceCreates(t, func() *models.Endpoint { return newPrimaryEndpoint("tenant_prim_race") },
			func(e *models.Endpoint) error { return s.CreatePrimaryEndpoint(ctx, e) }, models.ErrPrimaryEndpointExists)

		got, err := s.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: "tenant_prim_race"})
		require.NoError(t, err)
		require.Equal(t, eps[winner].ID, got.ID)
		var count int64
		require.NoError(t, s.DB().Model(&models.Endpoint{}).Where("tenant_id = ?", "tenant_prim_race").Count(&count).Error)
		require.Equal(t, int64(1), count, "a losing create wrote no endpoint")
	})
}

func TestDeletedPrimaryEndpointIsGoneAndItsOpenDeliveriesCancelled(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		e := newPrimaryEndpoint("tenant_prim_del")
		require.NoError(t, s.CreatePrimaryEndpoint(ctx, e))
		in, err := s.IngestEvent(ctx, newEvent("tenant_prim_del", "STATUS_CHANGE", "k-del"), []models.Endpoint{*e})
		require.NoError(t, err)

		_, _, err = s.DeletePrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: "tenant_prim_del", EndpointID: models.NewID("ep")})
		require.ErrorIs(t, err, models.ErrNotFound, "an endpoint id of another tenant deletes nothing")

		deleted, open, err := s.DeletePrimaryEndpoint(ctx, models.PrimaryEndpointFilter{EndpointID: e.ID})
		require.NoError(t, err)
		require.Equal(t, e.ID, deleted.ID)
		require.Len(t, open, 1)
		d, err := s.GetDelivery(ctx, in.Deliveries[0].ID)
		require.NoError(t, err)
		require.Equal(t, models.DeliveryCancelled, d.Status)

		_, err = s.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: "tenant_prim_del"})
		require.ErrorIs(t, err, models.ErrNotFound)
		_, err = s.GetEndpoint(ctx, e.ID)
		require.ErrorIs(t, err, models.ErrNotFound)
		_, _, err = s.DeletePrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: "tenant_prim_del"})
		require.ErrorIs(t, err, models.ErrNotFound)

		require.NoError(t, s.CreatePrimaryEndpoint(ctx, newPrimaryEndpoint("tenant_prim_del")), "the tenant can have a new primary endpoint")
	})
}

func TestPrimaryEndpointWhoseEndpointWasDeletedOtherwiseNoLongerCounts(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		e := newPrimaryEndpoint("tenant_prim_stale")
		require.NoError(t, s.CreatePrimaryEndpoint(ctx, e))
		_, err := s.DeleteEndpoint(ctx, e.ID)
		require.NoError(t, err)

		_, err = s.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: "tenant_prim_stale"})
		require.ErrorIs(t, err, models.ErrNotFound)
		next := newPrimaryEndpoint("tenant_prim_stale")
		require.NoError(t, s.CreatePrimaryEndpoint(ctx, next))
		got, err := s.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: "tenant_prim_stale"})
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

		// The winner is the tenant's primary endpoint too: the two rules are one.
		got, err := s.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: "tenant_sole_race"})
		require.NoError(t, err)
		require.Equal(t, eps[winner].ID, got.ID)
		require.ErrorIs(t, s.CreatePrimaryEndpoint(ctx, newPrimaryEndpoint("tenant_sole_race")), models.ErrPrimaryEndpointExists)
	})
}

func TestSoleEndpointCountsEndpointsThatNoMarkCovers(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		// An endpoint made while the setting was off has no mark.
		old := newEndpoint("tenant_sole_old", "*")
		require.NoError(t, s.CreateEndpoint(ctx, old))
		require.ErrorIs(t, s.CreateSoleEndpoint(ctx, newEndpoint("tenant_sole_old", "*")), models.ErrTenantHasEndpoint)
		_, err := s.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: "tenant_sole_old"})
		require.ErrorIs(t, err, models.ErrNotFound, "the refused create left no mark")

		// Once it is deleted through the regular route, the tenant may have one again.
		_, err = s.DeleteEndpoint(ctx, old.ID)
		require.NoError(t, err)
		first := newEndpoint("tenant_sole_old", "*")
		require.NoError(t, s.CreateSoleEndpoint(ctx, first))
		_, err = s.DeleteEndpoint(ctx, first.ID)
		require.NoError(t, err)
		require.NoError(t, s.CreateSoleEndpoint(ctx, newEndpoint("tenant_sole_old", "*")), "a mark whose endpoint is gone does not count")

		// A primary endpoint is the tenant's endpoint too.
		require.NoError(t, s.CreatePrimaryEndpoint(ctx, newPrimaryEndpoint("tenant_prim_sole")))
		require.ErrorIs(t, s.CreateSoleEndpoint(ctx, newEndpoint("tenant_prim_sole", "*")), models.ErrTenantHasEndpoint)
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

// A store made when primary endpoints were Vessel webhooks (table
// vessel_webhooks, keyed by connection_id) keeps its rows through Migrate,
// under the generic names, and the one-per-tenant rule still holds.
func TestMigrateRenamesTheLegacyVesselWebhooksTable(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		e := newPrimaryEndpoint("tenant_prim_legacy")
		require.NoError(t, s.CreateEndpoint(ctx, e))
		db := s.DB()
		require.NoError(t, db.Migrator().DropTable(&models.PrimaryEndpoint{}))
		require.NoError(t, db.Exec(`CREATE TABLE vessel_webhooks (connection_id varchar(255) PRIMARY KEY,
			endpoint_id varchar(40) NOT NULL, created_at timestamp)`).Error)
		require.NoError(t, db.Exec(`CREATE UNIQUE INDEX idx_vessel_webhooks_endpoint ON vessel_webhooks (endpoint_id)`).Error)
		require.NoError(t, db.Exec(`INSERT INTO vessel_webhooks (connection_id, endpoint_id, created_at) VALUES (?, ?, ?)`,
			e.TenantID, e.ID, e.CreatedAt).Error)

		require.NoError(t, s.Migrate(ctx))
		require.NoError(t, s.Migrate(ctx), "twice is safe")

		require.False(t, db.Migrator().HasTable("vessel_webhooks"))
		require.True(t, db.Migrator().HasIndex(&models.PrimaryEndpoint{}, "idx_primary_endpoints_endpoint"))
		got, err := s.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: e.TenantID})
		require.NoError(t, err)
		require.Equal(t, e.ID, got.ID)
		require.ErrorIs(t, s.CreatePrimaryEndpoint(ctx, newPrimaryEndpoint(e.TenantID)), models.ErrPrimaryEndpointExists)
	})
}
