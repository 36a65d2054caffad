package tracing

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTracingIsOffWithoutAnOTLPEndpoint(t *testing.T) {
	for name, env := range map[string][]string{
		"nothing set":                {},
		"only other OTEL_ variables": {"OTEL_SERVICE_NAME=hookd", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_RESOURCE_ATTRIBUTES=a=b"},
		"an empty endpoint":          {"OTEL_EXPORTER_OTLP_ENDPOINT="},
		"the SDK disabled":           {"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318", "OTEL_SDK_DISABLED=true"},
		"the exporter none":          {"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318", "OTEL_TRACES_EXPORTER=none"},
		// Values nothing reads while tracing is off are not checked.
		"a bad protocol, no endpoint": {"OTEL_EXPORTER_OTLP_PROTOCOL=carrier-pigeon"},
	} {
		c, err := Load(env)
		require.NoError(t, err, name)
		require.False(t, c.Enabled(), name)
		p, err := Start(context.Background(), c, "hookd")
		require.NoError(t, err, name)
		require.Nil(t, p, "%s: nothing is installed", name)
		require.Nil(t, p.TracerProvider(), name)
		require.Nil(t, p.Tracer("x"), name)
		require.Nil(t, p.Middleware(), name)
		i, err := p.TemporalInterceptor()
		require.NoError(t, err, name)
		require.Nil(t, i, name)
		require.NoError(t, p.Shutdown(context.Background()), name)
	}
}

func TestTheEndpointAndProtocolAreReadAsTheSpecificationSays(t *testing.T) {
	for name, tc := range map[string]struct {
		env                []string
		endpoint, protocol string
	}{
		"base URL, http/protobuf by default": {[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318"}, "http://collector:4318/v1/traces", ProtocolHTTP},
		"base URL with a path":               {[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://otel.example.com/otlp/"}, "https://otel.example.com/otlp/v1/traces", ProtocolHTTP},
		"base URL, grpc: as it is":           {[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"}, "http://collector:4317/", ProtocolGRPC},
		"the traces endpoint wins, as it is": {[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://b:9999/spans"}, "http://b:9999/spans", ProtocolHTTP},
		"the traces protocol wins":           {[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://a:4317", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc"}, "http://a:4317/", ProtocolGRPC},
	} {
		c, err := Load(tc.env)
		require.NoError(t, err, name)
		require.True(t, c.Enabled(), name)
		require.Equal(t, tc.endpoint, c.Endpoint, name)
		require.Equal(t, tc.protocol, c.Protocol, name)
	}
}

func TestServiceNameAttributesAndBatchDelay(t *testing.T) {
	c, err := Load([]string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318", "OTEL_SERVICE_NAME=hooks-eu",
		"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod, team=web%20hooks", "OTEL_BSP_SCHEDULE_DELAY=250"})
	require.NoError(t, err)
	require.Equal(t, "hooks-eu", c.ServiceName)
	require.Equal(t, [][2]string{{"deployment.environment", "prod"}, {"team", "web hooks"}}, c.Attributes)
	require.Equal(t, 250*time.Millisecond, c.BatchDelay)
}

func TestAValueHookdCannotUseIsRefusedNamingItsVariable(t *testing.T) {
	on := "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318"
	for name, tc := range map[string]struct {
		env  []string
		want string
	}{
		"http/json":           {[]string{on, "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"}, `OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" is not a protocol hookd exports with (http/protobuf or grpc)`},
		"a traces protocol":   {[]string{on, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=thrift"}, `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "thrift" is not a protocol`},
		"host:port, no URL":   {[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=collector:4317"}, `OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4317" is not an http(s) URL like http://collector:4318`},
		"a traces endpoint":   {[]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=ftp://c/x"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "},
		"resource attributes": {[]string{on, "OTEL_RESOURCE_ATTRIBUTES=novalue"}, `OTEL_RESOURCE_ATTRIBUTES: "novalue" is not key=value`},
		"batch delay":         {[]string{on, "OTEL_BSP_SCHEDULE_DELAY=5s"}, `OTEL_BSP_SCHEDULE_DELAY: "5s" is not a whole number of milliseconds`},
		"another exporter":    {[]string{on, "OTEL_TRACES_EXPORTER=zipkin"}, `OTEL_TRACES_EXPORTER: "zipkin" is not an exporter hookd has`},
	} {
		_, err := Load(tc.env)
		require.ErrorContains(t, err, tc.want, name)
	}
}

func TestTracingOnInstallsAProviderAMiddlewareAndAnInterceptor(t *testing.T) {
	c, err := Load([]string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1"})
	require.NoError(t, err)
	p, err := Start(context.Background(), c, "hookd-api")
	require.NoError(t, err)
	require.NotNil(t, p.TracerProvider())
	require.NotNil(t, p.Middleware())
	i, err := p.TemporalInterceptor()
	require.NoError(t, err)
	require.NotNil(t, i)
	_, span := p.Tracer("test").Start(context.Background(), "x")
	require.True(t, span.IsRecording())
	span.End()
	// Nothing listens at port 1: the flush fails, within the bound.
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout+2*time.Second)
	defer cancel()
	_ = p.Shutdown(ctx)
	require.NoError(t, ctx.Err(), "Shutdown gives up within ShutdownTimeout")
}
