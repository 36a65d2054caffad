package operations

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/hookd/hookd/models"
)

func TestIngestRefusesInvalidInputAndStoresNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		good := EventInput{Type: "a.b", TenantID: tenant, Payload: []byte(`{}`), IdempotencyKey: "k1"}
		for _, c := range []struct {
			name  string
			edit  func(in *EventInput)
			field string
		}{
			{"missing key", func(in *EventInput) { in.IdempotencyKey = "" }, "Idempotency-Key"},
			{"key with a space", func(in *EventInput) { in.IdempotencyKey = "a b" }, "Idempotency-Key"},
			{"missing type", func(in *EventInput) { in.Type = "" }, "type"},
			{"type not dotted words", func(in *EventInput) { in.Type = "a..b" }, "type"},
			{"missing tenant", func(in *EventInput) { in.TenantID = "" }, "tenant_id"},
			{"missing payload", func(in *EventInput) { in.Payload = nil }, "payload"},
			{"null payload", func(in *EventInput) { in.Payload = []byte("null") }, "payload"},
			{"payload not an object", func(in *EventInput) { in.Payload = []byte(`[1]`) }, "payload"},
			{"payload not JSON", func(in *EventInput) { in.Payload = []byte(`{"a":}`) }, "payload"},
			{"occurred_at not RFC 3339", func(in *EventInput) { in.OccurredAt = ptr("yesterday") }, "occurred_at"},
		} {
			in := good
			c.edit(&in)
			_, err := e.ops.Ingest(e.ctx, in)
			requireKind(t, err, Invalid, c.field)
		}
		evs, err := e.store.ListEvents(e.ctx, models.EventFilter{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, evs, "nothing was stored")
		require.Empty(t, e.engine.startedIDs(), "nothing was started")
	})
}

func TestIngestStoresOneDeliveryPerSubscribedEndpointThenStartsThem(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		all, prefixed := e.endpoint(tenant), e.endpoint(tenant, "a.*")
		e.endpoint(tenant, "other.thing")
		e.endpoint(models.NewID("tenant")) // another tenant's
		in, err := e.ops.Ingest(e.ctx, EventInput{Type: "a.b", TenantID: tenant, Payload: []byte(`{ "n" : 1 }`),
			OccurredAt: ptr("2024-05-01T12:00:00+02:00"), IdempotencyKey: "k"})
		require.NoError(t, err)
		require.False(t, in.Replayed)
		require.Equal(t, `{"n":1}`, in.Event.Payload, "stored compact")
		require.Equal(t, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), in.Event.OccurredAt)
		var eps, ids []string
		for _, d := range in.Deliveries {
			eps, ids = append(eps, d.EndpointID), append(ids, d.ID)
			require.Equal(t, models.DeliveryPending, d.Status)
		}
		require.ElementsMatch(t, []string{all.ID, prefixed.ID}, eps)
		require.ElementsMatch(t, ids, e.engine.startedIDs(), "each stored delivery is started")
		stored, ds, err := e.ops.GetEvent(e.ctx, in.Event.ID, "", 10)
		require.NoError(t, err)
		require.Equal(t, in.Event.ID, stored.ID)
		require.Len(t, ds, 2)
	})
}

func TestIngestTheSameRequestAgainReturnsTheStoredEvent(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		req := EventInput{Type: "a.b", TenantID: tenant, Payload: []byte(`{"n":1}`), IdempotencyKey: "same"}
		first, err := e.ops.Ingest(e.ctx, req)
		require.NoError(t, err)
		again, err := e.ops.Ingest(e.ctx, req)
		require.NoError(t, err)
		require.True(t, again.Replayed)
		require.Equal(t, first.Event.ID, again.Event.ID)
		require.Equal(t, first.Deliveries[0].ID, again.Deliveries[0].ID)
		evs, err := e.store.ListEvents(e.ctx, models.EventFilter{TenantID: tenant, Limit: 10})
		require.NoError(t, err)
		require.Len(t, evs, 1)

		// The same key for another tenant is another event.
		other := req
		other.TenantID = models.NewID("tenant")
		in, err := e.ops.Ingest(e.ctx, other)
		require.NoError(t, err)
		require.False(t, in.Replayed)
	})
}

// countWrites counts the INSERTs and UPDATEs the store runs from now on.
func countWrites(t *testing.T, s *models.Store) *atomic.Int64 {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	cb := s.DB().Callback()
	require.NoError(t, cb.Create().Before("gorm:create").Register("test:count_create", count))
	require.NoError(t, cb.Update().Before("gorm:update").Register("test:count_update", count))
	return &n
}

func TestIngestARepeatedRequestWritesNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		writes := countWrites(t, e.store)
		req := EventInput{Type: "a.b", TenantID: tenant, Payload: []byte(`{}`), IdempotencyKey: "once"}
		_, err := e.ops.Ingest(e.ctx, req)
		require.NoError(t, err)
		require.Positive(t, writes.Load(), "the first request stores the event")
		writes.Store(0)
		in, err := e.ops.Ingest(e.ctx, req)
		require.NoError(t, err)
		require.True(t, in.Replayed)
		require.Zero(t, writes.Load(), "a repeat is answered from the stored event")
	})
}

