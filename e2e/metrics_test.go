package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// metricValue reads one sample from the shared hookd's /metrics (-1 if absent).
func metricValue(t *testing.T, name string) float64 {
	return metricValueAt(t, hookd.APIURL, name)
}

// metricValueAt reads one sample from the /metrics of the hookd at base.
func metricValueAt(t *testing.T, base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
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

// The gauges count what the store holds, so they are checked on a hookd of
// this test's own (the shared one's endpoints change under parallel tests).
func TestMetricsGaugesFollowPauseHoldAndUnpause(t *testing.T) {
	t.Parallel()
	h, err := startDev(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { h.Stop(context.Background()) })
	c := &client{t: t, base: h.APIURL, key: apiKey}
	gauge := func(name string) float64 { return metricValueAt(t, h.APIURL, name) }
	require.Equal(t, float64(0), gauge("hookd_endpoints_paused"))
	require.Equal(t, float64(0), gauge("hookd_deliveries_held"))

	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	id, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	status, out := c.do("POST", "/v1/endpoints/"+id+"/pause", map[string]any{"reason": "metrics test"})
	require.Equal(t, http.StatusOK, status, "%v", out)
	for i := range 2 {
		c.postEvent(fmt.Sprintf("gauge-%d-%s", i, tenant), map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
	}
	waitFor(t, 10*time.Second, "two deliveries held", func() bool { return gauge("hookd_deliveries_held") == 2 })
	require.Equal(t, float64(1), gauge("hookd_endpoints_paused"))
	require.Equal(t, float64(2), gauge("hookd_deliveries_held_total"))
	require.Empty(t, rcv.requests(), "nothing is sent while paused")

	status, out = c.do("POST", "/v1/endpoints/"+id+"/unpause", nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	waitFor(t, 10*time.Second, "held deliveries released", func() bool {
		return gauge("hookd_deliveries_held") == 0 && len(rcv.requests()) == 2
	})
	require.Equal(t, float64(0), gauge("hookd_endpoints_paused"))
	require.Equal(t, float64(2), gauge("hookd_deliveries_held_total"), "a counter: it keeps what happened")
}
