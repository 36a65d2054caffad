package activities_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
)

// SaveHealth's argument is in workflow history: histories recorded when it
// was models.Health must decode into HealthSnapshot, field for field.
func TestHealthSnapshotKeepsTheJSONOfTheRecordedHistories(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	old, err := json.Marshal(models.Health{State: models.EndpointPaused, PausedAt: &at, PauseReason: "ops", SetFailures: true, ConsecutiveFailures: 7})
	require.NoError(t, err)
	require.JSONEq(t, `{"State":"paused","PausedAt":"2026-12-05T08:00:00Z","PauseReason":"ops","SetFailures":true,"ConsecutiveFailures":7}`, string(old))

	var s activities.HealthSnapshot
	require.NoError(t, json.Unmarshal(old, &s))
	require.Equal(t, activities.HealthSnapshot{State: models.EndpointPaused, PausedAt: &at, PauseReason: "ops", SetFailures: true, ConsecutiveFailures: 7}, s)
	again, err := json.Marshal(s)
	require.NoError(t, err)
	require.JSONEq(t, string(old), string(again))

	unset, err := json.Marshal(activities.HealthSnapshot{State: models.EndpointActive})
	require.NoError(t, err)
	require.JSONEq(t, `{"State":"active","PausedAt":null,"PauseReason":"","SetFailures":false,"ConsecutiveFailures":0}`, string(unset))
}
