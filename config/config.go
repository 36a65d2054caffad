// Package config reads hookd's settings from the environment. A Config is a
// value passed down to whatever needs it; nothing reads the environment later.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Mode is the subcommand hookd runs as.
type Mode string

// Modes.
const (
	ModeDev    Mode = "dev"    // everything in one process, embedded Temporal and SQLite
	ModeAPI    Mode = "api"    // the REST API only
	ModeWorker Mode = "worker" // the Temporal worker only
)

// Config is every setting hookd has.
type Config struct {
	Mode              Mode
	APIAddr           string         // HOOKD_API_ADDR
	APIKeys           []string       // HOOKD_API_KEY, comma-separated
	DatabaseURL       string         // HOOKD_DATABASE_URL; "" in dev means SQLite under DataDir
	DataDir           string         // HOOKD_DATA_DIR
	TemporalAddress   string         // HOOKD_TEMPORAL_ADDRESS
	TemporalNamespace string         // HOOKD_TEMPORAL_NAMESPACE
	TemporalUIPort    int            // HOOKD_TEMPORAL_UI_PORT (dev only)
	AllowPrivate      bool           // HOOKD_ALLOW_PRIVATE_TARGETS = true
	AllowedPrefixes   []netip.Prefix // HOOKD_ALLOW_PRIVATE_TARGETS = CIDR list
	LogLevel          slog.Level     // HOOKD_LOG_LEVEL
	LogFormat         string         // HOOKD_LOG_FORMAT: json or text
	MetricsAddr       string         // HOOKD_METRICS_ADDR: extra /metrics listener (for workers)
	// OneEndpointPerTenant is HOOKD_ONE_ENDPOINT_PER_TENANT: the API refuses
	// a second endpoint for a tenant (Vessel's "one webhook per connection",
	// for every endpoint).
	OneEndpointPerTenant bool
	// MaxEndpointsPerTenant is HOOKD_MAX_ENDPOINTS_PER_TENANT: the most
	// endpoints a tenant may have, which bounds the fan-out of one event.
	MaxEndpointsPerTenant int
}

// DefaultMaxEndpointsPerTenant is HOOKD_MAX_ENDPOINTS_PER_TENANT's default.
const DefaultMaxEndpointsPerTenant = 10000

// Setting describes one environment variable.
type Setting struct {
	Name, Default, Help string
}