func TestIngestTheSameKeyForAnotherEventIsAConflict(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		req := EventInput{Type: "a.b", TenantID: tenant, Payload: []byte(`{"n":1}`), IdempotencyKey: "reused"}
		_, err := e.ops.Ingest(e.ctx, req)
		require.NoError(t, err)
		req.Payload = []byte(`{"n":2}`)
		_, err = e.ops.Ingest(e.ctx, req)
		requireKind(t, err, Conflict, "Idempotency-Key")
	})
}

func TestIngestChecksTheCatalogSchemaButNotForARepeat(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		req := EventInput{Type: "lead.created", TenantID: tenant, Payload: []byte(`{"id":"x"}`), IdempotencyKey: "before"}
		first, err := e.ops.Ingest(e.ctx, req)
		require.NoError(t, err)
		_, err = e.ops.CreateEventType(e.ctx, EventTypeInput{Name: "lead.created",
			Schema: []byte(`{"type":"object","required":["id"],"properties":{"id":{"type":"integer"}}}`)})
		require.NoError(t, err)

		again, err := e.ops.Ingest(e.ctx, req)
		require.NoError(t, err, "accepted once, a repeat is answered whatever the schema says now")
		require.Equal(t, first.Event.ID, again.Event.ID)

		req.IdempotencyKey = "after"
		_, err = e.ops.Ingest(e.ctx, req)
		requireKind(t, err, Invalid, "payload")
		require.Contains(t, err.Error(), "/id")
		req.Payload = []byte(`{"id":7}`)
		_, err = e.ops.Ingest(e.ctx, req)
		require.NoError(t, err)
	})
}

func TestIngestWhoseStartsFailIsUnavailableAndRetryableWithTheSameKey(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		e.engine.failStart = errors.New("temporal is down")
		req := EventInput{Type: "a.b", TenantID: tenant, Payload: []byte(`{}`), IdempotencyKey: "retry-me"}
		_, err := e.ops.Ingest(e.ctx, req)
		requireKind(t, err, Unavailable, "")
		evs, err := e.store.ListEvents(e.ctx, models.EventFilter{TenantID: tenant, Limit: 10})
		require.NoError(t, err)
		require.Len(t, evs, 1, "the event is stored before its starts")

		e.engine.failStart = nil
		in, err := e.ops.Ingest(e.ctx, req)
		require.NoError(t, err)
		require.True(t, in.Replayed)
		require.Equal(t, []string{in.Deliveries[0].ID}, e.engine.startedIDs(), "the retry starts the pending delivery")
	})
}

func TestIngestStartsTheFirstDeliveriesInlineAndTheRestInTheBackground(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		for range InlineStarts + 6 {
			e.endpoint(tenant)
		}
		in := e.ingest(tenant)
		require.Len(t, in.Deliveries, InlineStarts+6)
		require.GreaterOrEqual(t, len(e.engine.startedIDs()), InlineStarts, "the first are started before Ingest returns")
		require.Eventually(t, func() bool { return len(e.engine.startedIDs()) == InlineStarts+6 },
			10*time.Second, 10*time.Millisecond, "the rest start in the background")
	})
}

func TestIngestFanOutIsBoundedByTheTenantsEndpointLimit(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		e.endpoint(tenant)
		e.endpoint(tenant)
		_, err := e.ops.CreateEndpoint(e.ctx, EndpointInput{URL: ptr("https://example.com/3"), TenantID: ptr(tenant)})
		requireKind(t, err, Conflict, "tenant_id")
		require.Contains(t, err.Error(), "HOOKD_MAX_ENDPOINTS_PER_TENANT")
		require.Len(t, e.ingest(tenant).Deliveries, 2)
	}, func(d *Deps) { d.MaxEndpointsPerTenant = 2 })
}

func TestTestEndpointSendsAnEventToThatEndpointOnly(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		target := e.endpoint(tenant, "orders.*")
		e.endpoint(tenant)
		d, err := e.ops.TestEndpoint(e.ctx, target.ID, TestInput{})
		require.NoError(t, err, "sent whatever the endpoint subscribes to")
		require.Equal(t, target.ID, d.EndpointID)
		require.Equal(t, []string{d.ID}, e.engine.startedIDs())
		ev, err := e.store.GetEvent(e.ctx, d.EventID)
		require.NoError(t, err)
		require.Equal(t, "hookd.test", ev.Type)
		require.JSONEq(t, `{"test":true,"message":"a test event sent by hookd"}`, ev.Payload)

		_, err = e.ops.TestEndpoint(e.ctx, target.ID, TestInput{EventType: "not an event type"})
		requireKind(t, err, Invalid, "event_type")
		_, err = e.ops.TestEndpoint(e.ctx, "ep_missing", TestInput{})
		requireKind(t, err, NotFound, "")
	})
}
