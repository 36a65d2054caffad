package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/tracing"
)

func TestDevNeedsNoSettings(t *testing.T) {
	c, err := Load(ModeDev, nil)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", c.APIAddr)
	require.Equal(t, "127.0.0.1:7233", c.TemporalAddress)
	require.Equal(t, "default", c.TemporalNamespace)
	require.Equal(t, 8233, c.TemporalUIPort)
	require.True(t, c.AllowPrivate, "dev delivers to local receivers")
	require.Empty(t, c.DatabaseURL)
	require.False(t, c.OneEndpointPerTenant, "endpoints per tenant are unlimited unless asked")
}

func TestUnknownSettingStopsStartUpNamingIt(t *testing.T) {
	_, err := Load(ModeDev, []string{"HOOKD_API_ADRR=127.0.0.1:1", "PATH=/bin"})
	require.ErrorContains(t, err, "HOOKD_API_ADRR")
}

func TestInvalidSettingsAreNamed(t *testing.T) {
	for name, tc := range map[string]struct {
		mode Mode
		env  []string
		want string
	}{
		"bad api addr":             {ModeDev, []string{"HOOKD_API_ADDR=8080"}, "HOOKD_API_ADDR"},
		"api without key":          {ModeAPI, []string{"HOOKD_DATABASE_URL=postgres://x@h/db"}, "HOOKD_API_KEY"},
		"worker without database":  {ModeWorker, nil, "HOOKD_DATABASE_URL"},
		"non-postgres database":    {ModeDev, []string{"HOOKD_DATABASE_URL=mysql://x"}, "HOOKD_DATABASE_URL"},
		"short key":                {ModeDev, []string{"HOOKD_API_KEY=short"}, "HOOKD_API_KEY"},
		"bad private targets":      {ModeAPI, []string{"HOOKD_ALLOW_PRIVATE_TARGETS=maybe"}, "HOOKD_ALLOW_PRIVATE_TARGETS"},
		"bad log level":            {ModeDev, []string{"HOOKD_LOG_LEVEL=loud"}, "HOOKD_LOG_LEVEL"},
		"bad ui port":              {ModeDev, []string{"HOOKD_TEMPORAL_UI_PORT=x"}, "HOOKD_TEMPORAL_UI_PORT"},
		"bad one endpoint":         {ModeDev, []string{"HOOKD_ONE_ENDPOINT_PER_TENANT=maybe"}, "HOOKD_ONE_ENDPOINT_PER_TENANT"},
		"bad endpoint maximum":     {ModeDev, []string{"HOOKD_MAX_ENDPOINTS_PER_TENANT=many"}, "HOOKD_MAX_ENDPOINTS_PER_TENANT"},
		"zero endpoint maximum":    {ModeDev, []string{"HOOKD_MAX_ENDPOINTS_PER_TENANT=0"}, "HOOKD_MAX_ENDPOINTS_PER_TENANT"},
		"frame ancestor policy":    {ModeDev, []string{"HOOKD_PORTAL_FRAME_ANCESTORS=https://a.example; script-src *"}, "HOOKD_PORTAL_FRAME_ANCESTORS"},
		"frame ancestor path":      {ModeDev, []string{"HOOKD_PORTAL_FRAME_ANCESTORS=https://a.example/app"}, "HOOKD_PORTAL_FRAME_ANCESTORS"},
		"temporal ui not a url":    {ModeDev, []string{"HOOKD_TEMPORAL_UI_URL=temporal:8233"}, "HOOKD_TEMPORAL_UI_URL"},
		"public url not a url":     {ModeDev, []string{"HOOKD_PUBLIC_URL=hooks.example.com"}, "HOOKD_PUBLIC_URL"},
		"public url with query":    {ModeDev, []string{"HOOKD_PUBLIC_URL=https://hooks.example.com/?x=1"}, "HOOKD_PUBLIC_URL"},
		"retention not a duration": {ModeDev, []string{"HOOKD_RETENTION=a month"}, "HOOKD_RETENTION"},
		"retention too short":      {ModeDev, []string{"HOOKD_RETENTION=30m"}, "HOOKD_RETENTION"},
		"retention too long":       {ModeDev, []string{"HOOKD_RETENTION=3651d"}, "HOOKD_RETENTION"},
		"retention in weeks":       {ModeDev, []string{"HOOKD_RETENTION=4w"}, "HOOKD_RETENTION"},
		"retention negative days":  {ModeDev, []string{"HOOKD_RETENTION=-1d"}, "HOOKD_RETENTION"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(tc.mode, tc.env)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestPortalFrameAncestorsAreOrigins(t *testing.T) {
	c, err := Load(ModeDev, []string{"HOOKD_PORTAL_FRAME_ANCESTORS=https://app.example.com, https://*.example.org:8443 'self'"})
	require.NoError(t, err)
	require.Equal(t, []string{"https://app.example.com", "https://*.example.org:8443", "'self'"}, c.PortalFrameAncestors)
	c, err = Load(ModeDev, nil)
	require.NoError(t, err)
	require.Empty(t, c.PortalFrameAncestors)
}

func TestProductionSettings(t *testing.T) {
	c, err := Load(ModeWorker, []string{
		"HOOKD_DATABASE_URL=postgres://hookd@db:5432/hookd",
		"HOOKD_API_KEY=0123456789abcdef, fedcba9876543210",
		"HOOKD_ALLOW_PRIVATE_TARGETS=10.1.0.0/16,fd00::/8",
	})
	require.NoError(t, err)
	require.Equal(t, []string{"0123456789abcdef", "fedcba9876543210"}, c.APIKeys)
	require.False(t, c.AllowPrivate)
	require.Len(t, c.AllowedPrefixes, 2)
	require.Equal(t, "json", c.LogFormat)
}

func TestOneEndpointPerTenant(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "TRUE": true, "1": true, "yes": true, "false": false, "0": false, "no": false, "": false} {
		c, err := Load(ModeAPI, []string{
			"HOOKD_DATABASE_URL=postgres://hookd@db:5432/hookd",
			"HOOKD_API_KEY=0123456789abcdef",
			"HOOKD_ONE_ENDPOINT_PER_TENANT=" + v,
		})
		require.NoError(t, err, v)
		require.Equal(t, want, c.OneEndpointPerTenant, v)
	}
}

func TestMaxEndpointsPerTenant(t *testing.T) {
	c, err := Load(ModeDev, nil)
	require.NoError(t, err)
	require.Equal(t, DefaultMaxEndpointsPerTenant, c.MaxEndpointsPerTenant)
	require.Equal(t, 10000, DefaultMaxEndpointsPerTenant)
	c, err = Load(ModeDev, []string{"HOOKD_MAX_ENDPOINTS_PER_TENANT=250"})
	require.NoError(t, err)
	require.Equal(t, 250, c.MaxEndpointsPerTenant)
}

func TestRetentionTakesDaysOrHours(t *testing.T) {
	c, err := Load(ModeDev, nil)
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, c.Retention, "default 30 days")
	for v, want := range map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "720h": 720 * time.Hour, "1h": time.Hour, "90m": 90 * time.Minute,
		"3650d": 3650 * 24 * time.Hour, "7d": 7 * 24 * time.Hour,
	} {
		c, err := Load(ModeDev, []string{"HOOKD_RETENTION=" + v})
		require.NoError(t, err, v)
		require.Equal(t, want, c.Retention, v)
	}
	_, err = Load(ModeDev, []string{"HOOKD_RETENTION=59m"})
	require.EqualError(t, err, `HOOKD_RETENTION: "59m" is not a duration from 1h to 3650d, in days ("30d") or hours ("720h")`)
}

