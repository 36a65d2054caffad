package models_test

import (
	"context"
	"fmt"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backends runs fn on each database backend (see modelstest.Backends).
var backends = modelstest.Backends

func newEndpoint(tenant string, filters ...string) *models.Endpoint {
	now := time.Now().UTC()
	return &models.Endpoint{
		ID: models.NewID("ep"), TenantID: tenant, URL: "https://example.com/hook", EventTypes: filters,
		Profile: "standard", Secret: "whsec_x", Headers: map[string]string{"X-Team": "a"},
		RetrySchedule: models.DefaultSchedule, TimeoutMS: 30000, PauseThreshold: models.DefaultPauseThreshold,
		State: models.EndpointActive, CreatedAt: now, UpdatedAt: now,
	}
}

func newEvent(tenant, typ, key string) models.Event {
	now := time.Now().UTC()
	return models.Event{ID: models.NewID("evt"), TenantID: tenant, Type: typ, Payload: `{"b":1,"a":2}`,
		OccurredAt: now, IdempotencyKey: key, RequestHash: "h-" + key, CreatedAt: now}
}

func TestMigrationsAreSafeToRunTwice(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		require.NoError(t, s.Migrate(context.Background()))
		require.NoError(t, s.Migrate(context.Background()))
	})
}

func TestEndpointRoundTripKeepsEveryField(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		e := newEndpoint("acme", "lead.*", "deal.won")
		e.RetrySchedule = models.Schedule{time.Second, 90 * time.Minute}
		e.RetiredSecrets = []models.RetiredSecret{{Secret: "whsec_old", ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)}}
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

		_, err = s.GetEndpoint(ctx, models.NewID("ep"))
		require.ErrorIs(t, err, models.ErrNotFound)
	})
}

func TestSubscribedEndpointsMatchTenantAndFilters(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		exact := newEndpoint("acme", "lead.created")
		prefix := newEndpoint("acme", "lead.*")
		all := newEndpoint("acme", "*")
		other := newEndpoint("acme", "deal.*")
		otherTenant := newEndpoint("globex", "*")
		disabled := newEndpoint("acme", "*")
		disabled.State = models.EndpointDisabled
		paused := newEndpoint("acme", "lead.created")
		paused.State = models.EndpointPaused
		for _, e := range []*models.Endpoint{exact, prefix, all, other, otherTenant, disabled, paused} {
			require.NoError(t, s.CreateEndpoint(ctx, e))
		}
		got, err := s.SubscribedEndpoints(ctx, "acme", "lead.created")
		require.NoError(t, err)
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		require.ElementsMatch(t, []string{exact.ID, prefix.ID, all.ID, paused.ID, disabled.ID}, ids,
			"paused and disabled endpoints still get deliveries (held); other tenants do not")

		got, err = s.SubscribedEndpoints(ctx, "acme", "leadership.created")
		require.NoError(t, err)
		require.Len(t, got, 2, "lead.* does not match leadership.created")
		require.ElementsMatch(t, []string{all.ID, disabled.ID}, []string{got[0].ID, got[1].ID})
	})
}

func TestIngestEventIsOncePerIdempotencyKey(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		a, b := newEndpoint("acme", "*"), newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, a))
		require.NoError(t, s.CreateEndpoint(ctx, b))
		eps := []models.Endpoint{*a, *b}

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
		require.ErrorIs(t, err, models.ErrIdempotencyConflict)

		var events, deliveries int64
		require.NoError(t, s.DB().Model(&models.Event{}).Count(&events).Error)
		require.NoError(t, s.DB().Model(&models.Delivery{}).Count(&deliveries).Error)
		require.Equal(t, int64(1), events)
		require.Equal(t, int64(2), deliveries)
	})
}

func TestConcurrentDuplicateIngestWritesOneEvent(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		const n = 8
		var wg sync.WaitGroup
		results := make([]models.Ingested, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = s.IngestEvent(ctx, newEvent("acme", "x", "same-key"), []models.Endpoint{*ep})
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
		require.NoError(t, s.DB().Model(&models.Delivery{}).Count(&deliveries).Error)
		require.Equal(t, int64(1), deliveries)
	})
}

