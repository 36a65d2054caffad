package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

func TestReplayOfAStoredEventIsNotValidatedAgain(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
		event := map[string]any{"type": "order.paid", "tenant_id": tenant, "payload": map[string]any{"total": 1}}
		status, first := a.do("POST", "/v1/events", event, "Idempotency-Key", "k-1")
		require.Equal(t, http.StatusAccepted, status, "%v", first)

		// The type gets a schema the stored payload does not meet.
		status, out := a.do("POST", "/v1/event-types", map[string]any{"name": "order.paid",
			"schema": map[string]any{"type": "object", "required": []string{"currency"}}})
		require.Equal(t, http.StatusCreated, status, "%v", out)
		status, out = a.do("POST", "/v1/events", event, "Idempotency-Key", "k-2")
		requireError(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "payload", "a new event is checked")

		status, again := a.do("POST", "/v1/events", event, "Idempotency-Key", "k-1")
		require.Equal(t, http.StatusAccepted, status, "a replay returns the stored event: %v", again)
		require.Equal(t, first["id"], again["id"])
		require.Len(t, deliveryIDs(first), 1)
		require.Equal(t, deliveryIDs(first), deliveryIDs(again))

		// The same key with another body is still a conflict.
		event["payload"] = map[string]any{"total": 2, "currency": "EUR"}
		status, out = a.do("POST", "/v1/events", event, "Idempotency-Key", "k-1")
		requireError(t, status, out, http.StatusConflict, "conflict", "Idempotency-Key")
	})
}

func TestIdempotencyKeyOfOneTenantDoesNotBlockAnother(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		ids := map[string]bool{}
		for _, tenant := range []string{models.NewID("tenant"), models.NewID("tenant")} {
			a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
			status, out := a.do("POST", "/v1/events", map[string]any{"type": "order.paid", "tenant_id": tenant,
				"payload": map[string]any{}}, "Idempotency-Key", "order-42")
			require.Equal(t, http.StatusAccepted, status, "%v", out)
			require.Equal(t, tenant, out["tenant_id"])
			ids[out["id"].(string)] = true
		}
		require.Len(t, ids, 2, "two tenants, two events")
	})
}

// deliveryIDs lists the ids of an event answer's deliveries.
func deliveryIDs(event map[string]any) []string {
	var out []string
	for _, d := range event["deliveries"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}
