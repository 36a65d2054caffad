package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// A batch answers 202 with one entry per event, in order; sent again it is
// answered as replayed, with the header, and stores nothing new.
func TestABatchAnswersEachEventInOrder(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
		batch := map[string]any{"events": []any{
			map[string]any{"type": "order.paid", "tenant_id": tenant, "payload": map[string]any{"n": 1}, "idempotency_key": "b-1"},
			map[string]any{"type": "order.paid", "tenant_id": tenant, "payload": map[string]any{"n": 2}, "idempotency_key": "b-2",
				"occurred_at": "2026-11-24T09:30:00Z"},
		}}
		status, out := a.do("POST", "/v1/events/batch", batch)
		require.Equal(t, http.StatusAccepted, status, "%v", out)
		events := out["events"].([]any)
		require.Len(t, events, 2)
		for i, e := range events {
			e := e.(map[string]any)
			require.Equal(t, map[string]any{"n": float64(i + 1)}, e["payload"], "in the batch's order")
			require.Equal(t, false, e["replayed"])
			require.EqualValues(t, 1, e["delivery_count"])
		}
		require.Equal(t, "2026-11-24T09:30:00Z", events[1].(map[string]any)["occurred_at"])

		status, again := a.do("POST", "/v1/events/batch", batch)
		require.Equal(t, http.StatusAccepted, status, "%v", again)
		for i, e := range again["events"].([]any) {
			require.Equal(t, true, e.(map[string]any)["replayed"])
			require.Equal(t, events[i].(map[string]any)["id"], e.(map[string]any)["id"])
		}
		_, list := a.do("GET", "/v1/events?tenant_id="+tenant, nil)
		require.Len(t, list["data"], 2, "nothing new was stored")
	})
}

// A refused batch answers the one error shape, names the event's field, and
// stores nothing.
func TestABadBatchIsRefusedWholeAndStoresNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
		good := func(key string) map[string]any {
			return map[string]any{"type": "order.paid", "tenant_id": tenant, "payload": map[string]any{}, "idempotency_key": key}
		}
		many := make([]any, 101)
		for i := range many {
			many[i] = good("m-" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "-" + string(rune('0'+i/26)))
		}
		for _, c := range []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"not JSON", "{", http.StatusBadRequest, "invalid_json", ""},
			{"unknown field", map[string]any{"events": []any{good("u-1")}, "extra": 1}, http.StatusUnprocessableEntity, "validation_failed", "extra"},
			{"unknown field in an event", map[string]any{"events": []any{good("u-2"), map[string]any{"type": "a.b", "tenant_id": tenant,
				"payload": map[string]any{}, "idempotency_key": "u-3", "colour": "red"}}}, http.StatusUnprocessableEntity, "validation_failed", "events[1].colour"},
			{"no events", map[string]any{"events": []any{}}, http.StatusUnprocessableEntity, "validation_failed", "events"},
			{"101 events", map[string]any{"events": many}, http.StatusUnprocessableEntity, "validation_failed", "events"},
			{"an event not an object", map[string]any{"events": []any{good("o-1"), "lead.created"}}, http.StatusUnprocessableEntity, "validation_failed", "events[1]"},
			{"a mistyped field", map[string]any{"events": []any{good("o-2"), map[string]any{"type": 7, "tenant_id": tenant,
				"payload": map[string]any{}, "idempotency_key": "o-3"}}}, http.StatusUnprocessableEntity, "validation_failed", "events[1].type"},
			{"a NUL in a key", map[string]any{"events": []any{good("o-4"), good("o-\u0000")}}, http.StatusUnprocessableEntity, "validation_failed", "events[1].idempotency_key"},
			{"second event has no type", map[string]any{"events": []any{good("t-1"), map[string]any{"tenant_id": tenant,
				"payload": map[string]any{}, "idempotency_key": "t-2"}}}, http.StatusUnprocessableEntity, "validation_failed", "events[1].type"},
		} {
			status, out := a.do("POST", "/v1/events/batch", c.body)
			requireError(t, status, out, c.status, c.code, c.field, c.name)
		}
		_, list := a.do("GET", "/v1/events?tenant_id="+tenant, nil)
		require.Empty(t, list["data"], "no refused batch stored anything")
	})
}
