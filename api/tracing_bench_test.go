package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/tracing"
)

// discardSpans is an exporter that drops what it is given: the cost of
// tracing on, without a collector's.
type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

// BenchmarkIngestTracing is POST /v1/events to one endpoint, on SQLite, with
// a Temporal that starts nothing, tracing off and on. Off is what hookd runs
// without an OTLP endpoint: tracing.Start answers nil and nothing is
// installed, so the request runs exactly the code it ran before tracing
// existed. On adds the server span of the Gin middleware, batched to an
// exporter that drops it. (The Temporal interceptor's spans are not in
// either: the fake client does not go through it.)
func BenchmarkIngestTracing(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			var mw gin.HandlerFunc
			if mode == "on" {
				p := tracing.NewProvider(discardSpans{}, "bench")
				b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
				mw = p.Middleware()
			} else {
				p, err := tracing.Start(context.Background(), tracing.Config{}, "bench")
				require.NoError(b, err)
				mw = p.Middleware()
				require.Nil(b, mw)
			}
			benchIngest(b, mw)
		})
	}
}

// benchIngest posts b.N events, each to the one endpoint of a fresh store,
// through the API built with the tracing middleware mw (nil: none).
func benchIngest(b *testing.B, mw gin.HandlerFunc) {
	s, err := models.Open(b.TempDir() + "/hookd.db")
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	require.NoError(b, s.Migrate(context.Background()))
	now := time.Now().UTC()
	require.NoError(b, s.DB().Create(&models.Endpoint{ID: models.NewID("ep"), TenantID: "bench", URL: "https://example.com/hook",
		EventTypes: []string{"*"}, Profile: "standard", Secret: "whsec_x", Headers: map[string]string{}, RetrySchedule: models.DefaultSchedule,
		TimeoutMS: 1000, PauseThreshold: 10, State: models.EndpointActive, CreatedAt: now, UpdatedAt: now}).Error)
	handler := New(Deps{Ops: operations.New(operations.Deps{Store: s, Engine: engine.New(s, &fakeTemporal{})}),
		APIKeys: []string{testKey}, Tracing: mw})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(fmt.Sprintf(`{"type":"a.b","tenant_id":"bench","payload":{"i":%d}}`, i)))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Idempotency-Key", fmt.Sprintf("k-%d", i))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("%d %.300s", rec.Code, rec.Body.String())
		}
	}
}
