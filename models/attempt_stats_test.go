package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

func TestAttemptsPerHourCountsByHourAndOutcome(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := &models.Endpoint{ID: models.NewID("ep"), TenantID: "acme", URL: "https://example.com", EventTypes: []string{"*"},
			Profile: "standard", Secret: "s", RetrySchedule: models.Schedule{}, TimeoutMS: 1000, PauseThreshold: 10, State: models.EndpointActive}
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		d := models.Delivery{ID: models.NewID("dlv"), EndpointID: ep.ID, EventID: models.NewID("evt"), Status: models.DeliveryPending}
		require.NoError(t, s.DB().Create(&d).Error)
		hour := time.Now().UTC().Truncate(time.Hour)
		for i, a := range []struct {
			at time.Time
			ok bool
		}{
			{hour.Add(-3*time.Hour + 5*time.Minute), true}, {hour.Add(-3*time.Hour + 59*time.Minute), false},
			{hour.Add(time.Second), true}, {hour.Add(2 * time.Second), true},
			{hour.Add(-48 * time.Hour), false}, // before the window
		} {
			require.NoError(t, s.DB().Create(&models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: i + 1,
				Trigger: models.TriggerSchedule, URL: ep.URL, Succeeded: a.ok, StartedAt: a.at.Add(123456789)}).Error)
		}
		got, err := s.AttemptsPerHour(ctx, ep.ID, hour.Add(-24*time.Hour))
		require.NoError(t, err)
		require.Equal(t, []models.AttemptBucket{
			{Start: hour.Add(-3 * time.Hour), Succeeded: 1, Failed: 1},
			{Start: hour, Succeeded: 2},
		}, got)
	})
}
