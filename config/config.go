// Package config reads hookd's settings from the environment. A Config is a
// value passed down to whatever needs it; nothing reads the environment later.
//
// Every setting is one row of Settings: its variable, its default, its help
// text, how its value is parsed into the Config and how the result is
// checked. Load, Validate, the refusal of unknown HOOKD_ variables and
// `hookd help` all read that one table.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/tracing"
)

// Mode is the subcommand hookd runs as.
type Mode string

// Modes.
const (
	ModeDev    Mode = "dev"    // everything in one process, embedded Temporal and SQLite
	ModeAPI    Mode = "api"    // the REST API only
	ModeWorker Mode = "worker" // the Temporal worker only
)

// Config is every setting hookd has; Settings says which variable sets each.
type Config struct {
	Mode              Mode
	APIAddr           string         // HOOKD_API_ADDR
	APIKeys           []string       // HOOKD_API_KEY, comma-separated
	DatabaseURL       string         // HOOKD_DATABASE_URL; "" in dev means SQLite under DataDir
	DataDir           string         // HOOKD_DATA_DIR, made absolute
	TemporalAddress   string         // HOOKD_TEMPORAL_ADDRESS, else TEMPORAL_ADDRESS or the profile's
	TemporalNamespace string         // HOOKD_TEMPORAL_NAMESPACE, else TEMPORAL_NAMESPACE or the profile's
	TemporalUIPort    int            // HOOKD_TEMPORAL_UI_PORT (dev only)
	AllowPrivate      bool           // HOOKD_ALLOW_PRIVATE_TARGETS = true
	AllowedPrefixes   []netip.Prefix // HOOKD_ALLOW_PRIVATE_TARGETS = CIDR list
	LogLevel          slog.Level     // HOOKD_LOG_LEVEL
	LogFormat         string         // HOOKD_LOG_FORMAT: json or text
	MetricsAddr       string         // HOOKD_METRICS_ADDR: extra /metrics, /healthz, /readyz listener (for workers)
	// OneEndpointPerTenant is HOOKD_ONE_ENDPOINT_PER_TENANT: the API refuses
	// a second endpoint for a tenant (Vessel's "one webhook per connection",
	// for every endpoint).
	OneEndpointPerTenant bool
	// MaxEndpointsPerTenant is HOOKD_MAX_ENDPOINTS_PER_TENANT: the most
	// endpoints a tenant may have, which bounds the fan-out of one event.
	MaxEndpointsPerTenant int
	// TemporalClient is what api and worker connect to Temporal with beyond
	// address and namespace (TLS, mTLS, API key, gRPC metadata), from
	// Temporal's environment configuration (TemporalVariables). Empty in
	// dev: the embedded server is plaintext.
	TemporalClient client.Options
	// PortalFrameAncestors is HOOKD_PORTAL_FRAME_ANCESTORS: the origins that
	// may embed the tenants' portal in an iframe (CSP frame-ancestors).
	PortalFrameAncestors []string
	// TemporalUIURL is HOOKD_TEMPORAL_UI_URL: where the dashboard links each
	// delivery's workflow ("" in dev means the embedded UI).
	TemporalUIURL string
	// PublicURL is HOOKD_PUBLIC_URL: the scheme and host browsers reach
	// hookd at, for the links hookd hands out ("" means the request's own).
	PublicURL string
	// Retention is HOOKD_RETENTION: how long finished deliveries, their
	// attempts and their events are kept after they finished.
	Retention time.Duration
	// OperationalTenant is HOOKD_OPERATIONAL_TENANT: the tenant whose
	// endpoints receive hookd's operational webhooks (endpoint.paused,
	// endpoint.unpaused, endpoint.disabled, delivery.exhausted) about the
	// endpoints of every other tenant.
	OperationalTenant string
	// Tracing is where hookd sends its OpenTelemetry traces, from the
	// standard OTEL_ variables (tracing.Variables); off when no OTLP
	// endpoint is set.
	Tracing tracing.Config
}

