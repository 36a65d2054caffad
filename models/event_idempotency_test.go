package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

func TestIdempotencyKeysAreScopedPerTenant(t *testing.T) {
	backends(t, requireKeyPerTenant)
}

// requireKeyPerTenant ingests one event for each of two tenants under the
// same key: both are stored, each with its own delivery, and each tenant's
// replay finds its own.
func requireKeyPerTenant(t *testing.T, s *models.Store) {
	t.Helper()
	ctx := context.Background()
	a, b := newEndpoint("tenant-a", "*"), newEndpoint("tenant-b", "*")
	require.NoError(t, s.CreateEndpoint(ctx, a))
	require.NoError(t, s.CreateEndpoint(ctx, b))
	inA, err := s.IngestEvent(ctx, newEvent(a.TenantID, "lead.created", "shared-key"), []models.Endpoint{*a})
	require.NoError(t, err)
	inB, err := s.IngestEvent(ctx, newEvent(b.TenantID, "lead.created", "shared-key"), []models.Endpoint{*b})
	require.NoError(t, err)
	require.False(t, inB.Replayed, "another tenant's key is not a replay")
	require.NotEqual(t, inA.Event.ID, inB.Event.ID)
	require.Equal(t, b.TenantID, inB.Event.TenantID)
	require.Equal(t, b.ID, inB.Deliveries[0].EndpointID)

	again, err := s.IngestEvent(ctx, newEvent(b.TenantID, "lead.created", "shared-key"), []models.Endpoint{*b})
	require.NoError(t, err)
	require.True(t, again.Replayed)
	require.Equal(t, inB.Event.ID, again.Event.ID, "a replay finds its own tenant's event")
}

// A database made before keys were scoped per tenant has a unique index on
// idempotency_key alone; Migrate drops it, on either dialect.
func TestMigrateDropsTheGlobalIdempotencyIndex(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		db := s.DB()
		const legacy = "idx_events_idempotency_key"
		if db.Migrator().HasIndex(&models.Event{}, "idx_events_tenant_idempotency_key") {
			require.NoError(t, db.Migrator().DropIndex(&models.Event{}, "idx_events_tenant_idempotency_key"))
		}
		if !db.Migrator().HasIndex(&models.Event{}, legacy) {
			require.NoError(t, db.Exec("CREATE UNIQUE INDEX "+legacy+" ON events (idempotency_key)").Error)
		}
		require.NoError(t, s.Migrate(ctx))
		require.False(t, db.Migrator().HasIndex(&models.Event{}, legacy), "the global index is dropped")
		require.True(t, db.Migrator().HasIndex(&models.Event{}, "idx_events_tenant_idempotency_key"), "the per-tenant index exists")
		requireKeyPerTenant(t, s)
	})
}
