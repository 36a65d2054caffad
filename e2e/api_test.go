package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	hookdapi "github.com/hookd/hookd/api"
	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
)

func TestEveryV1RouteRequiresAValidAPIKey(t *testing.T) {
	t.Parallel()
	// Every route the router has, not a hand-kept list.
	routes := hookdapi.New(hookdapi.Deps{}).(*gin.Engine).Routes()
	require.NotEmpty(t, routes)
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		checked := 0
		for _, key := range []string{"", "wrong-key-wrong-key-wrong", apiKey + "x", "Bearer " + apiKey} {
			bad := &client{t: t, base: c.base, key: key}
			for _, r := range routes {
				if !strings.HasPrefix(r.Path, "/v1/") || r.Path == "/v1/openapi.json" {
					continue
				}
				path := strings.NewReplacer(":id", "ep_01M85KMFZ37SC812YH1CEJAVP3", ":profile", "salesos").Replace(r.Path)
				status, out := bad.do(r.Method, path, nil)
				require.Equal(t, http.StatusUnauthorized, status, "%s %s with key %q", r.Method, path, key)
				require.Equal(t, "unauthorized", out["error"].(map[string]any)["code"])
				checked++
			}
		}
		require.Greater(t, checked, 40, "every /v1 route was tried")
		open := &client{t: t, base: c.base}
		status, _ := open.do("GET", "/healthz", nil)
		require.Equal(t, http.StatusOK, status)
		status, ready := open.do("GET", "/readyz", nil)
		require.Equal(t, http.StatusOK, status, "%v", ready)
	})
}

func TestBadEndpointInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, h *app.App) {
		tenant := models.NewID("tenant")
		valid := func(change map[string]any) map[string]any {
			b := map[string]any{"url": "https://example.com/hook", "tenant_id": tenant}
			for k, v := range change {
				if v == nil {
					delete(b, k)
				} else {
					b[k] = v
				}
			}
			return b
		}
		for name, tc := range map[string]struct {
			body   any
			status int
			field  string
		}{
			"missing url":           {valid(map[string]any{"url": nil}), 422, "url"},
			"ftp url":               {valid(map[string]any{"url": "ftp://example.com/x"}), 422, "url"},
			"url with credentials":  {valid(map[string]any{"url": "https://user:pw@example.com/"}), 422, "url"},
			"url without host":      {valid(map[string]any{"url": "https:///path"}), 422, "url"},
			"missing tenant":        {valid(map[string]any{"tenant_id": nil}), 422, "tenant_id"},
			"unknown profile":       {valid(map[string]any{"profile": "stripe"}), 422, "profile"},
			"unknown field":         {valid(map[string]any{"colour": "blue"}), 422, "colour"},
			"wrong type":            {valid(map[string]any{"pause_threshold": "ten"}), 422, "pause_threshold"},
			"bad filter":            {valid(map[string]any{"event_types": []string{"lead.*.x*"}}), 422, "event_types"},
			"empty filters":         {valid(map[string]any{"event_types": []string{}}), 422, "event_types"},
			"bad schedule":          {valid(map[string]any{"retry_schedule": []string{"soon"}}), 422, "retry_schedule"},
			"negative schedule":     {valid(map[string]any{"retry_schedule": []string{"-1m"}}), 422, "retry_schedule"},
			"reserved header":       {valid(map[string]any{"headers": map[string]string{"Host": "evil"}}), 422, "headers"},
			"header injection":      {valid(map[string]any{"headers": map[string]string{"X-A": "a\r\nX-B: b"}}), 422, "headers.X-A"},
			"short standard secret": {valid(map[string]any{"secret": "whsec_abc"}), 422, "secret"},
			"zero pause threshold":  {valid(map[string]any{"pause_threshold": 0}), 422, "pause_threshold"},
			"not json":              {"{url:", 400, ""},
			"array body":            {"[1,2]", 400, ""},
			"two objects":           {`{"url":"https://a.b","tenant_id":"t"}{}`, 400, ""},
			"oversize body":         {`{"description":"` + strings.Repeat("x", 2<<20) + `"}`, 413, ""},
		} {
			t.Run(name, func(t *testing.T) {
				status, out := c.do("POST", "/v1/endpoints", tc.body)
				require.Equal(t, tc.status, status, "%v", out)
				e := out["error"].(map[string]any)
				require.NotEmpty(t, e["code"])
				require.NotEmpty(t, e["message"])
				if tc.field != "" {
					require.Equal(t, tc.field, e["field"])
				}
			})
		}
		var n int64
		require.NoError(t, h.Store.DB().Model(&models.Endpoint{}).Where("tenant_id = ?", tenant).Count(&n).Error)
		require.Zero(t, n, "no refused request wrote an endpoint")

		status, out := c.do("GET", "/v1/endpoints/ep_01M85KMFZ37SC812YH1CEJAVP3", nil)
		require.Equal(t, http.StatusNotFound, status)
		require.Equal(t, "not_found", out["error"].(map[string]any)["code"])
	})
}

func TestBadEventInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, h *app.App) {
		tenant := models.NewID("tenant")
		c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/", "tenant_id": tenant})
		c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/", "tenant_id": tenant, "profile": "vessel"})
		ok := map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{}}
		with := func(k string, v any) map[string]any {
			b := map[string]any{}
			for kk, vv := range ok {
				b[kk] = vv
			}
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
			return b
		}
		for name, tc := range map[string]struct {
			key    string
			body   any
			status int
			field  string
		}{
			"missing Idempotency-Key returns 400": {"", ok, 400, "Idempotency-Key"},
			"missing type":                        {"k", with("type", nil), 422, "type"},
			"bad type":                            {"k", with("type", "lead created"), 422, "type"},
			"missing tenant":                      {"k", with("tenant_id", nil), 422, "tenant_id"},
			"payload not an object":               {"k", with("payload", []int{1}), 422, "payload"},
			"missing payload":                     {"k", with("payload", nil), 422, "payload"},
			"bad occurred_at":                     {"k", with("occurred_at", "yesterday"), 422, "occurred_at"},
			"unknown field":                       {"k", with("data", 1), 422, "data"},
			// The tenant has a vessel endpoint: a payload that is not a Vessel
			// OBJECT_CHANGE / STATUS_CHANGE shape cannot be sent to it.
			"payload a vessel endpoint cannot carry": {"k", ok, 422, "payload"},
		} {
			t.Run(name, func(t *testing.T) {
				var header []string
				if tc.key != "" {
					header = []string{"Idempotency-Key", tc.key + "-" + strings.ReplaceAll(name, " ", "-")}
				}
				status, out := c.do("POST", "/v1/events", tc.body, header...)
				require.Equal(t, tc.status, status, "%v", out)
				require.Equal(t, tc.field, out["error"].(map[string]any)["field"])
			})
		}
		var n int64
		require.NoError(t, h.Store.DB().Model(&models.Event{}).Where("tenant_id = ?", tenant).Count(&n).Error)
		require.Zero(t, n, "no refused request wrote an event")
	})
}

func TestDeliveryListRejectsBadFilters(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		for _, q := range []string{"cursor=abc", "limit=0", "limit=1000", "since=yesterday", "status=done", "event_id=ep_01M85KMFZ37SC812YH1CEJAVP3"} {
			status, out := c.do("GET", "/v1/deliveries?"+q, nil)
			require.Equal(t, http.StatusBadRequest, status, q)
			require.NotEmpty(t, out["error"].(map[string]any)["field"], q)
		}
	})
}

func TestConcurrentDuplicateIngestFansOutOnce(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		rcv := newReceiver(t, always(200))
		tenant := models.NewID("tenant")
		c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
		body := map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"n": 1}}
		const n = 8
		ids := make([]any, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, out := c.do("POST", "/v1/events", body, "Idempotency-Key", "dup-"+tenant)
				if status == http.StatusAccepted {
					ids[i] = out["id"]
				}
			}()
		}
		wg.Wait()
		for i := range n {
			require.NotNil(t, ids[i], "every duplicate is answered 202")
			require.Equal(t, ids[0], ids[i], "with the same event")
		}
		waitFor(t, 10*time.Second, "delivery", func() bool { return len(rcv.requests()) >= 1 })
		time.Sleep(300 * time.Millisecond)
		require.Len(t, rcv.requests(), 1, "one fan-out")
	})
}
