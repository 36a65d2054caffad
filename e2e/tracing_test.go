package e2e

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/devserver"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// TestOneTraceFollowsAnEventFromThePOSTToEachAttempt starts a hookd dev
// whose OTEL_EXPORTER_OTLP_ENDPOINT is a real OTLP/HTTP receiver in the
// test, sends one event to two endpoints of which one opted in to
// send_traceparent, and reads back the spans hookd exported: one trace
// links the API's server span, the workflow's start, its run, each
// attempt's activity and the attempt's own span; the opted-in receiver got
// the traceparent of its attempt's span, the other none.
func TestOneTraceFollowsAnEventFromThePOSTToEachAttempt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	t.Parallel()
	col := newOTLPCollector(t)
	h, err := startDev(t.TempDir(), "OTEL_EXPORTER_OTLP_ENDPOINT="+col.URL, "OTEL_BSP_SCHEDULE_DELAY=100")
	require.NoError(t, err)
	defer h.Stop(context.Background())
	require.True(t, h.Config.Tracing.Enabled())
	c := &client{t: t, base: h.APIURL, key: apiKey}

	traced, plain := newReceiver(t, always(200)), newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	tracedID, _ := c.createEndpoint(map[string]any{"url": traced.URL + "?token=s3cr3t", "tenant_id": tenant, "send_traceparent": true})
	plainID, _ := c.createEndpoint(map[string]any{"url": plain.URL, "tenant_id": tenant})
	c.postEvent("trace-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"id": 1}})
	waitFor(t, 20*time.Second, "both deliveries", func() bool { return len(traced.requests()) == 1 && len(plain.requests()) == 1 })

	require.Empty(t, plain.requests()[0].Header.Values("traceparent"), "an endpoint not opted in gets no traceparent")
	traceID, parentID := parseTraceparent(t, traced.requests()[0].Header.Get("traceparent"))
	trace := col.waitForTrace(t, traceID, map[string]int{
		"POST /v1/events": 1, "StartWorkflow:Delivery": 2, "RunWorkflow:Delivery": 2,
		"StartActivity:Attempt": 2, "RunActivity:Attempt": 2, activities.AttemptSpanName: 2,
	})

	root := trace.only(t, "POST /v1/events")
	require.Empty(t, root.ParentID, "the API's server span starts the trace")
	require.Equal(t, tracepb.Span_SPAN_KIND_SERVER, root.Kind)
	require.Equal(t, "/v1/events", root.Attrs["http.route"])
	require.Equal(t, "202", root.Attrs["http.response.status_code"])
	for _, s := range trace.spans {
		require.Equal(t, "hookd", s.Service, "dev's spans are service hookd: %s", s.Name)
	}
	attempts := map[string]otlpSpan{}
	for _, s := range trace.named(activities.AttemptSpanName) {
		attempts[s.Attrs["hookd.endpoint_id"]] = s
		// attempt ← its activity ← the activity's start ← the workflow's run ← its start ← POST /v1/events
		chain := trace.ancestors(t, s)
		require.Equal(t, []string{"RunActivity:Attempt", "StartActivity:Attempt", "RunWorkflow:Delivery",
			"StartWorkflow:Delivery", "POST /v1/events"}, names(chain), "the attempt of %s", s.Attrs["hookd.endpoint_id"])
		require.Equal(t, tracepb.Span_SPAN_KIND_CLIENT, s.Kind)
		require.Equal(t, "200", s.Attrs["http.response.status_code"])
		require.Equal(t, "1", s.Attrs["hookd.attempt"])
		require.Equal(t, tracepb.Status_STATUS_CODE_UNSET, s.Status)
	}
	require.Len(t, attempts, 2)
	require.Equal(t, parentID, attempts[tracedID].SpanID, "the receiver's parent is its attempt's span")
	require.Equal(t, traced.URL, attempts[tracedID].Attrs["url.full"], "the URL without its query (a credential)")
	require.Equal(t, plain.URL, attempts[plainID].Attrs["url.full"])
	for _, s := range trace.spans {
		for k, v := range s.Attrs {
			require.NotContains(t, v, "s3cr3t", "%s of %s", k, s.Name)
		}
	}
}

