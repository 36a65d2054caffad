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

// A list of endpoints is summarized in one query per figure, each figure
// counted for its own endpoint only.
func TestEndpointPageSummariesCountPerEndpoint(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		var ids []string
		for i, plan := range []struct {
			held      int
			succeeded int
			failed    int
		}{{held: 2, succeeded: 3, failed: 1}, {succeeded: 1}, {}} {
			ep := &models.Endpoint{ID: models.NewID("ep"), TenantID: "acme", URL: "https://example.com", EventTypes: []string{"*"},
				Profile: "standard", Secret: "s", RetrySchedule: models.Schedule{}, TimeoutMS: 1000, PauseThreshold: 10, State: models.EndpointActive}
			require.NoError(t, s.CreateEndpoint(ctx, ep))
			ids = append(ids, ep.ID)
			for range plan.held {
				require.NoError(t, s.DB().Create(&models.Delivery{ID: models.NewID("dlv"), EndpointID: ep.ID, EventID: models.NewID("evt"), Status: models.DeliveryHeld}).Error)
			}
			d := models.Delivery{ID: models.NewID("dlv"), EndpointID: ep.ID, EventID: models.NewID("evt"), Status: models.DeliveryPending}
			require.NoError(t, s.DB().Create(&d).Error)
			for n := range plan.succeeded + plan.failed {
				require.NoError(t, s.DB().Create(&models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: n + 1,
					Trigger: models.TriggerSchedule, URL: ep.URL, Succeeded: n < plan.succeeded, StartedAt: now.Add(-time.Minute)}).Error)
			}
			// An attempt before the window counts for nothing.
			require.NoError(t, s.DB().Create(&models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: 99 + i,
				Trigger: models.TriggerSchedule, URL: ep.URL, Succeeded: false, StartedAt: now.Add(-48 * time.Hour)}).Error)
		}

		held, err := s.CountHeldByEndpoint(ctx, ids)
		require.NoError(t, err)
		require.Equal(t, map[string]int64{ids[0]: 2}, held)

		since := now.Add(-24 * time.Hour)
		totals, err := s.AttemptTotalsSince(ctx, ids, since)
		require.NoError(t, err)
		require.Len(t, totals, 2, "the endpoint without attempts in the window is left out")
		require.Equal(t, int64(3), totals[ids[0]].Succeeded)
		require.Equal(t, int64(1), totals[ids[0]].Failed)
		require.Equal(t, int64(1), totals[ids[1]].Succeeded)
		require.Equal(t, int64(0), totals[ids[1]].Failed)

		none, err := s.AttemptTotalsSince(ctx, nil, since)
		require.NoError(t, err)
		require.Empty(t, none)
	})
}