func TestRecordAttemptUpdatesTheDelivery(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		in, err := s.IngestEvent(ctx, newEvent("acme", "x", "k"), []models.Endpoint{*ep})
		require.NoError(t, err)
		d := in.Deliveries[0]

		t0 := time.Now().UTC().Truncate(time.Millisecond)
		next := t0.Add(time.Minute)
		fc, err := s.RecordAttempt(ctx, d.EndpointID, &models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: 1, Trigger: models.TriggerSchedule,
			URL: ep.URL, StatusCode: 500, Error: "HTTP 500", StartedAt: t0, RequestHeaders: map[string]string{"Webhook-Id": "evt"}},
			models.AttemptOutcome{Status: models.DeliveryPending, NextAttemptAt: &next})
		require.NoError(t, err)
		require.Equal(t, models.FailureCount{Changed: true, Failures: 1, Seq: 1}, fc.FailureCount)
		fc, err = s.RecordAttempt(ctx, d.EndpointID, &models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: 2, Trigger: models.TriggerSchedule,
			URL: ep.URL, StatusCode: 204, Succeeded: true, StartedAt: t0.Add(time.Minute)},
			models.AttemptOutcome{Status: models.DeliverySucceeded})
		require.NoError(t, err)
		require.Equal(t, models.FailureCount{Changed: true, Failures: 0, Seq: 2}, fc.FailureCount, "the success ends the run of failures")

		w, err := s.LoadDeliveryWork(ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, models.DeliverySucceeded, w.Delivery.Status)
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

		_, err = s.LoadDeliveryWork(ctx, models.NewID("dlv"))
		require.ErrorIs(t, err, models.ErrNotFound)
	})
}

func TestListDeliveriesPagesByCursorWithoutGapsOrRepeats(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		var all []string
		for i := range 7 {
			in, err := s.IngestEvent(ctx, newEvent("acme", "x", fmt.Sprint("k", i)), []models.Endpoint{*ep})
			require.NoError(t, err)
			all = append([]string{in.Deliveries[0].ID}, all...) // newest first
		}
		var seen []string
		cursor := ""
		for range 10 {
			page, err := s.ListDeliveries(ctx, models.DeliveryFilter{EndpointID: ep.ID, After: cursor, Limit: 3})
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			seen = append(seen, ids(page)...)
			cursor = page[len(page)-1].ID
			// A delivery inserted mid-way sorts before the cursor and does not disturb later pages.
			_, err = s.IngestEvent(ctx, newEvent("acme", "x", models.NewID("k")), []models.Endpoint{*ep})
			require.NoError(t, err)
		}
		require.Equal(t, all, seen)

		failed, err := s.ListDeliveries(ctx, models.DeliveryFilter{Status: models.DeliveryFailed})
		require.NoError(t, err)
		require.Empty(t, failed)
	})
}

func TestNewIDsSortByCreationTime(t *testing.T) {
	a := models.NewID("evt")
	time.Sleep(2 * time.Millisecond)
	b := models.NewID("evt")
	require.Regexp(t, `^evt_[0-9A-HJKMNP-TV-Z]{26}$`, a)
	require.Less(t, a, b)
	require.NotEqual(t, models.NewID("evt"), models.NewID("evt"))
}

func ids(ds []models.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// The endpoint's count of consecutive failures is kept with each attempt, in
// its transaction: a success is known to end a run of failures however
// recent they are, and a success on a healthy endpoint changes nothing.
func TestRecordAttemptKeepsTheEndpointsFailureCount(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		other := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, other))
		in, err := s.IngestEvent(ctx, newEvent("acme", "x", "k"), []models.Endpoint{*ep, *other})
		require.NoError(t, err)
		var d, od models.Delivery
		for _, x := range in.Deliveries {
			if x.EndpointID == ep.ID {
				d = x
			} else {
				od = x
			}
		}
		n := 0
		record := func(d models.Delivery, ok bool) models.FailureCount {
			n++
			a := &models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: n, Trigger: models.TriggerSchedule,
				URL: ep.URL, Succeeded: ok, StartedAt: time.Now().UTC()}
			if !ok {
				a.StatusCode, a.Error = 500, "HTTP 500"
			}
			fc, err := s.RecordAttempt(ctx, d.EndpointID, a, models.AttemptOutcome{Status: models.DeliveryPending})
			require.NoError(t, err)
			return fc.FailureCount
		}
		stored := func(id string) (int, int64) {
			e, err := s.GetEndpoint(ctx, id)
			require.NoError(t, err)
			return e.ConsecutiveFailures, e.HealthSeq
		}

		require.Equal(t, models.FailureCount{}, record(d, true), "a success on a healthy endpoint reports nothing")
		for i := 1; i <= 3; i++ {
			require.Equal(t, models.FailureCount{Changed: true, Failures: i, Seq: int64(i)}, record(d, false))
		}
		f, seq := stored(ep.ID)
		require.Equal(t, 3, f)
		require.Equal(t, int64(3), seq)
		f, _ = stored(other.ID)
		require.Zero(t, f, "other endpoints are not counted")

		require.Equal(t, models.FailureCount{Changed: true, Failures: 0, Seq: 4}, record(d, true))
		require.Equal(t, models.FailureCount{}, record(d, true), "only the first success after failures is reported")
		f, seq = stored(ep.ID)
		require.Zero(t, f)
		require.Equal(t, int64(4), seq)
		require.Equal(t, models.FailureCount{Changed: true, Failures: 1, Seq: 1}, record(od, false))

		// Concurrent failures are each counted once, with distinct sequence numbers.
		var wg sync.WaitGroup
		seqs := make(chan int64, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fc, err := s.RecordAttempt(ctx, d.EndpointID, &models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: 100 + i,
					Trigger: models.TriggerSchedule, URL: ep.URL, StatusCode: 500, StartedAt: time.Now().UTC()},
					models.AttemptOutcome{Status: models.DeliveryPending})
				if !assert.NoError(t, err) {
					return
				}
				seqs <- fc.Seq
			}()
		}
		wg.Wait()
		close(seqs)
		seen := map[int64]bool{}
		for q := range seqs {
			seen[q] = true
		}
		require.Len(t, seen, 20)
		f, seq = stored(ep.ID)
		require.Equal(t, 20, f)
		require.Equal(t, int64(24), seq)
	})
}

