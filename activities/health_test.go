package activities_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// backends runs fn on each database backend (see modelstest.Backends).
var backends = modelstest.Backends

// engine stands in for Temporal (the Redeliverer the health activities are
// given): it records what it was asked, and, unless told otherwise, a
// released delivery makes a successful attempt in the store, as its
// workflow would.
type engine struct {
	store *models.Store
	mu    sync.Mutex
	// released and redelivered are delivery ids in the order asked.
	released, redelivered []string
	triggers              []string
	// onRelease, if set, replaces the successful attempt.
	onRelease func(n int, d *models.Delivery)
}

func (e *engine) Release(ctx context.Context, d *models.Delivery) error {
	e.mu.Lock()
	e.released = append(e.released, d.ID)
	n := len(e.released)
	e.mu.Unlock()
	if e.onRelease != nil {
		e.onRelease(n, d)
		return nil
	}
	_, err := e.store.RecordAttempt(ctx, d.EndpointID, &models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: d.AttemptCount + 1,
		Trigger: models.TriggerSchedule, URL: "https://example.com/hook", StatusCode: 200, Succeeded: true, StartedAt: time.Now().UTC()},
		models.AttemptOutcome{Status: models.DeliverySucceeded})
	return err
}

func (e *engine) Redeliver(_ context.Context, d *models.Delivery, trigger string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.redelivered = append(e.redelivered, d.ID)
	e.triggers = append(e.triggers, trigger)
	return nil
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	store  *models.Store
	engine *engine
	health *activities.Health
	env    *testsuite.TestActivityEnvironment
	ep     *models.Endpoint
}

func newFixture(t *testing.T, s *models.Store) *fixture {
	f := &fixture{t: t, ctx: context.Background(), store: s, engine: &engine{store: s}}
	f.health = &activities.Health{Store: s, Deliveries: f.engine, Logger: slog.New(slog.DiscardHandler), PollInterval: time.Millisecond}
	var suite testsuite.WorkflowTestSuite
	f.env = suite.NewTestActivityEnvironment()
	f.env.RegisterActivity(f.health)
	f.ep = f.endpoint()
	return f
}

func (f *fixture) endpoint() *models.Endpoint {
	now := time.Now().UTC()
	ep := &models.Endpoint{
		ID: models.NewID("ep"), TenantID: "acme", URL: "https://example.com/hook", EventTypes: []string{"*"},
		Profile: "standard", Secret: "whsec_x", RetrySchedule: models.DefaultSchedule, TimeoutMS: 30000,
		PauseThreshold: models.DefaultPauseThreshold, State: models.EndpointActive, CreatedAt: now, UpdatedAt: now,
	}
	require.NoError(f.t, f.store.CreateEndpoint(f.ctx, ep))
	return ep
}

// delivery ingests an event created at at for ep and returns its delivery.
func (f *fixture) delivery(ep *models.Endpoint, at time.Time) models.Delivery {
	key := models.NewID("key")
	in, err := f.store.IngestEvent(f.ctx, models.Event{ID: models.NewID("evt"), TenantID: "acme", Type: "x", Payload: `{}`,
		OccurredAt: at, IdempotencyKey: key, RequestHash: key, CreatedAt: at}, []models.Endpoint{*ep})
	require.NoError(f.t, err)
	return in.Deliveries[0]
}

func (f *fixture) setState(state string) {
	h := models.Health{State: state}
	if state == models.EndpointPaused {
		now := time.Now().UTC()
		h.PausedAt, h.PauseReason = &now, "test"
	}
	_, err := f.store.SaveHealth(f.ctx, f.ep.ID, h)
	require.NoError(f.t, err)
}

func (f *fixture) setStatus(id, status string) {
	require.NoError(f.t, f.store.DB().Model(&models.Delivery{}).Where("id = ?", id).Update("status", status).Error)
}

func (f *fixture) status(id string) string {
	d, err := f.store.GetDelivery(f.ctx, id)
	require.NoError(f.t, err)
	return d.Status
}

// held makes n held deliveries of the (paused) endpoint, oldest first.
func (f *fixture) held(n int) []string {
	f.setState(models.EndpointPaused)
	var ids []string
	for range n {
		d := f.delivery(f.ep, time.Now().UTC())
		ok, err := f.store.MarkHeld(f.ctx, d.ID, f.ep.ID)
		require.NoError(f.t, err)
		require.True(f.t, ok)
		ids = append(ids, d.ID)
	}
	return ids
}

