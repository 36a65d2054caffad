package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
)

// notice is an operational webhook as the operator's endpoint gets it
// (standard profile envelope).
type notice struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
	header    http.Header
}

// operator subscribes an endpoint of the operational tenant (the default,
// hookd) to every operational webhook, and answers a function that lists
// the notices it got about one endpoint, each verified with an independent
// Standard Webhooks library. (The shared hookd sends it notices about the
// endpoints of other tests too.)
func operator(t *testing.T, c *client) func(endpointID string) []notice {
	rcv := newReceiver(t, always(200))
	_, secret := c.createEndpoint(map[string]any{
		"url": rcv.URL, "tenant_id": "hookd", "event_types": []string{"endpoint.*", "delivery.exhausted"},
	})
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	return func(endpointID string) []notice {
		var out []notice
		for _, r := range rcv.requests() {
			require.NoError(t, wh.Verify(r.Body, r.Header), "an operational webhook is signed like any other")
			var n notice
			require.NoError(t, json.Unmarshal(r.Body, &n))
			if n.Data["endpoint_id"] == endpointID {
				n.header = r.Header
				out = append(out, n)
			}
		}
		return out
	}
}

// noticeOf waits for the notice of type typ about endpointID and answers it.
func noticeOf(t *testing.T, got func(string) []notice, endpointID, typ string) notice {
	t.Helper()
	var found notice
	waitFor(t, 30*time.Second, typ+" of "+endpointID, func() bool {
		for _, n := range got(endpointID) {
			if n.Type == typ {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

func TestOperationalEventTypesAreInTheCatalogWithTheirSchemas(t *testing.T) {
	c := api(t)
	for _, name := range []string{"endpoint.paused", "endpoint.unpaused", "endpoint.disabled", "delivery.exhausted"} {
		status, out := c.do("GET", "/v1/event-types?limit=250&cursor="+name[:len(name)-1], nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		var found map[string]any
		for _, it := range out["data"].([]any) {
			if m := it.(map[string]any); m["name"] == name {
				found = m
			}
		}
		require.NotNil(t, found, "%s is in the catalog", name)
		require.NotEmpty(t, found["description"])
		schema, ok := found["schema"].(map[string]any)
		require.True(t, ok, "%s has a JSON Schema: %v", name, found["schema"])
		require.Contains(t, schema["required"], "endpoint_id")
	}
}

// A receiver answering 410 Gone fails its delivery at once and disables its
// endpoint; the operator hears endpoint.disabled; a disabled endpoint holds
// new events until it is enabled, then gets them.
func TestA410DisablesTheEndpointTellsTheOperatorAndEnableReleasesHeldEvents(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		got := operator(t, c)
		gone := new(atomic.Bool)
		gone.Store(true)
		rcv := newReceiver(t, func(int) int {
			if gone.Load() {
				return http.StatusGone
			}
			return http.StatusOK
		})
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{"50ms", "50ms"}})
		ev := c.postEvent("gone-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"n": 1}})
		dlvID := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)

		n := noticeOf(t, got, epID, "endpoint.disabled")
		require.Equal(t, tenant, n.Data["tenant_id"])
		require.Equal(t, rcv.URL, n.Data["url"])
		require.Equal(t, "the receiver answered 410 Gone", n.Data["reason"])
		require.NotEmpty(t, n.Data["disabled_at"])

		status, d := c.do("GET", "/v1/deliveries/"+dlvID, nil)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, models.DeliveryFailed, d["status"])
		require.Len(t, d["attempts"], 1, "no retry after a 410")
		time.Sleep(300 * time.Millisecond)
		require.Len(t, rcv.requests(), 1, "the schedule is not followed after a 410")

		status, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, models.EndpointDisabled, h["state"])
		require.Equal(t, n.Data["disabled_at"], h["disabled_at"])
		require.Equal(t, "the receiver answered 410 Gone", h["disabled_reason"])
		_, e := c.do("GET", "/v1/endpoints/"+epID, nil)
		require.Equal(t, models.EndpointDisabled, e["state"])
		require.NotNil(t, e["disabled_at"])

		ev2 := c.postEvent("held-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"n": 2}})
		held := ev2["deliveries"].([]any)
		require.Len(t, held, 1, "a disabled endpoint still gets its events, held")
		heldID := held[0].(map[string]any)["id"].(string)
		waitFor(t, 10*time.Second, "the new delivery held", func() bool {
			_, d := c.do("GET", "/v1/deliveries/"+heldID, nil)
			return d["status"] == models.DeliveryHeld
		})
		require.Len(t, rcv.requests(), 1, "a disabled endpoint receives nothing")
		for _, action := range []string{"unpause", "pause"} {
			status, out := c.do("POST", "/v1/endpoints/"+epID+"/"+action, nil)
			require.Equal(t, http.StatusConflict, status, "%s of a disabled endpoint: %v", action, out)
			require.Contains(t, out["error"].(map[string]any)["message"], "/enable", "the answer says what to do")
		}
		_, h = c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		require.Equal(t, models.EndpointDisabled, h["state"], "a refused pause or unpause changes nothing")

		gone.Store(false)
		status, h = c.do("POST", "/v1/endpoints/"+epID+"/enable", nil)
		require.Equal(t, http.StatusOK, status, "%v", h)
		require.Equal(t, models.EndpointActive, h["state"])
		require.Nil(t, h["disabled_at"])
		waitFor(t, 20*time.Second, "the held delivery delivered", func() bool {
			_, d := c.do("GET", "/v1/deliveries/"+heldID, nil)
			return d["status"] == models.DeliverySucceeded
		})
		require.Len(t, got(epID), 1, "one endpoint.disabled, however often it is retried")

		status, out := c.do("POST", "/v1/endpoints/"+models.NewID("ep")+"/enable", nil)
		require.Equal(t, http.StatusNotFound, status, "%v", out)
		status, out = c.do("POST", "/v1/endpoints/"+epID+"/enable", map[string]any{"force": true})
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	})
}

// The operator hears delivery.exhausted when a delivery's schedule is used
// up, endpoint.paused when failures reach the threshold and
// endpoint.unpaused after an unpause.
func TestTheOperatorHearsExhaustedPausedAndUnpaused(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		got := operator(t, c)
		rcv := newReceiver(t, always(500))
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "pause_threshold": 2,
			"retry_schedule": []string{"50ms"}})
		ev := c.postEvent("exhaust-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"n": 1}})
		evID := ev["id"].(string)
		dlvID := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)

		x := noticeOf(t, got, epID, "delivery.exhausted")
		require.Equal(t, dlvID, x.Data["delivery_id"])
		require.Equal(t, evID, x.Data["event_id"])
		require.Equal(t, "lead.created", x.Data["event_type"])
		require.Equal(t, float64(2), x.Data["attempts"])
		require.Equal(t, float64(500), x.Data["last_status_code"])
		require.Equal(t, "HTTP 500", x.Data["last_error"])
		require.Equal(t, tenant, x.Data["tenant_id"])

		p := noticeOf(t, got, epID, "endpoint.paused")
		require.Equal(t, "2 consecutive failed attempts (last: HTTP 500)", p.Data["reason"])
		_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
		require.Equal(t, models.EndpointPaused, h["state"])
		require.Equal(t, h["paused_at"], p.Data["paused_at"])

		status, out := c.do("POST", "/v1/endpoints/"+epID+"/unpause", nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		u := noticeOf(t, got, epID, "endpoint.unpaused")
		require.NotEmpty(t, u.Data["unpaused_at"])
		require.NotEqual(t, p.header.Get("webhook-id"), u.header.Get("webhook-id"), "each notice is its own event")

		// Each notice is an event of the operational tenant, in the log.
		status, out = c.do("GET", "/v1/events?tenant_id=hookd&type=endpoint.paused&limit=100", nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Contains(t, fmt.Sprint(out["data"]), epID)
	})
}

// No feedback loop: the operator's own endpoints are not the subject of
// operational webhooks.
func TestNoNoticeAboutTheOperationalTenantsOwnEndpoints(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		got := operator(t, c)
		rcv := newReceiver(t, always(410))
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": "hookd", "event_types": []string{"lead.*"}})
		c.postEvent("own-"+epID, map[string]any{"type": "lead.created", "tenant_id": "hookd", "payload": map[string]any{"n": 1}})
		waitFor(t, 20*time.Second, "the operator's endpoint disabled", func() bool {
			_, h := c.do("GET", "/v1/endpoints/"+epID+"/health", nil)
			return h["state"] == models.EndpointDisabled
		})
		time.Sleep(time.Second)
		require.Empty(t, got(epID))
	})
}
