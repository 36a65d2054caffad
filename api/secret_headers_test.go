package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

func TestSecretHeaderValuesAreNeverShown(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		created := a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant,
			"headers":        map[string]string{"Authorization": "Bearer s3cr3t", "X-Token": "t0k3n", "X-Team": "blue", "Cookie": "sid=c00k1e"},
			"secret_headers": []string{"x-token"}})
		id := created["id"].(string)
		want := map[string]any{"Authorization": models.RedactedValue, "X-Token": models.RedactedValue,
			"Cookie": models.RedactedValue, "X-Team": "blue"}
		wantSecret := []any{"Authorization", "Cookie", "X-Token"}
		require.Equal(t, want, created["headers"], "the create answer")
		require.Equal(t, wantSecret, created["secret_headers"])

		status, got := a.do("GET", "/v1/endpoints/"+id, nil)
		require.Equal(t, http.StatusOK, status, "%v", got)
		require.Equal(t, want, got["headers"], "GET")
		require.Equal(t, wantSecret, got["secret_headers"])
		status, list := a.do("GET", "/v1/endpoints?tenant_id="+tenant, nil)
		require.Equal(t, http.StatusOK, status, "%v", list)
		require.Equal(t, want, list["data"].([]any)[0].(map[string]any)["headers"], "the list")

		// The values are kept to be sent.
		ep, err := a.store.GetEndpoint(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"Authorization": "Bearer s3cr3t", "X-Token": "t0k3n", "X-Team": "blue", "Cookie": "sid=c00k1e"}, ep.Headers)

		// A PATCH of what GET showed keeps the hidden values; a new value replaces one.
		status, patched := a.do("PATCH", "/v1/endpoints/"+id, map[string]any{"headers": map[string]any{
			"Authorization": models.RedactedValue, "X-Token": "n3w", "X-Team": "red", "Cookie": models.RedactedValue}})
		require.Equal(t, http.StatusOK, status, "%v", patched)
		require.Equal(t, wantSecret, patched["secret_headers"], "X-Token stays secret")
		ep, err = a.store.GetEndpoint(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"Authorization": "Bearer s3cr3t", "X-Token": "n3w", "X-Team": "red", "Cookie": "sid=c00k1e"}, ep.Headers)

		// Marking a header secret by PATCH alone.
		status, patched = a.do("PATCH", "/v1/endpoints/"+id, map[string]any{"secret_headers": []string{"X-Team", "X-Token"}})
		require.Equal(t, http.StatusOK, status, "%v", patched)
		require.Equal(t, models.RedactedValue, patched["headers"].(map[string]any)["X-Team"])
	})
}

func TestSecretHeadersMustNameCustomHeaders(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		status, out := a.do("POST", "/v1/endpoints", map[string]any{"url": "https://example.com/hook", "tenant_id": tenant,
			"headers": map[string]string{"X-Team": "blue"}, "secret_headers": []string{"X-Token"}})
		requireError(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "secret_headers")
		status, out = a.do("POST", "/v1/endpoints", map[string]any{"url": "https://example.com/hook", "tenant_id": tenant,
			"secret_headers": []string{"bad name"}})
		requireError(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "secret_headers")
		status, out = a.do("GET", "/v1/endpoints?tenant_id="+tenant, nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Empty(t, out["data"], "a refused create wrote nothing")
	})
}
