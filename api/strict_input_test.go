package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

func TestHeaderValuesWithControlCharactersAreRefused(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		for name, value := range map[string]string{
			"escape": "a\x1bb", "bell": "\x07", "delete": "x\x7f", "vertical tab": "a\vb", "form feed": "a\fb",
		} {
			status, out := a.do("POST", "/v1/endpoints", map[string]any{"url": "https://example.com/hook",
				"tenant_id": tenant, "headers": map[string]string{"X-Token": value}})
			requireError(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "headers.X-Token", name)
		}
		status, out := a.do("GET", "/v1/endpoints?tenant_id="+tenant, nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Empty(t, out["data"], "a refused create wrote nothing")

		ep := a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant,
			"headers": map[string]string{"X-Tabbed": "a\tb c"}})
		require.Equal(t, map[string]any{"X-Tabbed": "a\tb c"}, ep["headers"], "a tab and a space are header text")
		status, out = a.do("PATCH", "/v1/endpoints/"+ep["id"].(string), map[string]any{"headers": map[string]string{"X-Token": "a\x01"}})
		requireError(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "headers.X-Token")
		status, out = a.do("GET", "/v1/endpoints/"+ep["id"].(string), nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Equal(t, ep["headers"], out["headers"], "a refused patch changed nothing")
	})
}

// Every list route (and every GET that filters by query) refuses a query it
// cannot read in full: an operator acting on a silently unfiltered list
// would act on the wrong records.
func TestListQueriesAreReadInFullOrRefused(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		ep := a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
		status, ev := a.do("POST", "/v1/events", map[string]any{"type": "a.b", "tenant_id": tenant, "payload": map[string]any{}},
			"Idempotency-Key", models.NewID("key"))
		require.Equal(t, http.StatusAccepted, status, "%v", ev)

		for _, r := range []struct{ path, good string }{
			{"/v1/endpoints", "tenant_id=" + tenant + "&state=active&limit=5"},
			{"/v1/events", "tenant_id=" + tenant + "&type=a.b&limit=5"},
			{"/v1/events/" + ev["id"].(string), "limit=5"},
			{"/v1/deliveries", "endpoint_id=" + ep["id"].(string) + "&status=pending&limit=5"},
			{"/v1/event-types", "limit=5"},
			{"/v1/vessel/webhook", "connectionId=" + tenant},
		} {
			status, out := a.do("GET", r.path+"?"+r.good, nil)
			require.NotEqual(t, http.StatusBadRequest, status, "%s?%s: %v", r.path, r.good, out)

			status, out = a.do("GET", r.path+"?"+r.good+"&cursor=%%%x", nil)
			requireError(t, status, out, http.StatusBadRequest, "validation_failed", "", r.path+": a malformed query")
			status, out = a.do("GET", r.path+"?"+r.good+"&endpoint_idd=ep_1", nil)
			requireError(t, status, out, http.StatusBadRequest, "validation_failed", "endpoint_idd", r.path+": an unknown parameter")
			status, out = a.do("GET", r.path+"?limit=5&"+r.good, nil)
			requireError(t, status, out, http.StatusBadRequest, "validation_failed", "limit", r.path+": a repeated parameter")
		}
		status, out := a.do("DELETE", "/v1/vessel/webhook?connectionId="+tenant+"&webhook_id=x", nil)
		requireError(t, status, out, http.StatusBadRequest, "validation_failed", "webhook_id", "DELETE reads its query in full too")
		status, out = a.do("GET", "/v1/endpoints/"+ep["id"].(string), nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
	})
}
