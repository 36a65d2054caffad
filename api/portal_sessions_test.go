package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
	"github.com/hookd/hookd/operations"
)

func TestAPortalSessionIsMadeAndRevokedByItsID(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		status, out := a.do("POST", "/v1/portal-sessions", map[string]any{"tenant_id": "acme"})
		require.Equal(t, http.StatusCreated, status, "%v", out)
		id := out["id"].(string)
		require.True(t, strings.HasPrefix(id, "uis_"), id)
		require.True(t, strings.HasPrefix(out["url"].(string), "http://hookd.test/ui/portal?token=hks_"),
			"without HOOKD_PUBLIC_URL, the request's own host: %v", out["url"])

		status, _ = a.do("DELETE", "/v1/portal-sessions/"+id, nil)
		require.Equal(t, http.StatusNoContent, status)
		status, _ = a.do("DELETE", "/v1/portal-sessions/"+id, nil)
		require.Equal(t, http.StatusNoContent, status, "revoking twice is no error")
		for _, unknown := range []string{"uis_unknown", "not-an-id", "%00"} {
			status, out = a.do("DELETE", "/v1/portal-sessions/"+unknown, nil)
			require.Equal(t, http.StatusNotFound, status, "%s: %v", unknown, out)
			require.Equal(t, "not_found", out["error"].(map[string]any)["code"])
		}
	})
}

func TestPortalLinksAreBuiltOnThePublicURL(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ops := operations.New(operations.Deps{Store: s, Engine: engine.New(s, &fakeTemporal{})})
		h := New(Deps{Ops: ops, APIKeys: []string{testKey}, PublicURL: "https://hooks.example.com"})
		req := httptest.NewRequest("POST", "http://10.0.0.7:8080/v1/portal-sessions", strings.NewReader(`{"tenant_id":"acme"}`))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"url":"https://hooks.example.com/ui/portal?token=hks_`)
	})
}
