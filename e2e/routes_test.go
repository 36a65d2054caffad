package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
)

const missingEndpoint = "ep_01M85KMFZ37SC812YH1CEJAVP3"

// requireError checks the one error shape: status, code, and field when given.
func requireError(t *testing.T, status int, out map[string]any, wantStatus int, field string) {
	t.Helper()
	require.Equal(t, wantStatus, status, "%v", out)
	e, ok := out["error"].(map[string]any)
	require.True(t, ok, "error shape: %v", out)
	require.NotEmpty(t, e["code"])
	require.NotEmpty(t, e["message"])
	if field != "" {
		require.Equal(t, field, e["field"], "%v", e)
	}
}

func TestEndpointListFiltersAndPages(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		tenant := models.NewID("tenant")
		var ids []string
		for i := range 5 {
			id, _ := c.createEndpoint(map[string]any{"url": fmt.Sprintf("https://example.com/%d", i), "tenant_id": tenant})
			ids = append([]string{id}, ids...) // newest first
		}
		c.createEndpoint(map[string]any{"url": "https://example.com/other", "tenant_id": tenant + "-other"})
		var seen []string
		cursor := ""
		for range 5 {
			status, out := c.do("GET", "/v1/endpoints?limit=2&tenant_id="+tenant+cursor, nil)
			require.Equal(t, http.StatusOK, status)
			for _, e := range out["data"].([]any) {
				e := e.(map[string]any)
				require.NotContains(t, e, "secret", "lists never show secrets")
				seen = append(seen, e["id"].(string))
			}
			if out["next_cursor"] == nil {
				break
			}
			cursor = "&cursor=" + out["next_cursor"].(string)
		}
		require.Equal(t, ids, seen)

		for q, field := range map[string]string{"state=broken": "state", "limit=0": "limit", "cursor=abc": "cursor", "profile=stripe": "profile"} {
			status, out := c.do("GET", "/v1/endpoints?"+q, nil)
			requireError(t, status, out, http.StatusBadRequest, field)
		}
	})
}

func TestEndpointPatchChangesOnlyWhatIsGiven(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		tenant := models.NewID("tenant")
		id, _ := c.createEndpoint(map[string]any{"url": "https://example.com/a", "tenant_id": tenant,
			"event_types": []string{"lead.*"}, "description": "first", "headers": map[string]string{"X-Team": "a"}})
		status, out := c.do("PATCH", "/v1/endpoints/"+id, map[string]any{"description": "second", "retry_schedule": []string{"10s"}})
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Equal(t, "second", out["description"])
		require.Equal(t, []any{"10s"}, out["retry_schedule"])
		require.Equal(t, "https://example.com/a", out["url"], "untouched")
		require.Equal(t, []any{"lead.*"}, out["event_types"], "untouched")
		require.Equal(t, map[string]any{"X-Team": "a"}, out["headers"], "untouched")
		_, got := c.do("GET", "/v1/endpoints/"+id, nil)
		require.Equal(t, "second", got["description"])

		before := got
		for name, tc := range map[string]struct {
			body  any
			field string
		}{
			"tenant change":    {map[string]any{"tenant_id": "someone-else"}, "tenant_id"},
			"bad url":          {map[string]any{"url": "gopher://x"}, "url"},
			"unknown field":    {map[string]any{"colour": "red"}, "colour"},
			"wrong type":       {map[string]any{"event_types": "lead.*"}, "event_types"},
			"timeout too long": {map[string]any{"timeout": "2m"}, "timeout"},
		} {
			status, out := c.do("PATCH", "/v1/endpoints/"+id, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, status, "%s: %v", name, out)
			requireError(t, status, out, http.StatusUnprocessableEntity, tc.field)
		}
		_, after := c.do("GET", "/v1/endpoints/"+id, nil)
		require.Equal(t, before, after, "refused patches change nothing")
		status, out = c.do("PATCH", "/v1/endpoints/"+missingEndpoint, map[string]any{"description": "x"})
		requireError(t, status, out, http.StatusNotFound, "")
	})
}

func TestDeleteEndpointCancelsItsOpenDeliveries(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		rcv := newReceiver(t, always(500))
		tenant := models.NewID("tenant")
		id, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{"1h"}})
		ev := c.postEvent("del-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
		dlv := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
		waitFor(t, 10*time.Second, "first attempt", func() bool { return len(rcv.requests()) == 1 })

		status, _ := c.do("DELETE", "/v1/endpoints/"+id, nil)
		require.Equal(t, http.StatusNoContent, status)
		status, out := c.do("GET", "/v1/endpoints/"+id, nil)
		requireError(t, status, out, http.StatusNotFound, "")
		_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
		require.Equal(t, models.DeliveryCancelled, d["status"], "the waiting retry is cancelled")
		require.Len(t, d["attempts"], 1, "history stays readable")

		status, out = c.do("DELETE", "/v1/endpoints/"+id, nil)
		requireError(t, status, out, http.StatusNotFound, "")
		status, out = c.do("DELETE", "/v1/endpoints/not-an-id", nil)
		requireError(t, status, out, http.StatusNotFound, "")
		// A new event for the tenant goes nowhere now.
		ev = c.postEvent("del2-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
		require.Empty(t, ev["deliveries"])
	})
}

