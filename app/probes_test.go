package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/devserver"
	"github.com/hookd/hookd/models/modelstest"
)

// A worker serves no API, so its metrics listener answers the probes a
// supervisor needs (deploy/helm points Kubernetes at them): /healthz while
// the process serves, /readyz 200 only while PostgreSQL and Temporal both
// answer, and 503 naming Temporal once it is gone.
func TestWorkerMetricsListenerServesHealthAndReadiness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server and uses PostgreSQL")
	}
	pg := modelstest.OpenPostgres(t)
	srv, err := devserver.Start(context.Background(), devserver.Config{
		DataDir: t.TempDir(), UIPort: -1, HTTPPort: -1, Namespace: "hookd-probes-test",
	})
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = srv.Stop()
		}
	})
	cfg, err := config.Load(config.ModeWorker, []string{
		"HOOKD_DATABASE_URL=" + pg.DSN(),
		"HOOKD_TEMPORAL_ADDRESS=" + srv.FrontendHostPort(),
		"HOOKD_TEMPORAL_NAMESPACE=hookd-probes-test",
		"HOOKD_METRICS_ADDR=127.0.0.1:0",
	})
	require.NoError(t, err)
	a, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { a.Stop(context.Background()) })
	require.NotEmpty(t, a.MetricsURL)
	require.Empty(t, a.APIURL, "a worker serves no API")

	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(a.MetricsURL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var out map[string]any
		require.NoError(t, json.Unmarshal(body, &out), "%s: %s", path, body)
		return resp.StatusCode, out
	}
	status, body := get("/healthz")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ok", body["status"])
	status, body = get("/readyz")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, map[string]any{"ready": true, "checks": map[string]any{"database": "ok", "temporal": "ok"}}, body)
	resp, err := http.Get(a.MetricsURL + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "/metrics is still served beside the probes")

	require.NoError(t, srv.Stop())
	stopped = true
	start := time.Now()
	status, body = get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, status, "%v", body)
	require.Equal(t, map[string]any{"ready": false, "checks": map[string]any{"database": "ok", "temporal": "unavailable"}}, body)
	require.Less(t, time.Since(start), 10*time.Second, "a probe answers within its own timeout")
	status, _ = get("/healthz")
	require.Equal(t, http.StatusOK, status, "liveness does not depend on Temporal: restarting the pod would not bring it back")
}