func (f *fixture) releaseHeld() int {
	v, err := f.env.ExecuteActivity(f.health.ReleaseHeld, f.ep.ID)
	require.NoError(f.t, err)
	var n int
	require.NoError(f.t, v.Get(&n))
	return n
}

func TestReleaseHeldDeliversOldestFirst(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		ids := f.held(5)
		other := f.endpoint() // another endpoint's held delivery is not touched
		od := f.delivery(other, time.Now().UTC())
		f.setStatus(od.ID, models.DeliveryHeld)

		require.Zero(t, f.releaseHeld(), "nothing is released while the endpoint is paused")
		require.Empty(t, f.engine.released)

		f.setState(models.EndpointActive)
		require.Equal(t, 5, f.releaseHeld())
		require.Equal(t, ids, f.engine.released, "oldest first, each once")
		for _, id := range ids {
			require.Equal(t, models.DeliverySucceeded, f.status(id))
		}
		n, err := s.CountHeld(f.ctx, f.ep.ID)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, models.DeliveryHeld, f.status(od.ID))

		require.Zero(t, f.releaseHeld(), "a second release finds nothing")
	})
}

func TestReleaseHeldStopsWhenTheEndpointIsPausedAgain(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		ids := f.held(5)
		f.setState(models.EndpointActive)
		// The second released delivery fails its attempt and the endpoint is
		// paused again: the delivery is held again, as its workflow would do.
		f.engine.onRelease = func(n int, d *models.Delivery) {
			if n == 1 {
				_, err := s.RecordAttempt(f.ctx, d.EndpointID, &models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: 1,
					Trigger: models.TriggerSchedule, URL: f.ep.URL, StatusCode: 200, Succeeded: true, StartedAt: time.Now().UTC()},
					models.AttemptOutcome{Status: models.DeliverySucceeded})
				require.NoError(t, err)
				return
			}
			f.setState(models.EndpointPaused)
			ok, err := s.MarkHeld(f.ctx, d.ID, f.ep.ID)
			require.NoError(t, err)
			require.True(t, ok)
		}
		started := time.Now()
		f.releaseHeld()
		require.Less(t, time.Since(started), 10*time.Second, "it does not wait out the attempt timeout for a delivery held again")
		require.Equal(t, ids[:2], f.engine.released, "nothing more is released once paused again")
		require.Equal(t, models.DeliverySucceeded, f.status(ids[0]))
		for _, id := range ids[1:] {
			require.Equal(t, models.DeliveryHeld, f.status(id), "the rest stay held, nothing dropped")
		}

		// Unpaused again: the release picks up where it stopped, in order.
		f.engine.onRelease = nil
		f.setState(models.EndpointActive)
		require.Equal(t, 4, f.releaseHeld())
		require.Equal(t, append(ids[:2:2], ids[1:]...), f.engine.released)
	})
}

func TestReleaseHeldResumesFromItsHeartbeat(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		ids := f.held(4)
		f.setState(models.EndpointActive)
		f.setStatus(ids[0], models.DeliverySucceeded) // released before the last heartbeat, which recorded ids[1]
		f.setStatus(ids[1], models.DeliverySucceeded)
		f.env.SetHeartbeatDetails(ids[1])
		require.Equal(t, 2, f.releaseHeld())
		require.Equal(t, ids[2:], f.engine.released)
	})
}

// replayFixture: deliveries of one endpoint created a minute apart.
//
//	d0 t0 succeeded · d1 t1 failed · d2 t2 succeeded · d3 t3 failed · d4 t4 pending · d5 t5 failed · d6 t6 held
//
// and another endpoint's failed delivery at t2.
func replayFixture(t *testing.T, s *models.Store) (f *fixture, ts []time.Time, ids []string, otherID string) {
	f = newFixture(t, s)
	ts = replayTimes()
	for i, status := range []string{models.DeliverySucceeded, models.DeliveryFailed, models.DeliverySucceeded,
		models.DeliveryFailed, models.DeliveryPending, models.DeliveryFailed, models.DeliveryHeld} {
		d := f.delivery(f.ep, ts[i])
		f.setStatus(d.ID, status)
		ids = append(ids, d.ID)
	}
	od := f.delivery(f.endpoint(), ts[2])
	f.setStatus(od.ID, models.DeliveryFailed)
	return f, ts, ids, od.ID
}

func replayTimes() []time.Time {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	ts := make([]time.Time, 7)
	for i := range ts {
		ts[i] = t0.Add(time.Duration(i) * time.Minute)
	}
	return ts
}