// SaveHealth leaves the count to the attempts unless told to set it, which
// starts a new count.
func TestSaveHealthSetsTheCountOnlyWhenAsked(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		in, err := s.IngestEvent(ctx, newEvent("acme", "x", "k"), []models.Endpoint{*ep})
		require.NoError(t, err)
		for i := range 2 {
			_, err := s.RecordAttempt(ctx, ep.ID, &models.Attempt{ID: models.NewID("att"), DeliveryID: in.Deliveries[0].ID, Number: i + 1,
				Trigger: models.TriggerSchedule, URL: ep.URL, StatusCode: 500, StartedAt: time.Now().UTC()},
				models.AttemptOutcome{Status: models.DeliveryPending})
			require.NoError(t, err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		seq, err := s.SaveHealth(ctx, ep.ID, models.Health{State: models.EndpointPaused, PausedAt: &now, PauseReason: "ops", ConsecutiveFailures: 7})
		require.NoError(t, err)
		require.Zero(t, seq)
		got, err := s.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, models.EndpointPaused, got.State)
		require.Equal(t, "ops", got.PauseReason)
		require.Equal(t, 2, got.ConsecutiveFailures, "the count kept by the attempts stands")
		require.Equal(t, int64(2), got.HealthSeq)

		seq, err = s.SaveHealth(ctx, ep.ID, models.Health{State: models.EndpointActive, SetFailures: true})
		require.NoError(t, err)
		require.Equal(t, int64(3), seq)
		got, err = s.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, models.EndpointActive, got.State)
		require.Zero(t, got.ConsecutiveFailures)
		require.Equal(t, int64(3), got.HealthSeq)

		n, err := s.PauseThreshold(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, models.DefaultPauseThreshold, n)
		n, err = s.PauseThreshold(ctx, models.NewID("ep"))
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func TestDisableEndpointKeepsTheFirstTimeAndEnableStartsANewCount(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("acme", "*")
		ep.ConsecutiveFailures = 4
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		first := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

		got, err := s.DisableEndpoint(ctx, ep.ID, "HTTP 410 Gone", first)
		require.NoError(t, err)
		require.Equal(t, models.EndpointDisabled, got.State)
		require.True(t, first.Equal(*got.DisabledAt))
		require.Equal(t, "HTTP 410 Gone", got.DisabledReason)

		again, err := s.DisableEndpoint(ctx, ep.ID, "another 410", first.Add(time.Hour))
		require.NoError(t, err)
		require.True(t, first.Equal(*again.DisabledAt), "a second 410 keeps the time and reason of the first")
		require.Equal(t, "HTTP 410 Gone", again.DisabledReason)

		_, err = s.SaveHealth(ctx, ep.ID, models.Health{State: models.EndpointPaused})
		require.NoError(t, err)
		stored, err := s.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, models.EndpointDisabled, stored.State, "the health workflow cannot overwrite a disabled state")

		changed, err := s.EnableEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.True(t, changed)
		stored, err = s.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, models.EndpointActive, stored.State)
		require.Nil(t, stored.DisabledAt)
		require.Empty(t, stored.DisabledReason)
		require.Zero(t, stored.ConsecutiveFailures)
		require.Greater(t, stored.HealthSeq, ep.HealthSeq)

		changed, err = s.EnableEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.False(t, changed, "enabling an active endpoint changes nothing")
		_, err = s.EnableEndpoint(ctx, models.NewID("ep"))
		require.ErrorIs(t, err, models.ErrNotFound)
		_, err = s.DisableEndpoint(ctx, models.NewID("ep"), "gone", first)
		require.ErrorIs(t, err, models.ErrNotFound)
	})
}
