package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// metricValue reads one sample from /metrics (-1 if absent).
func metricValue(t *testing.T, name string) float64 {
	resp, err := http.Get(hookd.APIURL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+-]+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return v
}

func TestMetricsCountEventsAttemptsAndLatency(t *testing.T) {
	t.Parallel()
	c := api(t)
	before := metricValue(t, `hookd_attempts_total{outcome="failed"}`)
	events := metricValue(t, `hookd_events_accepted_total`)
	rcv := newReceiver(t, always(500))
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{}})
	c.postEvent("metrics-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
	waitFor(t, 10*time.Second, "failed attempt counted", func() bool {
		return metricValue(t, `hookd_attempts_total{outcome="failed"}`) >= max(before, 0)+1
	})
	require.GreaterOrEqual(t, metricValue(t, `hookd_events_accepted_total`), events+1)
	require.GreaterOrEqual(t, metricValue(t, `hookd_attempt_duration_seconds_count{outcome="failed"}`), float64(1))
	require.GreaterOrEqual(t, metricValue(t, `hookd_endpoints_paused`), float64(0), "the paused gauge is exported")
	require.GreaterOrEqual(t, metricValue(t, `hookd_deliveries_held`), float64(0), "the held gauge is exported")
}
