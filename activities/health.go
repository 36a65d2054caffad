package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/hookd/hookd/models"
)

// Redeliverer moves deliveries along on the engine: it is how the health
// activities reach delivery workflows without importing them.
type Redeliverer interface {
	// Release wakes a held delivery's workflow so it attempts now; if no run
	// of it is open, a new run is started.
	Release(ctx context.Context, d *models.Delivery) error
	// Redeliver starts a new run of a finished delivery, trigger recorded on
	// its first attempt.
	Redeliver(ctx context.Context, d *models.Delivery, trigger string) error
}

// Health holds the side effects of the endpoint health workflow.
type Health struct {
	Store      *models.Store
	Deliveries Redeliverer
	Logger     *slog.Logger
	// PollInterval is how often ReleaseHeld checks that a released delivery
	// has made its attempt; default 5ms.
	PollInterval time.Duration
	// HeartbeatEvery is how often the long jobs heartbeat while they wait
	// (well inside the workflow's heartbeat timeout); default 5s.
	HeartbeatEvery time.Duration
	// Heartbeat records a heartbeat; activity.RecordHeartbeat when nil.
	// (The SDK sends one at most every 80 % of the heartbeat timeout.)
	Heartbeat func(ctx context.Context, details ...any)
}

// HealthSnapshot is the endpoint health workflow's state of an endpoint,
// as SaveHealth mirrors it into the store. It is the activity's argument,
// so it is part of workflow history: its JSON encoding is the one histories
// recorded when the argument was models.Health carry (that struct's
// untagged field names), and must stay so.
type HealthSnapshot struct {
	State       string     `json:"State"`
	PausedAt    *time.Time `json:"PausedAt"`
	PauseReason string     `json:"PauseReason"`
	// SetFailures sets the stored count of consecutive failures to
	// ConsecutiveFailures and starts a new count, as an unpause does.
	// Without it the stored count, which each attempt keeps, is left alone.
	SetFailures         bool `json:"SetFailures"`
	ConsecutiveFailures int  `json:"ConsecutiveFailures"`
}

// SaveHealth mirrors the workflow's state of an endpoint into the store, so
// the API reads it and attempts see a pause at once. It answers the new
// HealthSeq when s.SetFailures starts a new count.
func (h *Health) SaveHealth(ctx context.Context, endpointID string, s HealthSnapshot) (int64, error) {
	return h.Store.SaveHealth(ctx, endpointID, models.Health{
		State: s.State, PausedAt: s.PausedAt, PauseReason: s.PauseReason,
		SetFailures: s.SetFailures, ConsecutiveFailures: s.ConsecutiveFailures,
	})
}

// PauseThreshold reads the endpoint's pause threshold (0 if it is gone): the
// workflow reloads it when told the endpoint's settings changed.
func (h *Health) PauseThreshold(ctx context.Context, endpointID string) (int, error) {
	return h.Store.PauseThreshold(ctx, endpointID)
}

const pageSize = 100

// ReleaseHeld delivers an endpoint's held deliveries oldest first, one at a
// time: each is woken and has made its attempt (or been held again) before
// the next is woken, so they arrive in order. It stops early if the endpoint
// is paused again, and lists again until no held delivery is left, so a
// delivery held while the release ran is not forgotten. It heartbeats its
// progress and resumes from it when retried.
func (h *Health) ReleaseHeld(ctx context.Context, endpointID string) (int, error) {
	released := 0
	after := ""
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &after)
	}
	for {
		ep, err := h.Store.GetEndpoint(ctx, endpointID)
		if errors.Is(err, models.ErrNotFound) {
			return released, nil
		}
		if err != nil {
			return released, err
		}
		if ep.State != models.EndpointActive {
			return released, nil
		}
		page, err := h.Store.ListHeld(ctx, endpointID, after, pageSize)
		if err != nil {
			return released, err
		}
		if len(page) == 0 {
			if after == "" {
				return released, nil
			}
			after = "" // list again from the start: catch deliveries held meanwhile
			continue
		}
		for i := range page {
			d := &page[i]
			if i > 0 {
				active, err := h.endpointActive(ctx, endpointID)
				if err != nil || !active {
					return released, err
				}
			}
			// A slow receiver keeps both steps waiting for up to its
			// timeout: heartbeat meanwhile, or the server would deem this
			// run dead and start a second one beside it, out of order.
			err := h.heartbeating(ctx, after, func() error {
				if err := h.Deliveries.Release(ctx, d); err != nil {
					return fmt.Errorf("release delivery %s: %w", d.ID, err)
				}
				return h.waitLeftHeld(ctx, endpointID, d.ID, ep.Timeout()+15*time.Second)
			})
			if err != nil {
				return released, err
			}
			released++
			after = d.ID
			activity.RecordHeartbeat(ctx, after)
		}
		if active, err := h.endpointActive(ctx, endpointID); err != nil || !active {
			return released, err
		}
	}
}

