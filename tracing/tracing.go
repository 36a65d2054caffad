// Package tracing is hookd's OpenTelemetry tracing: one trace from
// POST /v1/events through the workflow's start, its workflow task and each
// attempt, exported over OTLP. It is on only when the standard
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set (see Load); off, nothing is
// installed — no tracer provider, no middleware, no interceptor — so it
// costs nothing.
//
// Nothing here is global: the tracer provider is passed to what traces (the
// API's middleware, the Temporal client's interceptor, the attempts' tracer),
// so two hookd in one process (the end-to-end tests) trace apart.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Propagator carries a trace across hookd's own hops (an API caller's
// traceparent, Temporal's headers): W3C Trace Context and Baggage.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// Provider is tracing on: the SDK's tracer provider, batching spans to an
// exporter. A nil *Provider is tracing off, and each method answers that
// there is nothing to install.
type Provider struct {
	tp *sdktrace.TracerProvider
}

// Start starts tracing as c says, its spans named for defaultService unless
// c names a service; nil (and no error) when c is off.
func Start(ctx context.Context, c Config, defaultService string) (*Provider, error) {
	if !c.Enabled() {
		return nil, nil
	}
	exp, err := newExporter(ctx, c)
	if err != nil {
		return nil, err
	}
	service := c.ServiceName
	if service == "" {
		service = defaultService
	}
	attrs := make([]attribute.KeyValue, 0, len(c.Attributes)+1)
	for _, kv := range c.Attributes {
		attrs = append(attrs, attribute.String(kv[0], kv[1]))
	}
	// Listed last, so OTEL_SERVICE_NAME wins over a service.name among the
	// attributes, as the specification says.
	if c.ServiceName != "" || !hasKey(c.Attributes, "service.name") {
		attrs = append(attrs, attribute.String("service.name", service))
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithHost(), resource.WithAttributes(attrs...))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	var batch []sdktrace.BatchSpanProcessorOption
	if c.BatchDelay > 0 {
		batch = append(batch, sdktrace.WithBatchTimeout(c.BatchDelay))
	}
	return &Provider{tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, batch...), sdktrace.WithResource(res))}, nil
}

// NewProvider is tracing on, exporting to exp as it goes (tests, benchmarks).
func NewProvider(exp sdktrace.SpanExporter, service string) *Provider {
	res := resource.NewSchemaless(attribute.String("service.name", service))
	return &Provider{tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))}
}

func newExporter(ctx context.Context, c Config) (sdktrace.SpanExporter, error) {
	var (
		exp sdktrace.SpanExporter
		err error
	)
	// The endpoint is given here; the exporter reads the other
	// OTEL_EXPORTER_OTLP_* variables (headers, TLS, compression) itself.
	switch c.Protocol {
	case ProtocolGRPC:
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(c.Endpoint))
	default:
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(c.Endpoint))
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter (%s, %s): %w", c.Protocol, c.Endpoint, err)
	}
	return exp, nil
}

func hasKey(kvs [][2]string, key string) bool {
	for _, kv := range kvs {
		if kv[0] == key {
			return true
		}
	}
	return false
}

// TracerProvider is the tracer provider; nil when off.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p == nil {
		return nil
	}
	return p.tp
}

// Tracer is the tracer of the named instrumentation; nil when off.
func (p *Provider) Tracer(name string) trace.Tracer {
	if p == nil {
		return nil
	}
	return p.tp.Tracer(name)
}

// TemporalInterceptor is the Temporal SDK's OpenTelemetry interceptor, for
// the client (and so its workers): spans for the workflow start, the
// workflow's run and each activity, and the trace carried from one to the
// next in Temporal's headers. Nil when off.
func (p *Provider) TemporalInterceptor() (interceptor.ClientInterceptor, error) {
	if p == nil {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            p.tp.Tracer("go.temporal.io/sdk/contrib/opentelemetry"),
		TextMapPropagator: Propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return i, nil
}

// untraced are the routes that get no span: probes and scrapes, which
// would fill a trace store with noise.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// Middleware is the Gin middleware that makes a server span of each API
// request (continuing a caller's traceparent); nil when off.
func (p *Provider) Middleware() gin.HandlerFunc {
	if p == nil {
		return nil
	}
	// No server name: server.address is the request's Host.
	return otelgin.Middleware("",
		otelgin.WithTracerProvider(p.tp),
		otelgin.WithPropagators(Propagator),
		// Request metrics are Prometheus's (/metrics), not OpenTelemetry's.
		otelgin.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelgin.WithFilter(func(r *http.Request) bool { return !untraced[r.URL.Path] }),
	)
}

// ShutdownTimeout bounds the flush of the last spans when hookd stops.
const ShutdownTimeout = 5 * time.Second

// Shutdown exports the spans not yet sent and stops the provider; a no-op
// when off.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
	defer cancel()
	return p.tp.Shutdown(ctx)
}