// Bounds and default of HOOKD_RETENTION.
const (
	DefaultRetention = 30 * Day
	MinRetention     = time.Hour
	MaxRetention     = 3650 * Day
)

// Day is 24 hours, the unit HOOKD_RETENTION accepts as "d".
const Day = 24 * time.Hour

// DefaultOperationalTenant is HOOKD_OPERATIONAL_TENANT's default.
const DefaultOperationalTenant = "hookd"

// DefaultMaxEndpointsPerTenant is HOOKD_MAX_ENDPOINTS_PER_TENANT's default.
const DefaultMaxEndpointsPerTenant = 10000

// Setting is one environment variable: its default and help text, and where
// its value goes in a Config.
type Setting struct {
	Name string
	// Default is the value an unset or empty variable takes; DevDefault, when
	// not "", replaces it in dev.
	Default, DevDefault string
	Help                string
	// Unset says, for `hookd help`, what hookd does when the variable and
	// Default are both empty ("" reads as "unset").
	Unset string

	// parse stores v in c, or says why v is not a value of this setting.
	parse func(c *Config, v string) error
	// check, when set, says why the parsed value is not usable, if it is not.
	check func(c *Config) error
	// fallback, when set, is the value of an unset variable, before Default.
	fallback func(c *Config) string
}

