package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// send_traceparent is off unless asked for, is set on create or PATCH, is
// shown by every endpoint answer, and a PATCH without it keeps it.
func TestSendTraceparentIsAnOptInSetOnCreateOrPatch(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		plain := a.createEndpoint(map[string]any{"url": "https://example.com/plain", "tenant_id": tenant})
		require.Equal(t, false, plain["send_traceparent"], "off by default")
		opted := a.createEndpoint(map[string]any{"url": "https://example.com/traced", "tenant_id": tenant, "send_traceparent": true})
		require.Equal(t, true, opted["send_traceparent"])
		id := opted["id"].(string)

		status, got := a.do("GET", "/v1/endpoints/"+id, nil)
		require.Equal(t, http.StatusOK, status, "%v", got)
		require.Equal(t, true, got["send_traceparent"])
		status, patched := a.do("PATCH", "/v1/endpoints/"+id, map[string]any{"description": "still traced"})
		require.Equal(t, http.StatusOK, status, "%v", patched)
		require.Equal(t, true, patched["send_traceparent"], "a PATCH without the field keeps it")
		status, patched = a.do("PATCH", "/v1/endpoints/"+id, map[string]any{"send_traceparent": false})
		require.Equal(t, http.StatusOK, status, "%v", patched)
		require.Equal(t, false, patched["send_traceparent"])
		ep, err := a.store.GetEndpoint(context.Background(), id)
		require.NoError(t, err)
		require.False(t, ep.SendTraceparent, "stored")

		status, patched = a.do("PATCH", "/v1/endpoints/"+plain["id"].(string), map[string]any{"send_traceparent": true})
		require.Equal(t, http.StatusOK, status, "%v", patched)
		status, list := a.do("GET", "/v1/endpoints?tenant_id="+tenant, nil)
		require.Equal(t, http.StatusOK, status, "%v", list)
		byID := map[string]any{}
		for _, e := range list["data"].([]any) {
			byID[e.(map[string]any)["id"].(string)] = e.(map[string]any)["send_traceparent"]
		}
		require.Equal(t, map[string]any{plain["id"].(string): true, id: false}, byID, "the list")

		status, out := a.do("POST", "/v1/endpoints", map[string]any{"url": "https://example.com/x", "tenant_id": tenant, "send_traceparent": "yes"})
		requireError(t, status, out, http.StatusUnprocessableEntity, CodeValidation, "send_traceparent")
	})
}
