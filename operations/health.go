package operations

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// HealthStore is what the health operations need of the store, besides endpoints.
type HealthStore interface {
	CountHeld(ctx context.Context, endpointID string) (int64, error)
	CountReplay(ctx context.Context, f models.ReplayFilter) (int64, error)
	EnableEndpoint(ctx context.Context, id string) (bool, error)
}

// Health is an endpoint's health as the store holds it, which the endpoint's
// health workflow keeps in step with its own state.
type Health struct {
	Endpoint *models.Endpoint
	Held     int64 // deliveries held while paused
	// Applied is false when a pause or unpause was sent but the workflow had
	// not applied it yet when the wait ended.
	Applied bool
}

// EndpointHealth reads an endpoint's health.
func (o *Ops) EndpointHealth(ctx context.Context, id string) (Health, error) {
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return Health{}, err
	}
	return o.HealthOf(ctx, ep)
}

// HealthOf is EndpointHealth of an endpoint already loaded.
func (o *Ops) HealthOf(ctx context.Context, ep *models.Endpoint) (Health, error) {
	return o.health(ctx, ep, true)
}

func (o *Ops) health(ctx context.Context, ep *models.Endpoint, applied bool) (Health, error) {
	held, err := o.store.CountHeld(ctx, ep.ID)
	if err != nil {
		return Health{}, err
	}
	return Health{Endpoint: ep, Held: held, Applied: applied}, nil
}

// Pause pauses an endpoint: a signal to its health workflow. It answers
// once the pause is applied, or after a few seconds with Applied false.
func (o *Ops) Pause(ctx context.Context, id, reason string) (Health, error) {
	if len(reason) > 512 {
		return Health{}, invalid("reason", "at most 512 bytes")
	}
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return Health{}, err
	}
	if err := notDisabled(ep, "pause"); err != nil {
		return Health{}, err
	}
	if err := o.engine.SignalEndpoint(ctx, ep, workflows.SignalPause, workflows.PauseSignal{Reason: reason}); err != nil {
		return Health{}, err
	}
	return o.awaitState(ctx, ep.ID, models.EndpointPaused)
}

// Unpause unpauses an endpoint; its held deliveries are then delivered,
// oldest first. It waits for the workflow as Pause does.
func (o *Ops) Unpause(ctx context.Context, id string) (Health, error) {
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return Health{}, err
	}
	if err := notDisabled(ep, "unpause"); err != nil {
		return Health{}, err
	}
	if err := o.engine.SignalEndpoint(ctx, ep, workflows.SignalUnpause, nil); err != nil {
		return Health{}, err
	}
	return o.awaitState(ctx, ep.ID, models.EndpointActive)
}

// notDisabled refuses to pause or unpause a disabled endpoint: its health
// workflow would never reach the state asked for, and only Enable ends the
// disabling.
func notDisabled(ep *models.Endpoint, action string) error {
	if ep.State != models.EndpointDisabled {
		return nil
	}
	return &Error{Kind: Conflict, Message: fmt.Sprintf(
		"endpoint %s is disabled (%s), so it cannot %s; POST /v1/endpoints/%s/enable enables it and releases its held deliveries",
		ep.ID, ep.DisabledReason, action, ep.ID)}
}

// Enable enables an endpoint disabled after its receiver answered 410
// Gone: it is active again with a new count of failures, and its held
// deliveries are delivered, oldest first (an unpause of its health
// workflow). Enabling an endpoint that is not disabled changes nothing but
// that release, which finds nothing or what an earlier release missed.
func (o *Ops) Enable(ctx context.Context, id string) (Health, error) {
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return Health{}, err
	}
	if _, err := o.store.EnableEndpoint(ctx, ep.ID); err != nil {
		return Health{}, storeError(err, "endpoint", id)
	}
	if err := o.engine.SignalEndpoint(ctx, ep, workflows.SignalUnpause, nil); err != nil {
		return Health{}, err
	}
	return o.awaitState(ctx, ep.ID, models.EndpointActive)
}

// AwaitTimeout bounds how long Pause and Unpause wait for the workflow.
const AwaitTimeout = 5 * time.Second

// awaitState waits (AwaitTimeout at most) until the endpoint workflow has
// applied a signal, then answers the endpoint's health.
func (o *Ops) awaitState(ctx context.Context, id, want string) (Health, error) {
	wait, cancel := context.WithTimeout(ctx, AwaitTimeout)
	defer cancel()
	for {
		// Read with the request's context: the wait running out while a
		// read is under way is an answer (not yet applied), not an error.
		ep, err := o.store.GetEndpoint(ctx, id)
		if err != nil {
			return Health{}, storeError(err, "endpoint", id)
		}
		if ep.State == want {
			return o.health(ctx, ep, true)
		}
		select {
		case <-wait.Done():
			return o.health(ctx, ep, false)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ReplayInput selects an endpoint's deliveries to redeliver: those finished
// and created in [since, until) (RFC 3339; until defaults to now), only the
// failed ones if OnlyFailed. DryRun only counts them.
type ReplayInput struct {
	Since      *string `json:"since"`
	Until      *string `json:"until"`
	OnlyFailed bool    `json:"only_failed"`
	DryRun     bool    `json:"dry_run"`
}

// Replayed is what Replay selected (and, unless DryRun, asked to redeliver).
type Replayed struct {
	EndpointID   string
	Since, Until time.Time
	OnlyFailed   bool
	DryRun       bool
	Deliveries   int64
}

// Replay redelivers an endpoint's finished deliveries as new runs: a signal
// to its health workflow, which resets and starts each. With DryRun it only
// counts them.
func (o *Ops) Replay(ctx context.Context, id string, in ReplayInput) (Replayed, error) {
	since, until, err := o.replayRange(in)
	if err != nil {
		return Replayed{}, err
	}
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return Replayed{}, err
	}
	n, err := o.store.CountReplay(ctx, models.ReplayFilter{EndpointID: ep.ID, Since: since, Until: until, OnlyFailed: in.OnlyFailed})
	if err != nil {
		return Replayed{}, err
	}
	if !in.DryRun {
		err := o.engine.SignalEndpoint(ctx, ep, workflows.SignalReplay,
			workflows.ReplaySignal{Since: since, Until: until, OnlyFailed: in.OnlyFailed})
		if err != nil {
			return Replayed{}, err
		}
	}
	return Replayed{EndpointID: ep.ID, Since: since, Until: until, OnlyFailed: in.OnlyFailed, DryRun: in.DryRun, Deliveries: n}, nil
}

// replayRange reads and checks a replay's [since, until).
func (o *Ops) replayRange(in ReplayInput) (since, until time.Time, err error) {
	if in.Since == nil {
		return since, until, invalid("since", "is required (RFC 3339)")
	}
	if since, err = parseTime("since", in.Since); err != nil {
		return since, until, err
	}
	if until, err = parseTime("until", in.Until); err != nil {
		return since, until, err
	}
	if until.IsZero() {
		until = o.now().UTC()
	}
	if !until.After(since) {
		return since, until, invalid("until", "must be after since")
	}
	return since, until, nil
}

// parseTime reads an optional RFC 3339 time (zero when absent) in UTC.
func parseTime(field string, v *string) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return time.Time{}, invalid(field, "must be an RFC 3339 time like \"2024-05-01T12:00:00Z\"")
	}
	return t.UTC(), nil
}
