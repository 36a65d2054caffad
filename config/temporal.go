package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// TemporalVariables are the variables of Temporal's own environment
// configuration (go.temporal.io/sdk/contrib/envconfig, as the temporal CLI
// reads them) that api and worker honour, for `hookd help` and the README.
// Dev reads none of them: its embedded server is plaintext on
// HOOKD_TEMPORAL_ADDRESS.
var TemporalVariables = []struct{ Name, Help string }{
	{"TEMPORAL_ADDRESS", "Temporal frontend host:port, when HOOKD_TEMPORAL_ADDRESS is unset"},
	{"TEMPORAL_NAMESPACE", "Temporal namespace, when HOOKD_TEMPORAL_NAMESPACE is unset"},
	{"TEMPORAL_API_KEY", "API key (Temporal Cloud); turns TLS on"},
	{"TEMPORAL_TLS", "true or false: TLS on or off (on when any TEMPORAL_TLS_* or an API key is set)"},
	{"TEMPORAL_TLS_CLIENT_CERT_PATH", "client certificate (PEM) for mTLS"},
	{"TEMPORAL_TLS_CLIENT_KEY_PATH", "its private key (PEM)"},
	{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "CA (PEM) that signed the server's certificate; TEMPORAL_TLS_CA_PATH is an alias"},
	{"TEMPORAL_TLS_SERVER_NAME", "server name to verify the server's certificate against (SNI)"},
	{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true skips verifying the server's certificate"},
	{"TEMPORAL_CONFIG_FILE", "TOML profile file (default: <user config dir>/temporalio/temporal.toml)"},
	{"TEMPORAL_PROFILE", "profile of that file (default: default)"},
}

// caAlias is the temporal CLI's name for TEMPORAL_TLS_SERVER_CA_CERT_PATH.
const caAlias = "TEMPORAL_TLS_CA_PATH"

// temporalEnv is environ as envconfig reads it: only TEMPORAL_ variables,
// with the CLI's TEMPORAL_TLS_CA_PATH standing in for an unset
// TEMPORAL_TLS_SERVER_CA_CERT_PATH.
type temporalEnv map[string]string

func newTemporalEnv(environ []string) temporalEnv {
	env := temporalEnv{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TEMPORAL_") {
			env[k] = v
		}
	}
	if _, ok := env["TEMPORAL_TLS_SERVER_CA_CERT_PATH"]; !ok && env[caAlias] != "" {
		env["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] = env[caAlias]
	}
	return env
}

func (e temporalEnv) Environ() []string {
	out := make([]string, 0, len(e))
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

func (e temporalEnv) LookupEnv(k string) (string, bool) { v, ok := e[k]; return v, ok }

// loadTemporal reads Temporal's environment configuration into
// c.TemporalClient: the profile file, then TEMPORAL_* on top. The address
// and namespace there are the fallbacks of HOOKD_TEMPORAL_ADDRESS and
// HOOKD_TEMPORAL_NAMESPACE.
func (c *Config) loadTemporal(environ []string) error {
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
		EnvLookup: newTemporalEnv(environ), ConfigFilePath: defaultProfileFile(environ)})
	if err != nil {
		return fmt.Errorf("TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE: Temporal's client configuration: %w", err)
	}
	if err := checkTemporalTLS(prof.TLS); err != nil {
		return err
	}
	if c.TemporalClient, err = prof.ToClientOptions(envconfig.ToClientOptionsRequest{}); err != nil {
		return fmt.Errorf("TEMPORAL_TLS_* (or the profile's tls table): %w", err)
	}
	return nil
}

// defaultProfileFile is where Temporal's profile file is when
// TEMPORAL_CONFIG_FILE does not say ("" when it does), found from environ's
// XDG_CONFIG_HOME or HOME as os.UserConfigDir finds it from the process's:
// Load reads nothing but environ. "" too when environ has neither, and the
// SDK looks where the process's environment says.
func defaultProfileFile(environ []string) string {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	switch {
	case env["TEMPORAL_CONFIG_FILE"] != "":
		return ""
	case env["XDG_CONFIG_HOME"] != "":
		return filepath.Join(env["XDG_CONFIG_HOME"], "temporalio", "temporal.toml")
	case env["HOME"] != "":
		return filepath.Join(env["HOME"], ".config", "temporalio", "temporal.toml")
	}
	return ""
}

// checkTemporalTLS says which file setting of t is not usable, if one is not.
func checkTemporalTLS(t *envconfig.ClientConfigTLS) error {
	if t == nil || t.Disabled {
		return nil
	}
	const certKey = "TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH"
	if (t.ClientCertPath == "") != (t.ClientKeyPath == "") {
		return errors.New(certKey + ": set both (the client certificate and its key) or neither")
	}
	if t.ClientCertPath != "" {
		if _, err := tls.LoadX509KeyPair(t.ClientCertPath, t.ClientKeyPath); err != nil {
			return fmt.Errorf("%s: load the client certificate and key: %w", certKey, err)
		}
	}
	if t.ServerCACertPath != "" {
		pem, err := os.ReadFile(t.ServerCACertPath)
		if err != nil {
			return fmt.Errorf("TEMPORAL_TLS_SERVER_CA_CERT_PATH: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return fmt.Errorf("TEMPORAL_TLS_SERVER_CA_CERT_PATH: %s holds no PEM certificate", t.ServerCACertPath)
		}
	}
	return nil
}

// TemporalOptions are the client options api and worker dial Temporal
// with: c.TemporalClient (TLS, credentials, headers) at TemporalAddress in
// TemporalNamespace.
func (c Config) TemporalOptions() client.Options {
	o := c.TemporalClient
	o.HostPort, o.Namespace = c.TemporalAddress, c.TemporalNamespace
	return o
}

// usageTemporal lists TemporalVariables for `hookd help`.
func usageTemporal(b *strings.Builder) {
	b.WriteString("\nTemporal's environment configuration (api and worker; the HOOKD_TEMPORAL_ variables win):\n")
	for _, v := range TemporalVariables {
		fmt.Fprintf(b, "  %-40s %s\n", v.Name, v.Help)
	}
}