// TestREADMEListsEverySetting: the README's configuration table has a row
// for each setting Load accepts.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	for _, s := range Settings {
		require.True(t, strings.Contains(string(readme), "| `"+s.Name+"` |"), "README.md's configuration table lists %s", s.Name)
	}
}

func TestValidateNamesTheVariableOfAChangedValue(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(c *Config)
		want   string
	}{
		"ui port out of range": {func(c *Config) { c.TemporalUIPort = 70000 }, "HOOKD_TEMPORAL_UI_PORT"},
		"no endpoints allowed": {func(c *Config) { c.MaxEndpointsPerTenant = 0 }, "HOOKD_MAX_ENDPOINTS_PER_TENANT"},
		"bad log format":       {func(c *Config) { c.LogFormat = "xml" }, "HOOKD_LOG_FORMAT"},
		"bad metrics addr":     {func(c *Config) { c.MetricsAddr = "9090" }, "HOOKD_METRICS_ADDR"},
		"no retention":         {func(c *Config) { c.Retention = 0 }, "HOOKD_RETENTION"},
		"api without key":      {func(c *Config) { c.Mode, c.DatabaseURL = ModeAPI, "postgres://x@h/db" }, "HOOKD_API_KEY"},
		"unknown mode":         {func(c *Config) { c.Mode = "both" }, `unknown mode "both"`},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(ModeDev, nil)
			require.NoError(t, err)
			require.NoError(t, c.Validate())
			tc.change(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
}

func TestAValueThatDoesNotParseIsReportedOnce(t *testing.T) {
	_, err := Load(ModeDev, []string{"HOOKD_MAX_ENDPOINTS_PER_TENANT=many"})
	require.EqualError(t, err, `HOOKD_MAX_ENDPOINTS_PER_TENANT: "many" is not a whole number of at least 1`)
}

func TestEveryModeTakesItsDefaults(t *testing.T) {
	prod := []string{"HOOKD_DATABASE_URL=postgres://hookd@db:5432/hookd", "HOOKD_API_KEY=0123456789abcdef"}
	for mode, want := range map[Mode]struct {
		allowPrivate bool
		logFormat    string
	}{ModeDev: {true, "text"}, ModeAPI: {false, "json"}, ModeWorker: {false, "json"}} {
		c, err := Load(mode, prod)
		require.NoError(t, err, mode)
		require.Equal(t, want.allowPrivate, c.AllowPrivate, mode)
		require.Equal(t, want.logFormat, c.LogFormat, mode)
		require.Equal(t, slog.LevelInfo, c.LogLevel, mode)
		require.True(t, filepath.IsAbs(c.DataDir), mode)
	}
}

func TestUsageListsEverySettingWithItsDefault(t *testing.T) {
	usage := Usage()
	for _, s := range Settings {
		require.Contains(t, usage, s.Name)
	}
	require.Contains(t, usage, "(default: 127.0.0.1:8080)")
	require.Contains(t, usage, "(default: text in dev, json otherwise)")
	require.Contains(t, usage, "(default: unset)")
	for _, v := range TemporalVariables {
		require.Contains(t, usage, v.Name)
	}
	for _, v := range tracing.Variables {
		require.Contains(t, usage, v.Name)
	}
}

// TestREADMEListsTracingVariables: the README documents each OpenTelemetry
// variable hookd reads.
func TestREADMEListsTracingVariables(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	for _, v := range tracing.Variables {
		require.True(t, strings.Contains(string(readme), "`"+v.Name+"`"), "the README names `%s`", v.Name)
	}
}

// Tracing is read with the other settings: off without an OTLP endpoint, on
// with one, and an OTEL_ value hookd cannot use stops start-up naming it
// (OTEL_ variables are not HOOKD_ ones: none is refused as unknown).
func TestTracingIsReadWithTheSettings(t *testing.T) {
	c, err := Load(ModeDev, []string{"OTEL_SERVICE_NAME=x", "OTEL_SOMETHING_ELSE=y"})
	require.NoError(t, err)
	require.False(t, c.Tracing.Enabled())
	c, err = Load(ModeDev, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318"})
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:4318/v1/traces", c.Tracing.Endpoint)
	_, err = Load(ModeDev, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"})
	require.ErrorContains(t, err, "OTEL_EXPORTER_OTLP_PROTOCOL")
}

// TestREADMEListsTemporalVariables: the README documents each of Temporal's
// variables hookd honours.
func TestREADMEListsTemporalVariables(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	for _, v := range TemporalVariables {
		require.Contains(t, string(readme), "`"+v.Name+"`")
	}
}

func TestTemporalSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "temporal.toml")
	require.NoError(t, os.WriteFile(profile, []byte("[profile.default]\naddress = \"profile.example:7233\"\nnamespace = \"from-profile\"\n"), 0o600))
	prod := []string{"HOOKD_DATABASE_URL=postgres://hookd@db:5432/hookd", "HOOKD_API_KEY=0123456789abcdef", "TEMPORAL_CONFIG_FILE=" + profile}
	for name, tc := range map[string]struct {
		mode        Mode
		env         []string
		address, ns string
	}{
		"profile":                       {ModeWorker, nil, "profile.example:7233", "from-profile"},
		"TEMPORAL_ over the profile":    {ModeWorker, []string{"TEMPORAL_ADDRESS=env.example:7233", "TEMPORAL_NAMESPACE=from-env"}, "env.example:7233", "from-env"},
		"HOOKD_ aliases win":            {ModeAPI, []string{"TEMPORAL_ADDRESS=env.example:7233", "TEMPORAL_NAMESPACE=from-env", "HOOKD_TEMPORAL_ADDRESS=hookd.example:7233", "HOOKD_TEMPORAL_NAMESPACE=hookd"}, "hookd.example:7233", "hookd"},
		"dev ignores Temporal's config": {ModeDev, []string{"TEMPORAL_ADDRESS=env.example:7233"}, "127.0.0.1:7233", "default"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(tc.mode, append(append([]string{}, prod...), tc.env...))
			require.NoError(t, err)
			require.Equal(t, tc.address, c.TemporalAddress)
			require.Equal(t, tc.ns, c.TemporalNamespace)
			require.Equal(t, tc.address, c.TemporalOptions().HostPort)
		})
	}
	t.Run("defaults without any", func(t *testing.T) {
		c, err := Load(ModeWorker, []string{prod[0], "TEMPORAL_CONFIG_FILE=" + filepath.Join(dir, "none.toml")})
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:7233", c.TemporalAddress)
		require.Equal(t, "default", c.TemporalNamespace)
		require.Nil(t, c.TemporalClient.ConnectionOptions.TLS)
	})
	t.Run("the default profile file is found from the given HOME, not the process's", func(t *testing.T) {
		home := t.TempDir()
		c, err := Load(ModeWorker, []string{prod[0], "HOME=" + home})
		require.NoError(t, err, "no profile file there: the defaults")
		require.Equal(t, "127.0.0.1:7233", c.TemporalAddress)
		require.NoError(t, os.MkdirAll(filepath.Join(home, ".config", "temporalio"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(home, ".config", "temporalio", "temporal.toml"),
			[]byte("[profile.default]\naddress = \"home.example:7233\"\n"), 0o600))
		c, err = Load(ModeWorker, []string{prod[0], "HOME=" + home})
		require.NoError(t, err)
		require.Equal(t, "home.example:7233", c.TemporalAddress)
	})
	t.Run("an API key turns TLS on", func(t *testing.T) {
		c, err := Load(ModeWorker, append(append([]string{}, prod...), "TEMPORAL_API_KEY=k"))
		require.NoError(t, err)
		require.NotNil(t, c.TemporalClient.ConnectionOptions.TLS)
		require.NotNil(t, c.TemporalClient.Credentials)
	})
}

func TestTemporalTLSErrorsNameTheSetting(t *testing.T) {
	base := []string{"HOOKD_DATABASE_URL=postgres://hookd@db:5432/hookd", "TEMPORAL_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none.toml")}
	for name, tc := range map[string]struct {
		env  []string
		want string
	}{
		"cert without key":  {[]string{"TEMPORAL_TLS_CLIENT_CERT_PATH=/nonexistent/c.pem"}, "TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH: set both"},
		"missing cert file": {[]string{"TEMPORAL_TLS_CLIENT_CERT_PATH=/nonexistent/c.pem", "TEMPORAL_TLS_CLIENT_KEY_PATH=/nonexistent/k.pem"}, "TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH: load"},
		"missing CA file":   {[]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH=/nonexistent/ca.pem"}, "TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
		"CLI's CA alias":    {[]string{"TEMPORAL_TLS_CA_PATH=/nonexistent/ca.pem"}, "TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
		"unknown profile":   {[]string{"TEMPORAL_PROFILE=nope"}, "TEMPORAL_PROFILE"},
		"bad address":       {[]string{"TEMPORAL_ADDRESS=nohost"}, `"nohost"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(ModeWorker, append(append([]string{}, base...), tc.env...))
			require.ErrorContains(t, err, tc.want)
			if name == "bad address" {
				// Every error of the setting starts "HOOKD_TEMPORAL_ADDRESS:";
				// the value came from TEMPORAL_ADDRESS, which it must name.
				require.ErrorContains(t, err, "when unset, TEMPORAL_ADDRESS")
			}
		})
	}
}
