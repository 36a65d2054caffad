package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// Outside the private-target allowance, a delivery to loopback — by IP, by a
// name that resolves to it, or by an IPv4-mapped IPv6 literal — is a failed
// attempt whose recorded error says it was refused, and the receiver gets
// nothing: the check is on the address dialled.
func TestSSRFRefusesLoopbackTargetsWithoutTheAllowance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	t.Parallel()
	strict, err := startDev(t.TempDir(), "HOOKD_ALLOW_PRIVATE_TARGETS=false")
	require.NoError(t, err)
	defer strict.Stop(context.Background())
	require.False(t, strict.Config.AllowPrivate)
	require.Empty(t, strict.Config.AllowedPrefixes)
	c := &client{t: t, base: strict.APIURL, key: apiKey}

	rcv := newReceiver(t, always(200))
	p := rcv.Listener.Addr().(*net.TCPAddr).Port
	urls := []string{
		rcv.URL + "/by-ip",
		fmt.Sprintf("http://localhost:%d%s/by-name", p, rcv.path),
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d%s/mapped", p, rcv.path),
	}
	tenant := models.NewID("tenant")
	for _, u := range urls {
		c.createEndpoint(map[string]any{"url": u, "tenant_id": tenant, "retry_schedule": []string{}})
	}
	ev := c.postEvent("ssrf-"+tenant, map[string]any{"type": "x", "tenant_id": tenant, "payload": map[string]any{}})
	dls := ev["deliveries"].([]any)
	require.Len(t, dls, len(urls))
	for _, d := range dls {
		id := d.(map[string]any)["id"].(string)
		waitFor(t, 20*time.Second, "delivery "+id+" failed", func() bool {
			_, out := c.do("GET", "/v1/deliveries/"+id, nil)
			return out["status"] == models.DeliveryFailed
		})
		_, out := c.do("GET", "/v1/deliveries/"+id, nil)
		atts := out["attempts"].([]any)
		require.Len(t, atts, 1)
		att := atts[0].(map[string]any)
		msg, _ := att["error"].(string)
		require.True(t, strings.HasPrefix(msg, "refused: "), "attempt error: %q", msg)
		require.Contains(t, msg, "not public")
		require.Contains(t, msg, "HOOKD_ALLOW_PRIVATE_TARGETS")
		require.Nil(t, att["status_code"])
		require.Equal(t, msg, out["last_error"])
	}
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, rcv.requests(), "a refused target must not be contacted")
}

// A receiver that answers with a redirect gets a failed attempt ("HTTP 302");
// the redirect is not followed, so its target is never requested. (Run on the
// shared dev hookd, whose allowance lets it reach the loopback receivers at
// all: the redirect target would be allowed, and is still not requested.)
func TestSSRFRedirectIsAFailedAttemptAndIsNotFollowed(t *testing.T) {
	t.Parallel()
	c := api(t)
	target := newReceiver(t, always(200))
	var redirected atomic.Int64
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected.Add(1)
		http.Redirect(w, r, target.URL+"/stolen", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": redirector.URL, "tenant_id": tenant, "retry_schedule": []string{"50ms"}})
	ev := c.postEvent("redirect-"+tenant, map[string]any{"type": "x", "tenant_id": tenant, "payload": map[string]any{}})
	id := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	waitFor(t, 20*time.Second, "delivery failed", func() bool {
		_, out := c.do("GET", "/v1/deliveries/"+id, nil)
		return out["status"] == models.DeliveryFailed
	})
	_, out := c.do("GET", "/v1/deliveries/"+id, nil)
	atts := out["attempts"].([]any)
	require.Len(t, atts, 2, "first attempt plus one retry")
	for _, a := range atts {
		att := a.(map[string]any)
		require.Equal(t, float64(http.StatusFound), att["status_code"])
		require.Equal(t, "HTTP 302", att["error"])
	}
	require.Equal(t, int64(2), redirected.Load())
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, target.requests(), "the redirect target must never be requested")
}

// syncBuffer is an io.Writer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Everything hookd logs (at debug level) while an endpoint is created with a
// secret, its secret is rotated and read, and a delivery signed with both
// secrets is failed, retried and delivered holds none of the secrets nor the
// API key — though it does hold the ids, so the search would find them.
func TestLogsNeverHoldSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	t.Parallel()
	var logs syncBuffer
	h, err := startDevLogged(t.TempDir(), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	defer h.Stop(context.Background())
	c := &client{t: t, base: h.APIURL, key: apiKey}

	rcv := newReceiver(t, func(n int) int { return map[bool]int{true: 500, false: 200}[n == 1] })
	tenant := models.NewID("tenant")
	const secret = "whsec_bG9nLXNlY3JldC1sb2ctc2VjcmV0LWxvZy1zZWNyZXQ="
	epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "secret": secret, "retry_schedule": []string{"50ms"}})
	status, rot := c.do("POST", "/v1/endpoints/"+epID+"/rotate-secret", map[string]any{"grace_period": "1h"})
	require.Equal(t, http.StatusOK, status, "%v", rot)
	rotated := rot["secret"].(string)
	status, _ = c.do("GET", "/v1/endpoints/"+epID+"/secret", nil)
	require.Equal(t, http.StatusOK, status)
	ev := c.postEvent("logs-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
	dlvID := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	waitFor(t, 20*time.Second, "delivered on the retry", func() bool {
		_, out := c.do("GET", "/v1/deliveries/"+dlvID, nil)
		return out["status"] == models.DeliverySucceeded
	})
	require.Len(t, rcv.requests(), 2)
	sigs := rcv.requests()[1].Header.Get("webhook-signature")
	require.Len(t, strings.Fields(sigs), 2)

	out := logs.String()
	require.Contains(t, out, dlvID, "the delivery is logged with its id")
	require.Contains(t, out, epID, "the endpoint is logged with its id")
	for what, s := range map[string]string{
		"the created secret": secret, "its key": strings.TrimPrefix(secret, "whsec_"),
		"the rotated secret": rotated, "its key (rotated)": strings.TrimPrefix(rotated, "whsec_"),
		"the API key": apiKey,
	} {
		require.NotContains(t, out, s, "the logs hold %s", what)
	}
	for _, sig := range strings.Fields(sigs) {
		_, v, _ := strings.Cut(sig, ",")
		require.NotContains(t, out, v, "the logs hold a signature")
	}
}
