package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	hookdapi "github.com/hookd/hookd/api"
	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

// HOOKD_ONE_ENDPOINT_PER_TENANT: Vessel's "one webhook per connection" as an
// option for every endpoint (issue 5, item 6).

func TestOneEndpointPerTenantHoldsUnderConcurrentCreates(t *testing.T) {
	onBothStores(t, oneEndpointPerTenant)
}

// oneEndpointPerTenant starts a second hookd with the setting, on the same
// kind of store as h (on PostgreSQL, the same database: a second api process
// configured alike, as in production).
func oneEndpointPerTenant(t *testing.T, plain *client, h *app.App) {
	extra := []string{"HOOKD_ONE_ENDPOINT_PER_TENANT=true"}
	if h.Config.DatabaseURL != "" {
		extra = append(extra, "HOOKD_DATABASE_URL="+h.Config.DatabaseURL)
	}
	sole, err := startDev(t.TempDir(), extra...)
	require.NoError(t, err)
	t.Cleanup(func() { sole.Stop(context.Background()) })
	require.True(t, sole.Config.OneEndpointPerTenant)
	c := &client{t: t, base: sole.APIURL, key: apiKey}

	// Concurrent creates for one tenant: exactly one endpoint.
	tenant := models.NewID("tenant")
	const n = 8
	statuses, answers := c.postConcurrently(n, "/v1/endpoints", func(i int) any {
		return map[string]any{"url": "https://example.com/hooks/" + string(rune('a'+i)), "tenant_id": tenant}
	})
	var winner string
	for i, status := range statuses {
		if status == http.StatusCreated {
			require.Empty(t, winner, "two creates won")
			winner = answers[i]["id"].(string)
		}
	}
	require.NotEmpty(t, winner, "one create won: %v %v", statuses, answers)
	for i, status := range statuses {
		if status == http.StatusCreated {
			continue
		}
		require.Equal(t, http.StatusConflict, status, "create %d: %v", i, answers[i])
		e := answers[i]["error"].(map[string]any)
		require.Equal(t, "conflict", e["code"])
		require.Equal(t, "tenant_id", e["field"])
		require.Contains(t, e["message"], "HOOKD_ONE_ENDPOINT_PER_TENANT")
	}
	requireEndpoints := func(c *client, tenant string, want int) []any {
		t.Helper()
		status, list := c.do("GET", "/v1/endpoints?tenant_id="+tenant, nil)
		require.Equal(t, http.StatusOK, status, "%v", list)
		require.Len(t, list["data"], want, "%v", list)
		return list["data"].([]any)
	}
	require.Equal(t, winner, requireEndpoints(c, tenant, 1)[0].(map[string]any)["id"], "the losers wrote no endpoint")

	// A later create is refused naming the endpoint, whatever route it takes.
	status, out := c.do("POST", "/v1/endpoints", map[string]any{"url": "https://example.com/late", "tenant_id": tenant, "profile": "salesos"})
	require.Equal(t, http.StatusConflict, status, "%v", out)
	require.Equal(t, "tenant "+tenant+" already has the endpoint "+winner+" (HOOKD_ONE_ENDPOINT_PER_TENANT allows one per tenant); delete it first",
		out["error"].(map[string]any)["message"])
	status, out = c.do("POST", "/v1/vessel/webhook", map[string]any{"connectionId": tenant, "webhook": map[string]any{"webhookUrl": "https://example.com/v"}})
	require.Equal(t, http.StatusConflict, status, "%v", out)
	require.Contains(t, out["error"].(map[string]any)["message"], winner)
	// The tenant's one endpoint is its connection's webhook too.
	status, out = c.do("GET", "/v1/vessel/webhook?connectionId="+tenant, nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, winner, out["webhook"].(map[string]any)["webhookId"])
	requireEndpoints(c, tenant, 1)

	// Other tenants are not affected.
	other := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": "https://example.com/other", "tenant_id": other})

	// Deleted through the regular route, the tenant may have one again.
	status, _ = c.do("DELETE", "/v1/endpoints/"+winner, nil)
	require.Equal(t, http.StatusNoContent, status)
	next, _ := c.createEndpoint(map[string]any{"url": "https://example.com/next", "tenant_id": tenant})
	require.NotEqual(t, winner, next)
	requireEndpoints(c, tenant, 1)

	// Endpoints made before the setting was on count too: an api process
	// without it, on the same store, makes two for a tenant...
	before := models.NewID("tenant")
	srv := httptest.NewServer(hookdapi.New(hookdapi.Deps{Ops: operations.New(operations.Deps{Store: sole.Store, Engine: sole.Engine}), APIKeys: []string{apiKey}}))
	t.Cleanup(srv.Close)
	unlimited := &client{t: t, base: srv.URL, key: apiKey}
	unlimited.createEndpoint(map[string]any{"url": "https://example.com/1", "tenant_id": before})
	unlimited.createEndpoint(map[string]any{"url": "https://example.com/2", "tenant_id": before})
	// ...and the one with it refuses a third.
	status, out = c.do("POST", "/v1/endpoints", map[string]any{"url": "https://example.com/3", "tenant_id": before})
	require.Equal(t, http.StatusConflict, status, "%v", out)
	requireEndpoints(c, before, 2)

	// The shared hookd runs without the setting: a tenant may have several.
	several := models.NewID("tenant")
	plain.createEndpoint(map[string]any{"url": "https://example.com/1", "tenant_id": several})
	plain.createEndpoint(map[string]any{"url": "https://example.com/2", "tenant_id": several})
	requireEndpoints(plain, several, 2)
}
