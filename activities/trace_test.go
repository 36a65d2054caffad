package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hookd/hookd/models"
)

func traceWork(sendTraceparent bool) *models.DeliveryWork {
	now := time.Now().UTC()
	return &models.DeliveryWork{
		Delivery: models.Delivery{ID: models.NewID("dlv")},
		Endpoint: models.Endpoint{ID: models.NewID("ep"), URL: "https://example.com:8443/hook?token=s3cr3t", Profile: "standard",
			Secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", SendTraceparent: sendTraceparent},
		Event: models.Event{ID: models.NewID("evt"), Type: "a.b", TenantID: "acme", Payload: `{}`, OccurredAt: now},
	}
}

// tracedDeliverer is a Deliverer whose spans end up in the recorder.
func tracedDeliverer() (*Deliverer, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	return &Deliverer{Tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer(TracerName)}, rec
}

// An opted-in endpoint gets the traceparent of the attempt's own span (and
// it is stored with the attempt's headers); one not opted in gets none, nor
// does any endpoint while tracing is off.
func TestTheTraceparentIsSentOnlyToOptedInEndpointsWhileTracing(t *testing.T) {
	d, rec := tracedDeliverer()
	w := traceWork(true)
	ctx, span := d.startAttempt(context.Background(), w, 1, models.TriggerSchedule)
	req, stored, err := d.buildRequest(ctx, w, 1, time.Now())
	require.NoError(t, err)
	span.end(AttemptResult{Succeeded: true, StatusCode: 204})
	sc := rec.Ended()[0].SpanContext()
	want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
	require.Equal(t, want, req.Header.Get("traceparent"))
	require.Equal(t, want, stored["Traceparent"], "stored with the attempt")
	require.Empty(t, req.Header.Get("baggage"), "hookd's baggage is not the receiver's")

	w = traceWork(false)
	ctx, span = d.startAttempt(context.Background(), w, 1, models.TriggerSchedule)
	req, _, err = d.buildRequest(ctx, w, 1, time.Now())
	require.NoError(t, err)
	span.end(AttemptResult{Succeeded: true, StatusCode: 204})
	require.Empty(t, req.Header.Values("traceparent"), "not opted in")

	off := &Deliverer{}
	w = traceWork(true)
	ctx, span = off.startAttempt(context.Background(), w, 1, models.TriggerSchedule)
	req, _, err = off.buildRequest(ctx, w, 1, time.Now())
	require.NoError(t, err)
	span.end(AttemptResult{})
	require.Empty(t, req.Header.Values("traceparent"), "tracing off: no span, no traceparent")
}

func TestTheAttemptSpanSaysHowItWentWithoutTheURLsQuery(t *testing.T) {
	d, rec := tracedDeliverer()
	w := traceWork(false)
	_, span := d.startAttempt(context.Background(), w, 3, models.TriggerManual)
	span.end(AttemptResult{StatusCode: 503, Error: "HTTP 503"})
	_, span = d.startAttempt(context.Background(), w, 4, models.TriggerSchedule)
	span.end(AttemptResult{Error: "timeout: no response within 30s"})
	_, span = d.startAttempt(context.Background(), w, 5, models.TriggerSchedule)
	span.end(AttemptResult{Succeeded: true, StatusCode: 200})

	ended := rec.Ended()
	require.Len(t, ended, 3)
	attrs := map[attribute.Key]attribute.Value{}
	for _, kv := range ended[0].Attributes() {
		attrs[kv.Key] = kv.Value
	}
	require.Equal(t, AttemptSpanName, ended[0].Name())
	require.Equal(t, "https://example.com:8443/hook", attrs["url.full"].AsString(), "no query: it may hold a credential")
	require.Equal(t, "example.com", attrs["server.address"].AsString())
	require.Equal(t, int64(8443), attrs["server.port"].AsInt64())
	require.Equal(t, "POST", attrs["http.request.method"].AsString())
	require.Equal(t, int64(503), attrs["http.response.status_code"].AsInt64())
	require.Equal(t, "503", attrs["error.type"].AsString())
	require.Equal(t, int64(3), attrs["hookd.attempt"].AsInt64())
	require.Equal(t, models.TriggerManual, attrs["hookd.trigger"].AsString())
	require.Equal(t, w.Endpoint.ID, attrs["hookd.endpoint_id"].AsString())
	require.Equal(t, w.Delivery.ID, attrs["hookd.delivery_id"].AsString())
	require.Equal(t, w.Event.ID, attrs["hookd.event_id"].AsString())
	require.Equal(t, codes.Error, ended[0].Status().Code)
	require.Equal(t, "HTTP 503", ended[0].Status().Description)

	require.Equal(t, codes.Error, ended[1].Status().Code)
	require.Equal(t, "timeout: no response within 30s", ended[1].Status().Description)
	for _, kv := range ended[1].Attributes() {
		require.NotEqual(t, attribute.Key("http.response.status_code"), kv.Key, "no status without a response")
		if kv.Key == "error.type" {
			require.Equal(t, "transport", kv.Value.AsString())
		}
	}
	require.Equal(t, codes.Unset, ended[2].Status().Code, "a success")
	for _, s := range ended {
		require.NotContains(t, s.Attributes(), attribute.String("url.full", w.Endpoint.URL))
	}
}

// BenchmarkAttemptTracing is what tracing adds to each attempt, besides the
// POST: the attempt's span and the request with its signed headers. Off (no
// tracer: tracing is off) makes no span; on makes the span, sends the
// traceparent to an opted-in endpoint and batches the span to an exporter
// that drops it.
func BenchmarkAttemptTracing(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			d := &Deliverer{}
			if mode == "on" {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				d.Tracer = tp.Tracer(TracerName)
			}
			w := traceWork(true)
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				ctx, span := d.startAttempt(context.Background(), w, 1, models.TriggerSchedule)
				if _, _, err := d.buildRequest(ctx, w, 1, now); err != nil {
					b.Fatal(err)
				}
				span.end(AttemptResult{Succeeded: true, StatusCode: 200})
			}
		})
	}
}
