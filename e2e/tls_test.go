package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	serverconfig "go.temporal.io/server/common/config"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/devserver"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// TestAPIAndWorkerConnectToATemporalThatRequiresMTLS starts a Temporal
// server whose frontend requires client certificates of its own CA, then
// hookd api and hookd worker configured only through Temporal's variables
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_*): an event is
// delivered. A worker whose client certificate another CA signed stops
// start-up, fast, with an error naming the settings to check.
func TestAPIAndWorkerConnectToATemporalThatRequiresMTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	t.Parallel()
	dir := t.TempDir()
	ca := newCA(t, "hookd test CA")
	ca.issue(t, dir, "server", false)
	ca.issue(t, dir, "client", true)
	newCA(t, "another CA").issue(t, dir, "stranger", true)

	srv, err := devserver.Start(context.Background(), devserver.Config{
		DataDir: t.TempDir(), UIPort: -1, HTTPPort: -1, Namespace: "hookd-mtls-test",
		TLS: &serverconfig.RootTLS{
			Frontend: serverconfig.GroupTLS{Server: serverconfig.ServerTLS{
				CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem"),
				RequireClientAuth: true, ClientCAFiles: []string{filepath.Join(dir, "ca.pem")},
			}},
			SystemWorker: serverconfig.WorkerTLS{
				CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client-key.pem"),
				Client: serverconfig.ClientTLS{ServerName: "localhost", RootCAFiles: []string{filepath.Join(dir, "ca.pem")}},
			},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	dsn := "" // SQLite unless the test DSN is set: api and worker share the store
	if os.Getenv(modelstest.PostgresDSNEnv) != "" {
		dsn = modelstest.OpenPostgres(t).DSN()
	}
	temporalEnv := func(cert string) []string {
		return []string{
			"TEMPORAL_ADDRESS=" + srv.FrontendHostPort(),
			"TEMPORAL_NAMESPACE=hookd-mtls-test",
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + filepath.Join(dir, "ca.pem"),
			"TEMPORAL_TLS_CLIENT_CERT_PATH=" + filepath.Join(dir, cert+".pem"),
			"TEMPORAL_TLS_CLIENT_KEY_PATH=" + filepath.Join(dir, cert+"-key.pem"),
			"TEMPORAL_TLS_SERVER_NAME=localhost",
			"TEMPORAL_CONFIG_FILE=" + filepath.Join(dir, "no-profile.toml"),
		}
	}
	worker := startMode(t, config.ModeWorker, dir, dsn, temporalEnv("client"))
	api := startMode(t, config.ModeAPI, dir, dsn, temporalEnv("client"))
	require.Equal(t, srv.FrontendHostPort(), worker.Config.TemporalAddress)

	c := &client{t: t, base: api.APIURL, key: apiKey}
	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	ev := c.postEvent("mtls-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"x": 1}})
	waitFor(t, 30*time.Second, "delivery through a Temporal that requires mTLS", func() bool { return len(rcv.requests()) == 1 })
	require.Equal(t, ev["id"], rcv.requests()[0].Header.Get("webhook-id"))

	t.Run("a client certificate of another CA stops start-up naming the settings", func(t *testing.T) {
		began := time.Now()
		cfg := loadMode(t, config.ModeWorker, dir, dsn, temporalEnv("stranger"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler))
		if a != nil {
			a.Stop(context.Background())
		}
		require.Error(t, err)
		require.ErrorContains(t, err, "refused hookd's client certificate")
		require.ErrorContains(t, err, "TEMPORAL_TLS_CLIENT_CERT_PATH")
		require.Less(t, time.Since(began), 45*time.Second, "fails, not hangs")
		t.Logf("start-up error: %v", err)
	})
}

// modeEnv is the HOOKD_ environment of an api or worker in the test.
func modeEnv(dir, dsn string) []string {
	env := []string{"HOOKD_API_ADDR=127.0.0.1:0", "HOOKD_API_KEY=" + apiKey, "HOOKD_DATA_DIR=" + dir,
		"HOOKD_ALLOW_PRIVATE_TARGETS=127.0.0.0/8"}
	if dsn != "" {
		env = append(env, "HOOKD_DATABASE_URL="+dsn)
	}
	return env
}

// startMode starts hookd in mode from the environment env (plus modeEnv),
// through config.Load and app.Start as the binary does.
func startMode(t *testing.T, mode config.Mode, dir, dsn string, env []string) *app.App {
	t.Helper()
	cfg := loadMode(t, mode, dir, dsn, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

// loadMode is config.Load of mode from env plus modeEnv. Without a DSN the
// store is SQLite in dir, which only dev allows with an empty
// HOOKD_DATABASE_URL: the config is loaded as for PostgreSQL and pointed at
// SQLite after.
func loadMode(t *testing.T, mode config.Mode, dir, dsn string, env []string) config.Config {
	t.Helper()
	load := append(modeEnv(dir, dsn), env...)
	if dsn == "" {
		load = append(load, "HOOKD_DATABASE_URL=postgres://unused@127.0.0.1:1/unused")
	}
	cfg, err := config.Load(mode, load)
	require.NoError(t, err)
	if dsn == "" {
		cfg.DatabaseURL = "" // SQLite in dir
	}
	return cfg
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes dir/name.pem and dir/name-key.pem, a certificate for
// 127.0.0.1 and localhost signed by ca (a client certificate when client),
// and dir/ca.pem, unless there is one.
func (ca *testCA) issue(t *testing.T, dir, name string, client bool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); os.IsNotExist(err) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), ca.pem, 0o600))
	}
}