func TestRotateSecretSignsWithBothDuringTheGracePeriod(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		rcv := newReceiver(t, always(200))
		tenant := models.NewID("tenant")
		id, oldSecret := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})

		status, rot := c.do("POST", "/v1/endpoints/"+id+"/rotate-secret", map[string]any{"grace_period": "1h"})
		require.Equal(t, http.StatusOK, status, "%v", rot)
		newSecret := rot["secret"].(string)
		require.NotEqual(t, oldSecret, newSecret)
		_, sec := c.do("GET", "/v1/endpoints/"+id+"/secret", nil)
		require.Equal(t, newSecret, sec["secret"])
		require.Equal(t, []any{oldSecret}, sec["previous_secrets"])

		c.postEvent("rot1-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
		waitFor(t, 10*time.Second, "delivery", func() bool { return len(rcv.requests()) == 1 })
		r := rcv.requests()[0]
		sigs := strings.Fields(r.Header.Get("webhook-signature"))
		require.Len(t, sigs, 2, "both signatures during the grace period")
		for _, s := range []string{oldSecret, newSecret} {
			wh, err := standardwebhooks.NewWebhook(s)
			require.NoError(t, err)
			require.NoError(t, wh.Verify(r.Body, r.Header))
		}

		// With no grace period the old secret stops signing at once.
		rcv2 := newReceiver(t, always(200))
		id2, old2 := c.createEndpoint(map[string]any{"url": rcv2.URL, "tenant_id": tenant + "-2"})
		status, rot2 := c.do("POST", "/v1/endpoints/"+id2+"/rotate-secret", map[string]any{"grace_period": "0s"})
		require.Equal(t, http.StatusOK, status)
		c.postEvent("rot2-"+tenant, map[string]any{"type": "a", "tenant_id": tenant + "-2", "payload": map[string]any{}})
		waitFor(t, 10*time.Second, "delivery", func() bool { return len(rcv2.requests()) == 1 })
		r2 := rcv2.requests()[0]
		require.Len(t, strings.Fields(r2.Header.Get("webhook-signature")), 1, "only the new secret signs")
		whNew, err := standardwebhooks.NewWebhook(rot2["secret"].(string))
		require.NoError(t, err)
		require.NoError(t, whNew.Verify(r2.Body, r2.Header))
		whOld, err := standardwebhooks.NewWebhook(old2)
		require.NoError(t, err)
		require.Error(t, whOld.Verify(r2.Body, r2.Header), "the old secret no longer verifies")

		for body, field := range map[string]string{`{"grace_period":"soon"}`: "grace_period", `{"grace_period":"-1h"}`: "grace_period",
			`{"secret":"short"}`: "secret", `{"rotate":true}`: "rotate"} {
			status, out := c.do("POST", "/v1/endpoints/"+id+"/rotate-secret", body)
			requireError(t, status, out, http.StatusUnprocessableEntity, field)
		}
		status, out := c.do("POST", "/v1/endpoints/"+missingEndpoint+"/rotate-secret", nil)
		requireError(t, status, out, http.StatusNotFound, "")
	})
}

func TestTestEventGoesToThatEndpointOnly(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		target, other := newReceiver(t, always(200)), newReceiver(t, always(200))
		tenant := models.NewID("tenant")
		id, _ := c.createEndpoint(map[string]any{"url": target.URL, "tenant_id": tenant})
		c.createEndpoint(map[string]any{"url": other.URL, "tenant_id": tenant})
		status, d := c.do("POST", "/v1/endpoints/"+id+"/test", map[string]any{"event_type": "lead.created", "payload": map[string]any{"id": "lead_test"}})
		require.Equal(t, http.StatusAccepted, status, "%v", d)
		require.Equal(t, id, d["endpoint_id"])
		waitFor(t, 10*time.Second, "test delivery", func() bool { return len(target.requests()) == 1 })
		require.Contains(t, string(target.requests()[0].Body), "lead_test")
		time.Sleep(200 * time.Millisecond)
		require.Empty(t, other.requests())

		for body, field := range map[string]string{`{"event_type":"a b"}`: "event_type", `{"payload":[1]}`: "payload", `{"kind":"x"}`: "kind"} {
			status, out := c.do("POST", "/v1/endpoints/"+id+"/test", body)
			requireError(t, status, out, http.StatusUnprocessableEntity, field)
		}
		status, out := c.do("POST", "/v1/endpoints/"+missingEndpoint+"/test", nil)
		requireError(t, status, out, http.StatusNotFound, "")
	})
}