// Settings is the table of environment variables hookd reads, in the order
// `hookd help` and the README list them. Any other HOOKD_ variable stops
// start-up.
var Settings = []Setting{
	{
		Name: "HOOKD_API_ADDR", Default: "127.0.0.1:8080", Help: "address the REST API listens on",
		parse: func(c *Config, v string) error { c.APIAddr = v; return nil },
		check: func(c *Config) error { return hostPort(c.APIAddr) },
	},
	{
		Name: "HOOKD_API_KEY", Unset: "generated and printed in dev", Help: "bearer API keys, comma-separated; required outside dev",
		parse: func(c *Config, v string) error { c.APIKeys = List(v); return nil },
		check: func(c *Config) error {
			for _, k := range c.APIKeys {
				if len(k) < 16 {
					return errors.New("each key must be at least 16 characters")
				}
			}
			if len(c.APIKeys) == 0 && c.Mode == ModeAPI {
				return errors.New("required outside dev")
			}
			return nil
		},
	},
	{
		Name: "HOOKD_DATABASE_URL", Unset: "SQLite in HOOKD_DATA_DIR (dev)", Help: "postgres://… URL; required outside dev",
		parse: func(c *Config, v string) error { c.DatabaseURL = v; return nil },
		check: func(c *Config) error {
			switch {
			case c.DatabaseURL == "" && c.Mode != ModeDev:
				return errors.New("required outside dev (postgres://user@host:5432/db)")
			case c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://"):
				return errors.New("must be a postgres:// URL")
			}
			return nil
		},
	},
	{
		Name: "HOOKD_DATA_DIR", Default: "./data", Help: "where dev keeps its SQLite files (hookd.db, temporal.db, visibility.db)",
		parse: func(c *Config, v string) error {
			c.DataDir = v
			if abs, err := filepath.Abs(v); err == nil {
				c.DataDir = abs
			}
			return nil
		},
	},
	{
		Name: "HOOKD_TEMPORAL_ADDRESS", Default: "127.0.0.1:7233",
		Help:     "Temporal frontend; else TEMPORAL_ADDRESS or the Temporal profile's; dev serves its embedded one (plaintext) here",
		parse:    func(c *Config, v string) error { c.TemporalAddress = v; return nil },
		fallback: func(c *Config) string { return c.TemporalClient.HostPort },
		check: func(c *Config) error {
			if err := hostPort(c.TemporalAddress); err != nil {
				return fmt.Errorf("%w (when unset, TEMPORAL_ADDRESS or the Temporal profile's address sets it)", err)
			}
			return nil
		},
	},
	{
		Name: "HOOKD_TEMPORAL_NAMESPACE", Default: "default", Help: "Temporal namespace; else TEMPORAL_NAMESPACE or the Temporal profile's",
		parse:    func(c *Config, v string) error { c.TemporalNamespace = v; return nil },
		fallback: func(c *Config) string { return c.TemporalClient.Namespace },
	},
	{
		Name: "HOOKD_TEMPORAL_UI_PORT", Default: "8233", Help: "dev only: port of the embedded Temporal UI; -1 disables it",
		parse: func(c *Config, v string) (err error) {
			if c.TemporalUIPort, err = strconv.Atoi(v); err != nil {
				return notAPort(v)
			}
			return nil
		},
		check: func(c *Config) error {
			if c.TemporalUIPort < -1 || c.TemporalUIPort > 65535 {
				return notAPort(strconv.Itoa(c.TemporalUIPort))
			}
			return nil
		},
	},
	{
		Name: "HOOKD_ALLOW_PRIVATE_TARGETS", Default: "false", DevDefault: "true",
		Help:  "true, false, or CIDRs (comma-separated) that deliveries may reach although internal",
		parse: parseAllowPrivate,
	},
	{
		Name: "HOOKD_METRICS_ADDR", Help: "host:port of a listener for /metrics, /healthz and /readyz; the API serves them too, so set it for workers",
		parse: func(c *Config, v string) error { c.MetricsAddr = v; return nil },
		check: func(c *Config) error {
			if c.MetricsAddr == "" {
				return nil
			}
			return hostPort(c.MetricsAddr)
		},
	},
	{
		Name: "HOOKD_ONE_ENDPOINT_PER_TENANT", Default: "false",
		Help: "true: a tenant may have one endpoint; POST /v1/endpoints answers 409 for a second (set it alike on every api process)",
		parse: func(c *Config, v string) (err error) {
			c.OneEndpointPerTenant, err = parseBool(v)
			return err
		},
	},
	{
		Name: "HOOKD_MAX_ENDPOINTS_PER_TENANT", Default: strconv.Itoa(DefaultMaxEndpointsPerTenant),
		Help: "the most endpoints a tenant may have (and so the fan-out of one event); POST /v1/endpoints answers 409 past it",
		parse: func(c *Config, v string) (err error) {
			if c.MaxEndpointsPerTenant, err = strconv.Atoi(v); err != nil {
				return notAtLeastOne(v)
			}
			return nil
		},
		check: func(c *Config) error {
			if c.MaxEndpointsPerTenant < 1 {
				return notAtLeastOne(strconv.Itoa(c.MaxEndpointsPerTenant))
			}
			return nil
		},
	},
	{
		Name: "HOOKD_RETENTION", Default: "30d",
		Help: "how long finished deliveries, their attempts and their events are kept (\"30d\", \"720h\"; 1h to 3650d); pending and held ones are kept until they finish",
		parse: func(c *Config, v string) (err error) {
			c.Retention, err = ParseRetention(v)
			return err
		},
		check: func(c *Config) error {
			if c.Retention < MinRetention || c.Retention > MaxRetention {
				return retentionOutOfRange(FormatRetention(c.Retention))
			}
			return nil
		},
	},
	{
		Name: "HOOKD_PORTAL_FRAME_ANCESTORS", Unset: "'none': no one may frame the portal",
		Help: "origins that may embed the tenants' portal in an iframe, space- or comma-separated (https://app.example.com)",
		parse: func(c *Config, v string) error {
			c.PortalFrameAncestors = strings.Fields(strings.ReplaceAll(v, ",", " "))
			return nil
		},
		check: func(c *Config) error {
			for _, o := range c.PortalFrameAncestors {
				if !frameAncestor.MatchString(o) {
					return fmt.Errorf("%q is not an origin like https://app.example.com (or https://*.example.com, 'self')", o)
				}
			}
			return nil
		},
	},
	{
		Name: "HOOKD_TEMPORAL_UI_URL", Unset: "the embedded UI in dev; no links otherwise",
		Help:  "base URL of the Temporal UI the dashboard links each delivery's workflow to",
		parse: func(c *Config, v string) error { c.TemporalUIURL = v; return nil },
		check: func(c *Config) error {
			if c.TemporalUIURL != "" && !httpURL.MatchString(c.TemporalUIURL) {
				return fmt.Errorf("%q is not an http(s) URL", c.TemporalUIURL)
			}
			return nil
		},
	},
	{
		Name: "HOOKD_PUBLIC_URL", Unset: "the scheme and Host each request reached hookd with",
		Help:  "the base URL browsers reach hookd at (https://hooks.example.com), for the portal links POST /v1/portal-sessions answers",
		parse: func(c *Config, v string) error { c.PublicURL = strings.TrimRight(v, "/"); return nil },
		check: func(c *Config) error {
			if c.PublicURL != "" && !httpURL.MatchString(c.PublicURL) {
				return fmt.Errorf("%q is not an http(s) base URL like https://hooks.example.com", c.PublicURL)
			}
			return nil
		},
	},
	{
		Name: "HOOKD_OPERATIONAL_TENANT", Default: DefaultOperationalTenant,
		Help:  "the tenant whose endpoints receive hookd's operational webhooks (endpoint.paused, endpoint.unpaused, endpoint.disabled, delivery.exhausted) about every other tenant's endpoints",
		parse: func(c *Config, v string) error { c.OperationalTenant = v; return nil },
		check: func(c *Config) error {
			if !token.MatchString(c.OperationalTenant) {
				return fmt.Errorf("%q is not a tenant id: 1 to 255 printable characters without spaces", c.OperationalTenant)
			}
			return nil
		},
	},
	{
		Name: "HOOKD_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error",
		parse: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%q is not debug, info, warn or error", v)
			}
			return nil
		},
	},
	{
		Name: "HOOKD_LOG_FORMAT", Default: "json", DevDefault: "text", Help: "json or text",
		parse: func(c *Config, v string) error { c.LogFormat = v; return nil },
		check: func(c *Config) error {
			if c.LogFormat != "json" && c.LogFormat != "text" {
				return fmt.Errorf("%q is not json or text", c.LogFormat)
			}
			return nil
		},
	},
}

