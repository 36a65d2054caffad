package activities

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd/models"
)

// TracerName names the instrumentation of the attempts' spans.
const TracerName = "github.com/hookd/hookd/activities"

// AttemptSpanName is the span of one HTTP attempt of a delivery.
const AttemptSpanName = "webhook.attempt"

// attemptSpan is the span of one attempt; its zero value (tracing off)
// does nothing.
type attemptSpan struct{ span trace.Span }

// startAttempt starts the span of attempt number of w, a child of the
// activity's span in ctx, when d has a tracer; without one it answers ctx
// as it is and a span that does nothing.
func (d *Deliverer) startAttempt(ctx context.Context, w *models.DeliveryWork, number int, trigger string) (context.Context, attemptSpan) {
	if d.Tracer == nil {
		return ctx, attemptSpan{}
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", http.MethodPost),
		attribute.Int("hookd.attempt", number),
		attribute.String("hookd.trigger", trigger),
		attribute.String("hookd.endpoint_id", w.Endpoint.ID),
		attribute.String("hookd.delivery_id", w.Delivery.ID),
		attribute.String("hookd.event_id", w.Event.ID),
		attribute.String("hookd.event_type", w.Event.Type),
		attribute.String("hookd.tenant_id", w.Event.TenantID),
		attribute.String("hookd.profile", w.Endpoint.Profile),
	}
	if u, err := url.Parse(w.Endpoint.URL); err == nil {
		attrs = append(attrs, attribute.String("url.full", spanURL(*u)), attribute.String("server.address", u.Hostname()))
		if port, err := strconv.Atoi(u.Port()); err == nil {
			attrs = append(attrs, attribute.Int("server.port", port))
		}
	}
	ctx, span := d.Tracer.Start(ctx, AttemptSpanName, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, attemptSpan{span: span}
}

// end records how the attempt went and ends the span: the status code, and
// an error status with the attempt's error (which holds no URL) on failure.
func (s attemptSpan) end(res AttemptResult) {
	if s.span == nil {
		return
	}
	if res.StatusCode != 0 {
		s.span.SetAttributes(attribute.Int("http.response.status_code", res.StatusCode))
	}
	if !res.Succeeded {
		kind := "transport"
		if res.StatusCode != 0 {
			kind = strconv.Itoa(res.StatusCode)
		}
		s.span.SetAttributes(attribute.String("error.type", kind))
		s.span.SetStatus(codes.Error, res.Error)
	}
	s.span.End()
}

// spanURL is an endpoint's URL as spans show it: without its query string,
// which may hold a credential (?token=…). Credentials in the user-info part
// are refused when an endpoint is saved.
func spanURL(u url.URL) string {
	u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
	return u.String()
}

// traceContext is the W3C Trace Context propagator: the traceparent (and
// tracestate) an opted-in receiver gets. Baggage is not sent: it is
// hookd's own, not the receiver's.
var traceContext = propagation.TraceContext{}

// sendTraceparent sets the traceparent of the attempt's span in ctx on h
// when the endpoint opted in (send_traceparent) and there is a span, which
// there is only while tracing is on.
func sendTraceparent(ctx context.Context, ep *models.Endpoint, h http.Header) {
	if !ep.SendTraceparent || !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	traceContext.Inject(ctx, propagation.HeaderCarrier(h))
}
