package metrics_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// countStatements counts every statement gorm runs on s from now on.
func countStatements(t *testing.T, s *models.Store) *atomic.Int64 {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	cb := s.DB().Callback()
	require.NoError(t, cb.Query().After("gorm:query").Register("test:count_query", count))
	require.NoError(t, cb.Row().After("gorm:row").Register("test:count_row", count))
	require.NoError(t, cb.Raw().After("gorm:raw").Register("test:count_raw", count))
	require.NoError(t, cb.Create().After("gorm:create").Register("test:count_create", count))
	require.NoError(t, cb.Update().After("gorm:update").Register("test:count_update", count))
	require.NoError(t, cb.Delete().After("gorm:delete").Register("test:count_delete", count))
	return &n
}

// scrape serves one scrape of m's /metrics and returns it.
func scrape(t *testing.T, m *metrics.Metrics) string {
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	return rec.Body.String()
}

func TestScrapeRunsNoQueryAndGaugesShowTheLastRefresh(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := &models.Endpoint{ID: models.NewID("ep"), TenantID: "t", URL: "http://127.0.0.1:1/hook",
			EventTypes: []string{"*"}, Profile: "standard", Secret: "whsec_x", RetrySchedule: models.Schedule{},
			TimeoutMS: 1000, PauseThreshold: 10, State: models.EndpointPaused}
		require.NoError(t, s.CreateEndpoint(ctx, ep))

		m := metrics.New(s)
		require.NotContains(t, scrape(t, m), "hookd_endpoints_paused", "absent until the first refresh")
		require.NoError(t, m.RefreshGauges(ctx))

		statements := countStatements(t, s)
		for range 40 {
			out := scrape(t, m)
			require.Contains(t, out, "\nhookd_endpoints_paused 1\n")
			require.Contains(t, out, "\nhookd_deliveries_held 0\n")
		}
		require.Zero(t, statements.Load(), "40 scrapes ran no statement on the store")

		_, err := s.SaveHealth(ctx, ep.ID, models.Health{State: models.EndpointActive})
		require.NoError(t, err)
		require.Contains(t, scrape(t, m), "\nhookd_endpoints_paused 1\n", "a scrape shows the last refresh")
		before := statements.Load()
		require.NoError(t, m.RefreshGauges(ctx))
		require.Equal(t, int64(2), statements.Load()-before, "a refresh is two counts")
		require.Contains(t, scrape(t, m), "\nhookd_endpoints_paused 0\n")
	})
}
