package tracing

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Protocols an OTLP exporter speaks.
const (
	ProtocolHTTP = "http/protobuf" // the default, on port 4318
	ProtocolGRPC = "grpc"          // on port 4317
)

// Variables are the standard OpenTelemetry variables hookd reads, for
// `hookd help` and the README. The exporter itself also honours the other
// OTEL_EXPORTER_OTLP_* variables (headers, certificates, compression,
// timeout) and the SDK OTEL_TRACES_SAMPLER.
var Variables = []struct{ Name, Help string }{
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "turns tracing on: the collector's base URL (http://collector:4318); spans go to <it>/v1/traces (http/protobuf) or to it (grpc)"},
	{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "turns tracing on too, and wins: the full URL spans are sent to"},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf (default) or grpc; OTEL_EXPORTER_OTLP_TRACES_PROTOCOL wins"},
	{"OTEL_SERVICE_NAME", "service.name of the spans (default: hookd in dev, hookd-api, hookd-worker)"},
	{"OTEL_RESOURCE_ATTRIBUTES", "more resource attributes, key=value,… (deployment.environment=prod)"},
	{"OTEL_BSP_SCHEDULE_DELAY", "milliseconds between exports of batched spans (default 5000)"},
	{"OTEL_TRACES_EXPORTER", "none turns tracing off; otlp (default) is the only exporter"},
	{"OTEL_SDK_DISABLED", "true turns tracing off"},
}

// Config is how hookd sends its traces. The zero Config is tracing off.
type Config struct {
	// Endpoint is the URL spans are exported to; "" is tracing off.
	Endpoint string
	// Protocol is ProtocolHTTP or ProtocolGRPC.
	Protocol string
	// ServiceName is the spans' service.name; "" is the process's default.
	ServiceName string
	// Attributes are further resource attributes, in the order given.
	Attributes [][2]string
	// BatchDelay is the wait between exports; 0 is the SDK's default.
	BatchDelay time.Duration
}

// Enabled says whether hookd traces: an endpoint is set.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// Load reads the tracing settings from environ (os.Environ() form). Tracing
// is on only when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
// OTEL_EXPORTER_OTLP_ENDPOINT is set (and neither OTEL_SDK_DISABLED nor
// OTEL_TRACES_EXPORTER turns it off); then every other value is checked, and
// each error names its variable.
func Load(environ []string) (Config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OTEL_") {
			env[k] = strings.TrimSpace(v)
		}
	}
	if strings.EqualFold(env["OTEL_SDK_DISABLED"], "true") {
		return Config{}, nil
	}
	switch exporter := strings.ToLower(env["OTEL_TRACES_EXPORTER"]); exporter {
	case "", "otlp":
	case "none":
		return Config{}, nil
	default:
		return Config{}, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not an exporter hookd has (otlp, or none for no traces)", exporter)
	}
	var c Config
	var errs []error
	protocolVar, protocol := first(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	switch protocol {
	case "", ProtocolHTTP:
		c.Protocol = ProtocolHTTP
	case ProtocolGRPC:
		c.Protocol = ProtocolGRPC
	default:
		errs = append(errs, fmt.Errorf("%s: %q is not a protocol hookd exports with (http/protobuf or grpc)", protocolVar, protocol))
	}
	endpointVar, endpoint := first(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
	if endpoint == "" {
		return Config{}, nil
	}
	var err error
	if c.Endpoint, err = tracesURL(endpoint, endpointVar == "OTEL_EXPORTER_OTLP_ENDPOINT", c.Protocol); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", endpointVar, err))
	}
	c.ServiceName = env["OTEL_SERVICE_NAME"]
	if c.Attributes, err = resourceAttributes(env["OTEL_RESOURCE_ATTRIBUTES"]); err != nil {
		errs = append(errs, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err))
	}
	if v := env["OTEL_BSP_SCHEDULE_DELAY"]; v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			errs = append(errs, fmt.Errorf("OTEL_BSP_SCHEDULE_DELAY: %q is not a whole number of milliseconds", v))
		}
		c.BatchDelay = time.Duration(ms) * time.Millisecond
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// first is the first of names set in env, and its value.
func first(env map[string]string, names ...string) (name, value string) {
	for _, n := range names {
		if env[n] != "" {
			return n, env[n]
		}
	}
	return names[0], ""
}

// tracesURL is the URL spans go to: a signal-specific endpoint as it is (its
// root path when it has none), a base endpoint with /v1/traces appended for
// http/protobuf.
func tracesURL(raw string, base bool, protocol string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL like http://collector:4318", raw)
	}
	switch {
	case base && protocol == ProtocolHTTP:
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	case u.Path == "":
		u.Path = "/"
	}
	return u.String(), nil
}

// resourceAttributes reads key=value pairs, comma-separated, values
// percent-decoded (the W3C Baggage form the variable is specified in).
func resourceAttributes(v string) ([][2]string, error) {
	var out [][2]string
	for _, pair := range strings.Split(v, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, val, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", pair)
		}
		decoded, err := url.PathUnescape(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%q: the value is not percent-encoded", pair)
		}
		out = append(out, [2]string{k, decoded})
	}
	return out, nil
}