// Load reads the settings for mode from environ (os.Environ() form): an unset
// or empty variable takes its default, each value is parsed into the Config,
// and the Config is validated. Every error names its variable.
func Load(mode Mode, environ []string) (Config, error) {
	env, err := hookdVariables(environ)
	if err != nil {
		return Config{}, err
	}
	c := Config{Mode: mode}
	var errs []error
	if mode != ModeDev {
		// Dev serves its own plaintext Temporal: Temporal's environment
		// configuration, meant for a real cluster, is not for it.
		if err := c.loadTemporal(environ); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Tracing, err = tracing.Load(environ); err != nil {
		errs = append(errs, err)
	}
	unparsed := map[string]bool{}
	for _, s := range Settings {
		v := env[s.Name]
		if v == "" && s.fallback != nil {
			v = s.fallback(&c)
		}
		if v == "" {
			v = s.defaultIn(mode)
		}
		if err := s.parse(&c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
			unparsed[s.Name] = true
		}
	}
	// A value that did not parse has been reported; its check would only
	// report the zero value left in its place.
	errs = append(errs, c.validate(unparsed)...)
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// FromEnvironment is Load(mode, os.Environ()).
func FromEnvironment(mode Mode) (Config, error) { return Load(mode, os.Environ()) }

// Validate says what in c hookd cannot run with, naming the variable of each
// setting at fault; nil means c is usable.
func (c Config) Validate() error { return errors.Join(c.validate(nil)...) }

func (c *Config) validate(skip map[string]bool) []error {
	var errs []error
	switch c.Mode {
	case ModeDev, ModeAPI, ModeWorker:
	default:
		errs = append(errs, fmt.Errorf("unknown mode %q (dev, api or worker)", c.Mode))
	}
	for _, s := range Settings {
		if s.check == nil || skip[s.Name] {
			continue
		}
		if err := s.check(c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
		}
	}
	return errs
}

// Usage lists the settings for `hookd help`, one a line: name, help text and
// default; then Temporal's variables.
func Usage() string {
	var b strings.Builder
	for _, s := range Settings {
		fmt.Fprintf(&b, "  %-28s %s (default: %s)\n", s.Name, s.Help, s.shownDefault())
	}
	usageTemporal(&b)
	b.WriteString("\nOpenTelemetry traces (off unless an OTLP endpoint is set):\n")
	for _, v := range tracing.Variables {
		fmt.Fprintf(&b, "  %-40s %s\n", v.Name, v.Help)
	}
	return b.String()
}

// hookdVariables returns the HOOKD_ variables of environ, values trimmed, or
// an error naming those that are not in Settings.
func hookdVariables(environ []string) (map[string]string, error) {
	known := map[string]bool{}
	for _, s := range Settings {
		known[s.Name] = true
	}
	env := map[string]string{}
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
		names := make([]string, len(Settings))
		for i, s := range Settings {
			names[i] = s.Name
		}
		return nil, fmt.Errorf("unknown setting %s (known: %s)", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return env, nil
}

func (s Setting) defaultIn(mode Mode) string {
	if mode == ModeDev && s.DevDefault != "" {
		return s.DevDefault
	}
	return s.Default
}

func (s Setting) shownDefault() string {
	switch {
	case s.DevDefault != "":
		return s.DevDefault + " in dev, " + s.Default + " otherwise"
	case s.Default != "":
		return s.Default
	case s.Unset != "":
		return s.Unset
	}
	return "unset"
}

// List splits a comma-separated value, trimming items and dropping empty
// ones: how settings, and the dashboard's form fields, read lists.
func List(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func parseBool(v string) (bool, error) {
	switch v = strings.ToLower(v); v {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

// parseAllowPrivate reads HOOKD_ALLOW_PRIVATE_TARGETS: a boolean, or the CIDRs
// deliveries may reach although they are internal.
func parseAllowPrivate(c *Config, v string) error {
	if b, err := parseBool(v); err == nil {
		c.AllowPrivate = b
		return nil
	}
	for _, p := range strings.Split(strings.ToLower(v), ",") {
		pre, err := netip.ParsePrefix(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("%q is neither true/false nor a CIDR list", p)
		}
		c.AllowedPrefixes = append(c.AllowedPrefixes, pre)
	}
	return nil
}

var (
	// frameAncestor is one source of a CSP frame-ancestors list that names
	// an origin: scheme://host[:port], the host possibly *.-prefixed, or 'self'.
	frameAncestor = regexp.MustCompile(`^('self'|https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?)$`)
	token         = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
	httpURL       = regexp.MustCompile(`^https?://[^\s/?#]+(/[^\s?#]*)?$`)
)

func hostPort(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	return nil
}

// ParseRetention reads a retention: whole days ("30d") or a Go duration
// ("720h", "90m"), from MinRetention to MaxRetention.
func ParseRetention(v string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > int(MaxRetention/Day) {
			return 0, retentionOutOfRange(v)
		}
		d = time.Duration(n) * Day
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, retentionOutOfRange(v)
		}
	}
	if d < MinRetention || d > MaxRetention {
		return 0, retentionOutOfRange(v)
	}
	return d, nil
}

// FormatRetention writes d in whole days when it is some, else as a Go duration.
func FormatRetention(d time.Duration) string {
	if d > 0 && d%Day == 0 {
		return strconv.Itoa(int(d/Day)) + "d"
	}
	return d.String()
}

func retentionOutOfRange(v string) error {
	return fmt.Errorf("%q is not a duration from 1h to 3650d, in days (\"30d\") or hours (\"720h\")", v)
}

func notAPort(v string) error { return fmt.Errorf("%q is not a port (or -1 to disable)", v) }

func notAtLeastOne(v string) error {
	return fmt.Errorf("%q is not a whole number of at least 1", v)
}
