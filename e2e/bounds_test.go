package e2e

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
)

func TestAttemptsAreBoundedInTimeAndStoredBytes(t *testing.T) {
	t.Parallel()
	c := api(t)
	// A receiver that answers a huge body, and one that never answers in time.
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	}))
	t.Cleanup(big.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)

	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": big.URL, "tenant_id": tenant, "event_types": []string{"big"}})
	c.createEndpoint(map[string]any{"url": slow.URL, "tenant_id": tenant, "event_types": []string{"slow"}, "timeout": "200ms", "retry_schedule": []string{}})
	bigDlv := c.postEvent("big-"+tenant, map[string]any{"type": "big", "tenant_id": tenant, "payload": map[string]any{}})["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	slowDlv := c.postEvent("slow-"+tenant, map[string]any{"type": "slow", "tenant_id": tenant, "payload": map[string]any{}})["deliveries"].([]any)[0].(map[string]any)["id"].(string)

	waitFor(t, 10*time.Second, "both finished", func() bool {
		_, b := c.do("GET", "/v1/deliveries/"+bigDlv, nil)
		_, s := c.do("GET", "/v1/deliveries/"+slowDlv, nil)
		return b["status"] == models.DeliverySucceeded && s["status"] == models.DeliveryFailed
	})
	_, b := c.do("GET", "/v1/deliveries/"+bigDlv, nil)
	excerpt := b["attempts"].([]any)[0].(map[string]any)["response_excerpt"].(string)
	require.Len(t, excerpt, models.MaxResponseExcerpt, "a 1 MiB answer is stored as its first 4 KiB")

	_, s := c.do("GET", "/v1/deliveries/"+slowDlv, nil)
	att := s["attempts"].([]any)[0].(map[string]any)
	require.Contains(t, att["error"], "timeout: no response within 200ms")
	require.Less(t, att["latency_ms"].(float64), 2000.0, "the attempt was cut at its timeout")
}

func TestOversizeHeadersAreRefusedBothWays(t *testing.T) {
	t.Parallel()
	c := api(t)

	// Into the API: request headers past 64 KiB are refused before any handler runs.
	req, err := http.NewRequest("GET", c.base+"/v1/endpoints", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("X-Padding", strings.Repeat("p", 100<<10))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	// From a receiver: an answer whose headers pass 64 KiB is a failed attempt,
	// however 2xx its status line.
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for i := range 40 {
			w.Header().Set("X-Padding-"+strings.Repeat("a", i+1), strings.Repeat("p", 4<<10))
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(huge.Close)
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": huge.URL, "tenant_id": tenant, "retry_schedule": []string{}})
	dlv := c.postEvent("huge-"+tenant, map[string]any{"type": "huge", "tenant_id": tenant, "payload": map[string]any{}})["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	waitFor(t, 10*time.Second, "the delivery failed", func() bool {
		_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
		return d["status"] == models.DeliveryFailed
	})
	_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
	att := d["attempts"].([]any)[0].(map[string]any)
	require.Nil(t, att["status_code"], "no response was accepted")
	require.Contains(t, att["error"], "header", "the error says the headers were too large: %v", att["error"])
}

// A receiver's answer may be any bytes: NUL and invalid UTF-8 included, the
// attempt is recorded (on PostgreSQL too, whose text columns refuse them),
// shown as text with U+FFFD in place of what is not UTF-8, and given exactly
// in response_excerpt_base64; the delivery goes on to its next attempt.
func TestABinaryAnswerIsRecordedAndShown(t *testing.T) {
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		answer := []byte("no\x00\xff\xfe")
		n := 0
		var mu sync.Mutex
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			n++
			first := n == 1
			mu.Unlock()
			if first {
				w.WriteHeader(http.StatusInternalServerError)
				w.Write(answer)
				return
			}
			w.Write([]byte("ok\x00"))
		}))
		t.Cleanup(rcv.Close)
		tenant := models.NewID("tenant")
		c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{"1s"}})
		id := c.postEvent("binary-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})["deliveries"].([]any)[0].(map[string]any)["id"].(string)
		var d map[string]any
		waitFor(t, 15*time.Second, "delivered on the second attempt", func() bool {
			_, d = c.do("GET", "/v1/deliveries/"+id, nil)
			return d["status"] == models.DeliverySucceeded
		})
		atts := d["attempts"].([]any)
		require.Len(t, atts, 2)
		first, second := atts[0].(map[string]any), atts[1].(map[string]any)
		require.Equal(t, "no\x00\uFFFD", first["response_excerpt"], "a run of bytes that are not UTF-8 shows as one U+FFFD")
		require.Equal(t, base64.StdEncoding.EncodeToString(answer), first["response_excerpt_base64"])
		require.Equal(t, "ok\x00", second["response_excerpt"], "NUL is valid UTF-8: shown as is")
		require.NotContains(t, second, "response_excerpt_base64")
	})
}
