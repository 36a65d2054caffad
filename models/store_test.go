package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// PostgresDSNEnv names the environment variable with the PostgreSQL DSN the
// store tests run against (set by .ci/run). Without it the PostgreSQL half of
// each test is skipped, unless CI is set, where that is a failure.
const PostgresDSNEnv = "HOOKD_TEST_POSTGRES_DSN"

// backends runs fn once per database backend, each with a fresh, empty,
// migrated store: a new SQLite file, or a new PostgreSQL schema.
func backends(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, err := Open(t.TempDir() + "/hookd.db")
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		require.NoError(t, s.Migrate(context.Background()))
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, OpenTestPostgres(t))
	})
}

// OpenTestPostgres returns a migrated store on a schema of its own, dropped
// when the test ends.
func OpenTestPostgres(t testing.TB) *Store {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run the PostgreSQL store tests", PostgresDSNEnv)
		}
		t.Skipf("%s not set", PostgresDSNEnv)
	}
	admin, err := Open(dsn)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	require.NoError(t, admin.DB().Exec("CREATE SCHEMA "+schema).Error)
	t.Cleanup(func() { admin.DB().Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := Open(u.String())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

func newEndpoint(tenant string, filters ...string) *Endpoint {
	now := time.Now().UTC()
	return &Endpoint{
		ID: NewID("ep"), TenantID: tenant, URL: "https://example.com/hook", EventTypes: filters,
		Profile: "standard", Secret: "whsec_x", Headers: map[string]string{"X-Team": "a"},
		RetrySchedule: DefaultSchedule, TimeoutMS: 30000, PauseThreshold: DefaultPauseThreshold,
		State: EndpointActive, CreatedAt: now, UpdatedAt: now,
	}
}

func newEvent(tenant, typ, key string) Event {
	now := time.Now().UTC()
	return Event{ID: NewID("evt"), TenantID: tenant, Type: typ, Payload: `{"b":1,"a":2}`,
		OccurredAt: now, IdempotencyKey: key, RequestHash: "h-" + key, CreatedAt: now}
}

func TestMigrationsAreSafeToRunTwice(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		require.NoError(t, s.Migrate(context.Background()))
		require.NoError(t, s.Migrate(context.Background()))
	})
}

func TestEndpointRoundTripKeepsEveryField(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		e := newEndpoint("acme", "lead.*", "deal.won")
		e.RetrySchedule = Schedule{time.Second, 90 * time.Minute}
		e.RetiredSecrets = []RetiredSecret{{Secret: "whsec_old", ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)}}
		require.NoError(t, s.CreateEndpoint(ctx, e))
		got, err := s.GetEndpoint(ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, e.EventTypes, got.EventTypes)
		require.Equal(t, e.RetrySchedule, got.RetrySchedule)
		require.Equal(t, e.Headers, got.Headers)
		require.Equal(t, e.TenantID, got.TenantID)
		require.True(t, e.RetiredSecrets[0].ExpiresAt.Equal(got.RetiredSecrets[0].ExpiresAt))
		cur, prev := got.Keys(time.Now())
		require.Equal(t, "whsec_x", cur)
		require.Equal(t, []string{"whsec_old"}, prev)
		_, prev = got.Keys(time.Now().Add(2 * time.Hour))
		require.Empty(t, prev, "a retired secret stops signing once it expires")

		_, err = s.GetEndpoint(ctx, NewID("ep"))
		require.ErrorIs(t, err, ErrNotFound)
	})
}

func TestSubscribedEndpointsMatchTenantAndFilters(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		exact := newEndpoint("acme", "lead.created")
		prefix := newEndpoint("acme", "lead.*")
		all := newEndpoint("acme", "*")
		other := newEndpoint("acme", "deal.*")
		otherTenant := newEndpoint("globex", "*")
		disabled := newEndpoint("acme", "*")
		disabled.State = EndpointDisabled
		paused := newEndpoint("acme", "lead.created")
		paused.State = EndpointPaused
		for _, e := range []*Endpoint{exact, prefix, all, other, otherTenant, disabled, paused} {
			require.NoError(t, s.CreateEndpoint(ctx, e))
		}
		got, err := s.SubscribedEndpoints(ctx, "acme", "lead.created")
		require.NoError(t, err)
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		require.ElementsMatch(t, []string{exact.ID, prefix.ID, all.ID, paused.ID}, ids,
			"paused endpoints still get deliveries (held); disabled ones and other tenants do not")

		got, err = s.SubscribedEndpoints(ctx, "acme", "leadership.created")
		require.NoError(t, err)
		require.Len(t, got, 1, "lead.* does not match leadership.created")
		require.Equal(t, all.ID, got[0].ID)
	})
}

