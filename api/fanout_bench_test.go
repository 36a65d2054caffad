package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// BenchmarkIngestFanOut10000 is POST /v1/events for a tenant with 10,000
// subscribed endpoints, on SQLite, with a Temporal that starts nothing: the
// cost of the request itself (load the endpoints, check once per profile,
// commit the event and 10,000 deliveries, 64 inline starts).
func BenchmarkIngestFanOut10000(b *testing.B) {
	s, err := models.Open(b.TempDir() + "/hookd.db")
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	require.NoError(b, s.Migrate(ctx))
	const n = 10000
	now := time.Now().UTC()
	eps := make([]models.Endpoint, n)
	for i := range eps {
		eps[i] = models.Endpoint{ID: models.NewID("ep"), TenantID: "bench", URL: fmt.Sprintf("https://example.com/%d", i),
			EventTypes: []string{"*"}, Profile: "standard", Secret: "whsec_x", Headers: map[string]string{}, RetrySchedule: models.DefaultSchedule,
			TimeoutMS: 1000, PauseThreshold: 10, State: models.EndpointActive, CreatedAt: now, UpdatedAt: now}
	}
	require.NoError(b, s.DB().CreateInBatches(eps, 500).Error)
	handler := newHandler(s, &fakeTemporal{})
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(fmt.Sprintf(`{"type":"a.b","tenant_id":"bench","payload":{"i":%d}}`, i)))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Idempotency-Key", fmt.Sprintf("k-%d", i))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), fmt.Sprintf(`"delivery_count":%d`, n)) {
			b.Fatalf("%d %.300s", rec.Code, rec.Body.String())
		}
	}
}