// heartbeating runs fn, recording a heartbeat with details every
// HeartbeatEvery until it returns.
func (h *Health) heartbeating(ctx context.Context, details any, fn func() error) error {
	return heartbeating(ctx, h.HeartbeatEvery, h.Heartbeat, details, fn)
}

// heartbeating runs fn, recording a heartbeat with details every `every`
// (default 5s) through beat (default activity.RecordHeartbeat) until it
// returns.
func heartbeating(ctx context.Context, every time.Duration, beat func(context.Context, ...any), details any, fn func() error) error {
	if every <= 0 {
		every = 5 * time.Second
	}
	if beat == nil {
		beat = activity.RecordHeartbeat
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				beat(ctx, details)
			}
		}
	}()
	err := fn()
	close(done)
	<-stopped
	return err
}

// endpointActive reports whether the endpoint exists and is active.
func (h *Health) endpointActive(ctx context.Context, endpointID string) (bool, error) {
	ep, err := h.Store.GetEndpoint(ctx, endpointID)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return ep.State == models.EndpointActive, nil
}

// waitLeftHeld waits until a released delivery is no longer held, or its
// endpoint is no longer active (paused again, it stays held), or timeout.
func (h *Health) waitLeftHeld(ctx context.Context, endpointID, deliveryID string, timeout time.Duration) error {
	poll := h.PollInterval
	if poll == 0 {
		poll = 5 * time.Millisecond
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		d, err := h.Store.GetDelivery(ctx, deliveryID)
		if err != nil {
			return err
		}
		if d.Status != models.DeliveryHeld {
			return nil
		}
		if active, err := h.endpointActive(ctx, endpointID); err != nil || !active {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
	return nil // a slow receiver does not stop the release; order is kept as far as it can be
}

// ReplayInput selects what Replay redelivers.
type ReplayInput struct {
	EndpointID string    `json:"endpoint_id"`
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
	OnlyFailed bool      `json:"only_failed"`
}

// Replay starts a new run, trigger "replay", for each finished delivery of
// the endpoint in the range, oldest first. Deliveries still under way are
// left to their run. It heartbeats progress and resumes from it.
func (h *Health) Replay(ctx context.Context, in ReplayInput) (int, error) {
	f := models.ReplayFilter{EndpointID: in.EndpointID, Since: in.Since, Until: in.Until, OnlyFailed: in.OnlyFailed}
	n := 0
	after := ""
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &after)
	}
	for {
		page, err := h.Store.ListReplay(ctx, f, after, pageSize)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
		for i := range page {
			d := &page[i]
			ok, err := h.Store.ResetForRedelivery(ctx, d.ID)
			if err != nil {
				return n, err
			}
			if ok {
				if err := h.Deliveries.Redeliver(ctx, d, models.TriggerReplay); err != nil {
					return n, fmt.Errorf("replay delivery %s: %w", d.ID, err)
				}
				n++
			}
			after = d.ID
			activity.RecordHeartbeat(ctx, after)
		}
	}
}