func TestIngestEventIsOncePerIdempotencyKey(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := newEndpoint("acme", "*"), newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, a))
		require.NoError(t, s.CreateEndpoint(ctx, b))
		eps := []Endpoint{*a, *b}

		first, err := s.IngestEvent(ctx, newEvent("acme", "lead.created", "k1"), eps)
		require.NoError(t, err)
		require.False(t, first.Replayed)
		require.Len(t, first.Deliveries, 2)

		again := newEvent("acme", "lead.created", "k1")
		second, err := s.IngestEvent(ctx, again, eps)
		require.NoError(t, err)
		require.True(t, second.Replayed)
		require.Equal(t, first.Event.ID, second.Event.ID)
		require.Equal(t, ids(first.Deliveries), ids(second.Deliveries))

		clash := newEvent("acme", "lead.created", "k1")
		clash.RequestHash = "something else"
		_, err = s.IngestEvent(ctx, clash, eps)
		require.ErrorIs(t, err, ErrIdempotencyConflict)

		var events, deliveries int64
		require.NoError(t, s.DB().Model(&Event{}).Count(&events).Error)
		require.NoError(t, s.DB().Model(&Delivery{}).Count(&deliveries).Error)
		require.Equal(t, int64(1), events)
		require.Equal(t, int64(2), deliveries)
	})
}

func TestConcurrentDuplicateIngestWritesOneEvent(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		const n = 8
		var wg sync.WaitGroup
		results := make([]Ingested, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = s.IngestEvent(ctx, newEvent("acme", "x", "same-key"), []Endpoint{*ep})
			}()
		}
		wg.Wait()
		fresh := 0
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, results[0].Event.ID, results[i].Event.ID)
			require.Len(t, results[i].Deliveries, 1)
			require.Equal(t, results[0].Deliveries[0].ID, results[i].Deliveries[0].ID)
			if !results[i].Replayed {
				fresh++
			}
		}
		require.Equal(t, 1, fresh, "exactly one request wrote the event")
		var deliveries int64
		require.NoError(t, s.DB().Model(&Delivery{}).Count(&deliveries).Error)
		require.Equal(t, int64(1), deliveries)
	})
}

func TestRecordAttemptUpdatesTheDelivery(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		in, err := s.IngestEvent(ctx, newEvent("acme", "x", "k"), []Endpoint{*ep})
		require.NoError(t, err)
		d := in.Deliveries[0]

		t0 := time.Now().UTC().Truncate(time.Millisecond)
		next := t0.Add(time.Minute)
		require.NoError(t, s.RecordAttempt(ctx, &Attempt{ID: NewID("att"), DeliveryID: d.ID, Number: 1, Trigger: TriggerSchedule,
			URL: ep.URL, StatusCode: 500, Error: "HTTP 500", StartedAt: t0, RequestHeaders: map[string]string{"Webhook-Id": "evt"}},
			AttemptOutcome{Status: DeliveryPending, NextAttemptAt: &next}))
		require.NoError(t, s.RecordAttempt(ctx, &Attempt{ID: NewID("att"), DeliveryID: d.ID, Number: 2, Trigger: TriggerSchedule,
			URL: ep.URL, StatusCode: 204, Succeeded: true, StartedAt: t0.Add(time.Minute)},
			AttemptOutcome{Status: DeliverySucceeded}))

		w, err := s.LoadDeliveryWork(ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, DeliverySucceeded, w.Delivery.Status)
		require.Equal(t, 2, w.Delivery.AttemptCount)
		require.Equal(t, 204, w.Delivery.LastStatusCode)
		require.Nil(t, w.Delivery.NextAttemptAt)
		require.Equal(t, ep.ID, w.Endpoint.ID)
		require.Equal(t, `{"b":1,"a":2}`, w.Event.Payload, "payload bytes are kept as received")

		atts, err := s.ListAttempts(ctx, d.ID)
		require.NoError(t, err)
		require.Len(t, atts, 2)
		require.Equal(t, []int{1, 2}, []int{atts[0].Number, atts[1].Number})
		require.Equal(t, "evt", atts[0].RequestHeaders["Webhook-Id"])

		_, err = s.LoadDeliveryWork(ctx, NewID("dlv"))
		require.ErrorIs(t, err, ErrNotFound)
	})
}

func TestListDeliveriesPagesByCursorWithoutGapsOrRepeats(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		var all []string
		for i := range 7 {
			in, err := s.IngestEvent(ctx, newEvent("acme", "x", fmt.Sprint("k", i)), []Endpoint{*ep})
			require.NoError(t, err)
			all = append([]string{in.Deliveries[0].ID}, all...) // newest first
		}
		var seen []string
		cursor := ""
		for range 10 {
			page, err := s.ListDeliveries(ctx, DeliveryFilter{EndpointID: ep.ID, After: cursor, Limit: 3})
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			seen = append(seen, ids(page)...)
			cursor = page[len(page)-1].ID
			// A delivery inserted mid-way sorts before the cursor and does not disturb later pages.
			_, err = s.IngestEvent(ctx, newEvent("acme", "x", NewID("k")), []Endpoint{*ep})
			require.NoError(t, err)
		}
		require.Equal(t, all, seen)

		failed, err := s.ListDeliveries(ctx, DeliveryFilter{Status: DeliveryFailed})
		require.NoError(t, err)
		require.Empty(t, failed)
	})
}

func TestNewIDsSortByCreationTime(t *testing.T) {
	a := NewID("evt")
	time.Sleep(2 * time.Millisecond)
	b := NewID("evt")
	require.Regexp(t, `^evt_[0-9A-HJKMNP-TV-Z]{26}$`, a)
	require.Less(t, a, b)
	require.NotEqual(t, NewID("evt"), NewID("evt"))
}

func ids(ds []Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
