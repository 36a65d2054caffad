package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// A PATCH loads the endpoint, changes some fields and writes them back; a
// secret rotation that commits in between must survive it.
func TestUpdateEndpointFromAStaleCopyKeepsAConcurrentRotation(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		e := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, e))
		stale, err := s.GetEndpoint(ctx, e.ID)
		require.NoError(t, err)

		_, err = s.RotateSecret(ctx, e.ID, "whsec_rotated", time.Hour, time.Now())
		require.NoError(t, err)

		stale.Description = "patched"
		got, err := s.UpdateEndpoint(ctx, stale, "description")
		require.NoError(t, err)
		stored, err := s.GetEndpoint(ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, stored, got, "UpdateEndpoint returns the endpoint as stored")
		require.Equal(t, "patched", got.Description, "the patched field is written")
		require.Equal(t, "whsec_rotated", got.Secret, "the rotation is kept")
		require.Len(t, got.RetiredSecrets, 1, "the rotated-out secret still signs during its grace period")
		require.Equal(t, "whsec_x", got.RetiredSecrets[0].Secret)
	})
}

func TestUpdateEndpointRefusesColumnsItDoesNotOwn(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		e := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, e))
		e.State, e.TenantID = models.EndpointPaused, "other"
		for _, col := range []string{"state", "tenant_id", "consecutive_failures", "id"} {
			_, err := s.UpdateEndpoint(ctx, e, col)
			require.Error(t, err, col)
		}
		got, err := s.GetEndpoint(ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, models.EndpointActive, got.State)
		require.Equal(t, "acme", got.TenantID)

		_, err = s.UpdateEndpoint(ctx, &models.Endpoint{ID: models.NewID("ep")}, "description")
		require.ErrorIs(t, err, models.ErrNotFound)
	})
}