func TestEventsListAndRead(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		tenant := models.NewID("tenant")
		c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/", "tenant_id": tenant, "retry_schedule": []string{}})
		var ids []string
		for i := range 3 {
			ev := c.postEvent(fmt.Sprintf("list-%s-%d", tenant, i), map[string]any{"type": fmt.Sprintf("t.%d", i%2), "tenant_id": tenant, "payload": map[string]any{"i": i}})
			ids = append([]string{ev["id"].(string)}, ids...)
		}
		_, out := c.do("GET", "/v1/events?tenant_id="+tenant, nil)
		var got []string
		for _, e := range out["data"].([]any) {
			got = append(got, e.(map[string]any)["id"].(string))
		}
		require.Equal(t, ids, got)
		_, out = c.do("GET", "/v1/events?tenant_id="+tenant+"&type=t.0", nil)
		require.Len(t, out["data"], 2)
		_, out = c.do("GET", "/v1/events?tenant_id="+tenant+"&limit=1", nil)
		require.Len(t, out["data"], 1)
		require.Equal(t, ids[0], out["next_cursor"])

		status, ev := c.do("GET", "/v1/events/"+ids[0], nil)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"i": float64(2)}, ev["payload"])
		require.Len(t, ev["deliveries"], 1)

		for q, field := range map[string]string{"since=yesterday": "since", "until=1": "until", "cursor=dlv_01M85KMFZ37SC812YH1CEJAVP3": "cursor", "limit=x": "limit"} {
			status, out := c.do("GET", "/v1/events?"+q, nil)
			requireError(t, status, out, http.StatusBadRequest, field)
		}
		status, out = c.do("GET", "/v1/events/evt_01M85KMFZ37SC812YH1CEJAVP3", nil)
		requireError(t, status, out, http.StatusNotFound, "")
	})
}

func TestEventTypeCatalogWithSchemaValidatesIngest(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		name := strings.ToLower(models.NewID("order")) + ".placed"
		status, out := c.do("POST", "/v1/event-types", map[string]any{
			"name": name, "description": "an order was placed",
			"schema": map[string]any{"type": "object", "required": []string{"amount"},
				"properties": map[string]any{"amount": map[string]any{"type": "integer", "minimum": 0}}},
		})
		require.Equal(t, http.StatusCreated, status, "%v", out)
		status, out = c.do("POST", "/v1/event-types", map[string]any{"name": name})
		requireError(t, status, out, http.StatusConflict, "name")
		for body, field := range map[string]string{
			`{"name":"bad name"}`: "name", `{"description":"no name"}`: "name",
			`{"name":"x.y","schema":{"type":"nonsense"}}`: "schema", `{"name":"x.y","colour":1}`: "colour",
		} {
			status, out := c.do("POST", "/v1/event-types", body)
			requireError(t, status, out, http.StatusUnprocessableEntity, field)
		}

		tenant := models.NewID("tenant")
		status, bad := c.do("POST", "/v1/events", map[string]any{"type": name, "tenant_id": tenant, "payload": map[string]any{"amount": -5}},
			"Idempotency-Key", "schema-bad-"+tenant)
		requireError(t, status, bad, http.StatusUnprocessableEntity, "payload")
		require.Contains(t, bad["error"].(map[string]any)["message"], "/amount")
		c.postEvent("schema-ok-"+tenant, map[string]any{"type": name, "tenant_id": tenant, "payload": map[string]any{"amount": 5}})

		status, preset := c.do("POST", "/v1/event-types/presets/salesos", nil)
		require.Equal(t, http.StatusOK, status, "%v", preset)
		require.Equal(t, float64(20), preset["event_types"])
		_, again := c.do("POST", "/v1/event-types/presets/salesos", nil)
		require.Equal(t, float64(0), again["added"], "loading a preset twice adds nothing")
		status, out = c.do("POST", "/v1/event-types/presets/stripe", nil)
		requireError(t, status, out, http.StatusNotFound, "profile")

		_, list := c.do("GET", "/v1/event-types?limit=250", nil)
		var names []string
		for _, e := range list["data"].([]any) {
			names = append(names, e.(map[string]any)["name"].(string))
		}
		require.Contains(t, names, "lead.created")
		require.Contains(t, names, "opportunity.won")
		status, out = c.do("GET", "/v1/event-types?limit=0", nil)
		requireError(t, status, out, http.StatusBadRequest, "limit")
	})
}
