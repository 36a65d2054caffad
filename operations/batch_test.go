package operations

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

func batchOf(tenant string, n int, keyPrefix string) BatchInput {
	var in BatchInput
	for i := range n {
		in.Events = append(in.Events, BatchEventInput{Type: "a.b", TenantID: tenant,
			Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)), IdempotencyKey: fmt.Sprintf("%s-%d", keyPrefix, i)})
	}
	return in
}

func TestABatchIsStoredAndStartedInItsOrder(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant, other := models.NewID("tenant"), models.NewID("tenant")
		e.endpoint(tenant)
		e.endpoint(tenant, "a.*")
		e.endpoint(other)
		in := batchOf(tenant, 3, "k")
		in.Events = append(in.Events, BatchEventInput{Type: "a.b", TenantID: other, Payload: []byte(`{}`), IdempotencyKey: "k-0"})
		out, err := e.ops.IngestBatch(e.ctx, in)
		require.NoError(t, err)
		require.Len(t, out, 4)
		var started []string
		for i, ing := range out {
			require.False(t, ing.Replayed)
			require.Equal(t, in.Events[i].TenantID, ing.Event.TenantID, "in the batch's order")
			require.Equal(t, in.Events[i].IdempotencyKey, ing.Event.IdempotencyKey)
			want := 2
			if i == 3 {
				want = 1
			}
			require.Len(t, ing.Deliveries, want)
			for _, d := range ing.Deliveries {
				started = append(started, d.ID)
			}
		}
		require.Equal(t, `{"n":1}`, out[1].Event.Payload)
		require.ElementsMatch(t, started, e.engine.startedIDs(), "every delivery is started")
		evs, err := e.store.ListEvents(e.ctx, models.EventFilter{Limit: 10})
		require.NoError(t, err)
		require.Len(t, evs, 4)
	})
}

// One refused event refuses the batch, names itself, and nothing is stored
// or started; that includes a key stored before with another event.
func TestABatchIsAllOrNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		_, err := e.ops.Ingest(e.ctx, EventInput{Type: "a.b", TenantID: tenant, Payload: []byte(`{"n":"before"}`), IdempotencyKey: "taken"})
		require.NoError(t, err)
		before := len(e.engine.startedIDs())
		for _, c := range []struct {
			name  string
			edit  func(in *BatchInput)
			kind  Kind
			field string
		}{
			{"empty", func(in *BatchInput) { in.Events = nil }, Invalid, "events"},
			{"too many", func(in *BatchInput) { *in = batchOf(tenant, MaxBatchEvents+1, "many") }, Invalid, "events"},
			{"no key", func(in *BatchInput) { in.Events[2].IdempotencyKey = "" }, Invalid, "events[2].idempotency_key"},
			{"key with a space", func(in *BatchInput) { in.Events[1].IdempotencyKey = "a b" }, Invalid, "events[1].idempotency_key"},
			{"key twice", func(in *BatchInput) { in.Events[2].IdempotencyKey = in.Events[0].IdempotencyKey }, Invalid, "events[2].idempotency_key"},
			{"no type", func(in *BatchInput) { in.Events[1].Type = "" }, Invalid, "events[1].type"},
			{"payload not an object", func(in *BatchInput) { in.Events[2].Payload = []byte(`[1]`) }, Invalid, "events[2].payload"},
			{"bad time", func(in *BatchInput) { in.Events[0].OccurredAt = ptr("yesterday") }, Invalid, "events[0].occurred_at"},
			{"key taken by another event", func(in *BatchInput) { in.Events[2].IdempotencyKey = "taken" }, Conflict, "events[2].Idempotency-Key"},
		} {
			in := batchOf(tenant, 3, strings.ReplaceAll(c.name, " ", "-"))
			c.edit(&in)
			_, err := e.ops.IngestBatch(e.ctx, in)
			requireKind(t, err, c.kind, c.field)
			var oe *Error
			require.True(t, errors.As(err, &oe))
			require.Contains(t, oe.Message, c.field, "the message names the event")
		}
		evs, err := e.store.ListEvents(e.ctx, models.EventFilter{Limit: 10})
		require.NoError(t, err)
		require.Len(t, evs, 1, "only the event stored before")
		require.Len(t, e.engine.startedIDs(), before, "nothing was started")
	})
}

// A batch retried with the same keys answers the stored events and stores
// nothing new; a batch that mixes stored and new events stores the new.
func TestABatchRetriedAnswersTheStoredEvents(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		first, err := e.ops.IngestBatch(e.ctx, batchOf(tenant, 2, "r"))
		require.NoError(t, err)
		again, err := e.ops.IngestBatch(e.ctx, batchOf(tenant, 3, "r"))
		require.NoError(t, err)
		for i := range 2 {
			require.True(t, again[i].Replayed)
			require.Equal(t, first[i].Event.ID, again[i].Event.ID)
		}
		require.False(t, again[2].Replayed)
		evs, err := e.store.ListEvents(e.ctx, models.EventFilter{Limit: 10})
		require.NoError(t, err)
		require.Len(t, evs, 3)
	})
}