func TestReplaySelectsItsRange(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ts := replayTimes()
		zero := time.Time{}
		for _, c := range []struct {
			name         string
			since, until time.Time
			onlyFailed   bool
			want         []int
		}{
			{"since is inclusive, until exclusive", ts[1], ts[3], false, []int{1, 2}},
			{"only failed; under way and held are left to their run", ts[1], ts[6].Add(time.Minute), true, []int{1, 3, 5}},
			{"all finished in range", ts[3], ts[6].Add(time.Minute), false, []int{3, 5}},
			{"no since", zero, ts[1], false, []int{0}},
			{"no until", ts[5], zero, false, []int{5}},
			{"empty range", ts[1].Add(time.Second), ts[2], false, nil},
			{"only failed, nothing failed in range", ts[2], ts[3], true, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				f, _, ids, otherID := replayFixture(t, s)
				before := map[string]string{}
				for _, id := range append(ids, otherID) {
					before[id] = f.status(id)
				}
				v, err := f.env.ExecuteActivity(f.health.Replay, activities.ReplayInput{
					EndpointID: f.ep.ID, Since: c.since, Until: c.until, OnlyFailed: c.onlyFailed})
				require.NoError(t, err)
				var n int
				require.NoError(t, v.Get(&n))

				var want []string
				picked := map[string]bool{}
				for _, i := range c.want {
					want = append(want, ids[i])
					picked[ids[i]] = true
				}
				require.Equal(t, len(want), n)
				require.Equal(t, want, f.engine.redelivered, "oldest first")
				for _, tr := range f.engine.triggers {
					require.Equal(t, models.TriggerReplay, tr)
				}
				count, err := s.CountReplay(f.ctx, models.ReplayFilter{EndpointID: f.ep.ID, Since: c.since, Until: c.until, OnlyFailed: c.onlyFailed})
				require.NoError(t, err)
				require.Zero(t, count, "what was replayed is under way again")
				for id, was := range before {
					if picked[id] {
						require.Equal(t, models.DeliveryPending, f.status(id), "a replayed delivery is pending again")
					} else {
						require.Equal(t, was, f.status(id), "%s is not touched", id)
					}
				}
			})
		}
	})
}

func TestReplayResumesFromItsHeartbeat(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		f, ts, ids, _ := replayFixture(t, s)
		f.env.SetHeartbeatDetails(ids[1])
		v, err := f.env.ExecuteActivity(f.health.Replay, activities.ReplayInput{EndpointID: f.ep.ID, Since: ts[0], Until: ts[6], OnlyFailed: true})
		require.NoError(t, err)
		var n int
		require.NoError(t, v.Get(&n))
		require.Equal(t, 2, n)
		require.Equal(t, []string{ids[3], ids[5]}, f.engine.redelivered)
		require.Equal(t, models.DeliveryFailed, f.status(ids[1]), "done before the heartbeat: not again")
	})
}

// A slow receiver keeps a release waiting for up to its timeout; the release
// heartbeats all the while, so the server never deems it dead and starts a
// second release beside it (which would break oldest-first order).
func TestReleaseHeldHeartbeatsWhileASlowReceiverAnswers(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		f.health.HeartbeatEvery = 20 * time.Millisecond
		var mu sync.Mutex
		var beats []time.Time
		f.health.Heartbeat = func(ctx context.Context, details ...any) {
			mu.Lock()
			beats = append(beats, time.Now())
			mu.Unlock()
			activity.RecordHeartbeat(ctx, details...)
		}
		ids := f.held(2)
		f.setState(models.EndpointActive)
		var releasedAt []time.Time
		f.engine.onRelease = func(_ int, d *models.Delivery) {
			releasedAt = append(releasedAt, time.Now())
			time.Sleep(300 * time.Millisecond) // the released attempt's workflow task: a slow receiver
			f.setStatus(d.ID, models.DeliverySucceeded)
		}
		require.Equal(t, 2, f.releaseHeld())
		require.Equal(t, ids, f.engine.released)
		mu.Lock()
		defer mu.Unlock()
		during := 0
		for _, b := range beats {
			if b.After(releasedAt[0]) && b.Before(releasedAt[0].Add(300*time.Millisecond)) {
				during++
			}
		}
		require.GreaterOrEqual(t, during, 5, "heartbeats while the first release waited: %d of %d", during, len(beats))
	})
}