// Settings is the documented list of environment variables; any other HOOKD_
// variable stops start-up.
var Settings = []Setting{
	{"HOOKD_API_ADDR", "127.0.0.1:8080", "address the REST API listens on"},
	{"HOOKD_API_KEY", "generated and printed in dev", "bearer API keys, comma-separated; required outside dev"},
	{"HOOKD_DATABASE_URL", "SQLite in HOOKD_DATA_DIR (dev)", "postgres://… URL; required outside dev"},
	{"HOOKD_DATA_DIR", "./data", "where dev keeps its SQLite files (hookd.db, temporal.db, visibility.db)"},
	{"HOOKD_TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend; dev serves an embedded one here"},
	{"HOOKD_TEMPORAL_NAMESPACE", "default", "Temporal namespace"},
	{"HOOKD_TEMPORAL_UI_PORT", "8233", "dev only: port of the embedded Temporal UI; -1 disables it"},
	{"HOOKD_ALLOW_PRIVATE_TARGETS", "true in dev, false otherwise", "true, false, or CIDRs (comma-separated) that deliveries may reach although internal"},
	{"HOOKD_METRICS_ADDR", "unset", "host:port of a /metrics listener; the API serves /metrics too, so set it for workers"},
	{"HOOKD_ONE_ENDPOINT_PER_TENANT", "false", "true: a tenant may have one endpoint; POST /v1/endpoints answers 409 for a second (set it alike on every api process)"},
	{"HOOKD_MAX_ENDPOINTS_PER_TENANT", "10000", "the most endpoints a tenant may have (and so the fan-out of one event); POST /v1/endpoints answers 409 past it"},
	{"HOOKD_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"HOOKD_LOG_FORMAT", "json (text in dev)", "json or text"},
}

// Load reads the settings for mode from environ (os.Environ() form).
func Load(mode Mode, environ []string) (Config, error) {
	env := map[string]string{}
	known := map[string]bool{}
	for _, s := range Settings {
		known[s.Name] = true
	}
	var unknown []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "HOOKD_") {
			continue
		}
		if !known[k] {
			unknown = append(unknown, k)
			continue
		}
		env[k] = strings.TrimSpace(v)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Config{}, fmt.Errorf("unknown setting %s (known: %s)", strings.Join(unknown, ", "), names())
	}
	get := func(k, def string) string {
		if v, ok := env[k]; ok && v != "" {
			return v
		}
		return def
	}

	c := Config{
		Mode:              mode,
		APIAddr:           get("HOOKD_API_ADDR", "127.0.0.1:8080"),
		DatabaseURL:       get("HOOKD_DATABASE_URL", ""),
		DataDir:           get("HOOKD_DATA_DIR", "./data"),
		TemporalAddress:   get("HOOKD_TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: get("HOOKD_TEMPORAL_NAMESPACE", "default"),
		LogFormat:         get("HOOKD_LOG_FORMAT", map[bool]string{true: "text", false: "json"}[mode == ModeDev]),
	}
	var errs []error
	bad := func(k, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{k}, a...)...))
	}
	switch mode {
	case ModeDev, ModeAPI, ModeWorker:
	default:
		errs = append(errs, fmt.Errorf("unknown mode %q (dev, api or worker)", mode))
	}
	if _, _, err := net.SplitHostPort(c.APIAddr); err != nil {
		bad("HOOKD_API_ADDR", "%q is not host:port", c.APIAddr)
	}
	c.MetricsAddr = get("HOOKD_METRICS_ADDR", "")
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("HOOKD_METRICS_ADDR", "%q is not host:port", c.MetricsAddr)
		}
	}
	if _, _, err := net.SplitHostPort(c.TemporalAddress); err != nil {
		bad("HOOKD_TEMPORAL_ADDRESS", "%q is not host:port", c.TemporalAddress)
	}
	for _, k := range strings.Split(get("HOOKD_API_KEY", ""), ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if len(k) < 16 {
			bad("HOOKD_API_KEY", "each key must be at least 16 characters")
			break
		}
		c.APIKeys = append(c.APIKeys, k)
	}
	if len(c.APIKeys) == 0 && mode == ModeAPI {
		bad("HOOKD_API_KEY", "required outside dev")
	}
	if c.DatabaseURL == "" && mode != ModeDev {
		bad("HOOKD_DATABASE_URL", "required outside dev (postgres://user@host:5432/db)")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("HOOKD_DATABASE_URL", "must be a postgres:// URL")
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	c.TemporalUIPort = 8233
	if v := get("HOOKD_TEMPORAL_UI_PORT", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 || n > 65535 {
			bad("HOOKD_TEMPORAL_UI_PORT", "%q is not a port (or -1 to disable)", v)
		}
		c.TemporalUIPort = n
	}
	switch v := strings.ToLower(get("HOOKD_ALLOW_PRIVATE_TARGETS", "")); v {
	case "":
		c.AllowPrivate = mode == ModeDev
	case "true", "1", "yes":
		c.AllowPrivate = true
	case "false", "0", "no":
	default:
		for _, p := range strings.Split(v, ",") {
			pre, err := netip.ParsePrefix(strings.TrimSpace(p))
			if err != nil {
				bad("HOOKD_ALLOW_PRIVATE_TARGETS", "%q is neither true/false nor a CIDR list", p)
				break
			}
			c.AllowedPrefixes = append(c.AllowedPrefixes, pre)
		}
	}
	switch v := strings.ToLower(get("HOOKD_ONE_ENDPOINT_PER_TENANT", "false")); v {
	case "true", "1", "yes":
		c.OneEndpointPerTenant = true
	case "false", "0", "no":
	default:
		bad("HOOKD_ONE_ENDPOINT_PER_TENANT", "%q is not true or false", v)
	}
	c.MaxEndpointsPerTenant = DefaultMaxEndpointsPerTenant
	if v := get("HOOKD_MAX_ENDPOINTS_PER_TENANT", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad("HOOKD_MAX_ENDPOINTS_PER_TENANT", "%q is not a whole number of at least 1", v)
		}
		c.MaxEndpointsPerTenant = n
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("HOOKD_LOG_LEVEL", "info"))); err != nil {
		bad("HOOKD_LOG_LEVEL", "%q is not debug, info, warn or error", env["HOOKD_LOG_LEVEL"])
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("HOOKD_LOG_FORMAT", "%q is not json or text", c.LogFormat)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// FromEnvironment is Load(mode, os.Environ()).
func FromEnvironment(mode Mode) (Config, error) { return Load(mode, os.Environ()) }

func names() string {
	out := make([]string, len(Settings))
	for i, s := range Settings {
		out[i] = s.Name
	}
	return strings.Join(out, ", ")
}
