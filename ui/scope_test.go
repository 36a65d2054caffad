package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// A portal session of tenant A reaches nothing of tenant B, whatever URL or
// form it sends: B's ids answer 404, exactly like ids that do not exist,
// and B's resources appear in no list.
func TestAPortalSeesOnlyItsOwnTenant(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		mine, theirs := e.endpoint("tenant-a"), e.endpoint("tenant-b")
		myDelivery := e.delivery(mine, nil)
		theirDelivery := e.delivery(theirs, map[string]any{"secret_of_b": "b-only"})
		b := e.browser()
		csrf := e.portal(b, "tenant-a", false)

		list := b.get("/ui/endpoints?tenant_id=tenant-b")
		require.Equal(t, http.StatusOK, list.Status)
		contains(t, list.Body, mine.ID)
		require.NotContains(t, list.Body, theirs.ID, "the tenant filter of a portal is its own tenant")
		deliveries := b.get("/ui/deliveries?tenant_id=tenant-b")
		contains(t, deliveries.Body, myDelivery.ID)
		require.NotContains(t, deliveries.Body, theirDelivery.ID)

		for _, path := range []string{
			"/ui/endpoints/" + theirs.ID, "/ui/endpoints/" + theirs.ID + "/edit",
			"/ui/deliveries/" + theirDelivery.ID, "/ui/deliveries?endpoint_id=" + theirs.ID,
		} {
			p := b.get(path)
			require.Equal(t, http.StatusNotFound, p.Status, path)
			require.NotContains(t, p.Body, "b-only", path)
			require.NotContains(t, p.Body, theirs.URL, path)
		}
		for _, path := range []string{"/pause", "/unpause", "/enable", "/test", "/secret", "/rotate-secret", ""} {
			p := b.post("/ui/endpoints/"+theirs.ID+path, url.Values{"csrf": {csrf}, "url": {"https://evil.example/x"}})
			require.Equal(t, http.StatusNotFound, p.Status, path)
			require.NotContains(t, p.Body, theirs.Secret, path)
		}
		require.Equal(t, http.StatusNotFound, b.post("/ui/deliveries/"+theirDelivery.ID+"/retry", url.Values{"csrf": {csrf}}).Status)
		require.Empty(t, e.engine.redelivered(), "no retry of B's delivery was started")

		unknown := b.get("/ui/endpoints/ep_00000000000000000000000000")
		require.Equal(t, http.StatusNotFound, unknown.Status)
		other := b.get("/ui/endpoints/" + theirs.ID)
		require.Equal(t, stripID(unknown.Body, "ep_00000000000000000000000000"), stripID(other.Body, theirs.ID),
			"another tenant's id answers exactly as an unknown one")

		got, err := e.ops.GetEndpoint(e.ctx, theirs.ID)
		require.NoError(t, err)
		require.Equal(t, models.EndpointActive, got.State)
		require.Equal(t, theirs.Secret, got.Secret)
		require.Equal(t, theirs.URL, got.URL)
	})
}

// A portal creates endpoints for its own tenant only, whatever the form says.
func TestAPortalCreatesForItsOwnTenant(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		csrf := e.portal(b, "tenant-a", false)
		p := b.post("/ui/endpoints", url.Values{"csrf": {csrf}, "tenant_id": {"tenant-b"}, "url": {"https://example.com/a"}})
		require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
		eps, err := e.ops.ListEndpoints(e.ctx, models.EndpointFilter{})
		require.NoError(t, err)
		require.Len(t, eps, 1)
		require.Equal(t, "tenant-a", eps[0].TenantID)
	})
}

// An operator sees every tenant, and filters by one.
func TestAnOperatorSeesEveryTenant(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		a, bEP := e.endpoint("tenant-a"), e.endpoint("tenant-b")
		b := e.browser()
		b.signIn()
		all := b.get("/ui/endpoints")
		contains(t, all.Body, a.ID, bEP.ID)
		onlyB := b.get("/ui/endpoints?tenant_id=tenant-b")
		contains(t, onlyB.Body, bEP.ID)
		require.NotContains(t, onlyB.Body, a.ID)
		require.Equal(t, http.StatusOK, b.get("/ui/endpoints/"+a.ID).Status)
	})
}

func stripID(body, id string) string {
	return strings.ReplaceAll(body, id, "ID")
}