// TestTracesFollowAnEventAcrossTheAPIAndWorkerProcesses runs the production
// shape — the hookd binary as one api and one worker process, PostgreSQL,
// a Temporal server — with OTEL_EXPORTER_OTLP_ENDPOINT set on both: the
// trace crosses from the api to the worker in Temporal's headers, each
// process's spans named for it.
func TestTracesFollowAnEventAcrossTheAPIAndWorkerProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts processes")
	}
	t.Parallel()
	pg := modelstest.OpenPostgres(t)
	bin := filepath.Join(t.TempDir(), "hookd")
	build := exec.Command("go", "build", "-o", bin, "../cmd/hookd")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	const namespace = "hookd-tracing-test"
	srv, err := devserver.Start(context.Background(), devserver.Config{DataDir: t.TempDir(), UIPort: -1, HTTPPort: -1, Namespace: namespace})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	col := newOTLPCollector(t)
	apiAddr := freeAddr(t)
	env := processEnv(t, "HOOKD_DATABASE_URL="+pg.DSN(), "HOOKD_TEMPORAL_ADDRESS="+srv.FrontendHostPort(),
		"HOOKD_TEMPORAL_NAMESPACE="+namespace, "HOOKD_API_KEY="+apiKey, "HOOKD_API_ADDR="+apiAddr,
		"HOOKD_ALLOW_PRIVATE_TARGETS=127.0.0.0/8",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+col.URL, "OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_SERVICE_NAME=", "OTEL_SDK_DISABLED=")
	startProcess(t, bin, "worker", env, "hookd worker is running")
	startProcess(t, bin, "api", env, "hookd api is running")

	c := &client{t: t, base: "http://" + apiAddr, key: apiKey}
	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "send_traceparent": true})
	c.postEvent("procs-trace-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"x": 1}})
	waitFor(t, 20*time.Second, "the delivery", func() bool { return len(rcv.requests()) == 1 })
	traceID, parentID := parseTraceparent(t, rcv.requests()[0].Header.Get("traceparent"))
	trace := col.waitForTrace(t, traceID, map[string]int{"POST /v1/events": 1, "StartWorkflow:Delivery": 1,
		"RunWorkflow:Delivery": 1, "RunActivity:Attempt": 1, activities.AttemptSpanName: 1})

	for name, service := range map[string]string{"POST /v1/events": "hookd-api", "StartWorkflow:Delivery": "hookd-api",
		"RunWorkflow:Delivery": "hookd-worker", "RunActivity:Attempt": "hookd-worker", activities.AttemptSpanName: "hookd-worker"} {
		require.Equal(t, service, trace.only(t, name).Service, name)
	}
	attempt := trace.only(t, activities.AttemptSpanName)
	require.Equal(t, parentID, attempt.SpanID)
	require.Equal(t, "POST /v1/events", names(trace.ancestors(t, attempt))[4])
}

// parseTraceparent reads a W3C traceparent: version 00, sampled.
func parseTraceparent(t *testing.T, tp string) (traceID, spanID string) {
	t.Helper()
	parts := strings.Split(tp, "-")
	require.Len(t, parts, 4, "a traceparent: %q", tp)
	require.Equal(t, "00", parts[0])
	require.Len(t, parts[1], 32)
	require.Len(t, parts[2], 16)
	require.Equal(t, "01", parts[3], "sampled")
	return parts[1], parts[2]
}

// otlpSpan is one exported span, ids in hex, attribute values as text.
type otlpSpan struct {
	Service, Name             string
	TraceID, SpanID, ParentID string
	Kind                      tracepb.Span_SpanKind
	Status                    tracepb.Status_StatusCode
	Attrs                     map[string]string
}

// otlpCollector is an OTLP/HTTP trace receiver: it decodes each
// ExportTraceServiceRequest (protobuf) POSTed to /v1/traces and keeps its spans.
type otlpCollector struct {
	*httptest.Server
	mu    sync.Mutex
	spans []otlpSpan
}

func newOTLPCollector(t *testing.T) *otlpCollector {
	col := &otlpCollector{}
	col.Server = httptest.NewServer(http.HandlerFunc(col.export))
	t.Cleanup(col.Close)
	return col
}

func (col *otlpCollector) export(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "not an OTLP/HTTP protobuf export", http.StatusNotFound)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	raw, err := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	col.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		service := attrs(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				col.spans = append(col.spans, otlpSpan{Service: service, Name: s.GetName(),
					TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentID: hex.EncodeToString(s.GetParentSpanId()), Kind: s.GetKind(),
					Status: s.GetStatus().GetCode(), Attrs: attrs(s.GetAttributes())})
			}
		}
	}
	col.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = fmt.Sprint(v.BoolValue)
		default:
			out[kv.GetKey()] = kv.GetValue().String()
		}
	}
	return out
}

// otlpTrace is the spans of one trace.
type otlpTrace struct{ spans []otlpSpan }

// waitForTrace waits until the trace has at least want spans of each name
// and the parent of each of its spans, and answers it.
func (col *otlpCollector) waitForTrace(t *testing.T, traceID string, want map[string]int) otlpTrace {
	t.Helper()
	var tr otlpTrace
	waitFor(t, 30*time.Second, "the trace's spans", func() bool {
		col.mu.Lock()
		tr = otlpTrace{}
		for _, s := range col.spans {
			if s.TraceID == traceID {
				tr.spans = append(tr.spans, s)
			}
		}
		col.mu.Unlock()
		for name, n := range want {
			if len(tr.named(name)) < n {
				return false
			}
		}
		for _, s := range tr.spans {
			if s.ParentID != "" && tr.byID(s.ParentID) == nil {
				return false
			}
		}
		return true
	})
	return tr
}

func (tr otlpTrace) named(name string) []otlpSpan {
	var out []otlpSpan
	for _, s := range tr.spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func (tr otlpTrace) only(t *testing.T, name string) otlpSpan {
	t.Helper()
	spans := tr.named(name)
	require.Len(t, spans, 1, "one %s span", name)
	return spans[0]
}

func (tr otlpTrace) byID(id string) *otlpSpan {
	for i := range tr.spans {
		if tr.spans[i].SpanID == id {
			return &tr.spans[i]
		}
	}
	return nil
}

// ancestors are s's parent, its parent's, … up to the trace's root.
func (tr otlpTrace) ancestors(t *testing.T, s otlpSpan) []otlpSpan {
	t.Helper()
	var out []otlpSpan
	for s.ParentID != "" {
		p := tr.byID(s.ParentID)
		require.NotNil(t, p, "the parent of %s is in the trace", s.Name)
		out = append(out, *p)
		s = *p
	}
	return out
}

func names(spans []otlpSpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}
