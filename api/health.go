package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

type healthJSON struct {
	EndpointID          string     `json:"endpoint_id"`
	State               string     `json:"state"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	PauseThreshold      int        `json:"pause_threshold"`
	HeldCount           int64      `json:"held_count"`
	PausedAt            *time.Time `json:"paused_at"`
	PauseReason         string     `json:"pause_reason,omitempty"`
}

// endpointHealth: GET /v1/endpoints/{id}/health. It reads the store, which
// the endpoint's health workflow keeps in step with its own state (the
// workflow's health query answers the same).
func (a *API) endpointHealth(c *gin.Context) error {
	ep, err := a.loadEndpoint(c)
	if err != nil {
		return err
	}
	return a.writeHealth(c, ep, http.StatusOK)
}

func (a *API) writeHealth(c *gin.Context, ep *models.Endpoint, status int) error {
	held, err := a.store.CountHeld(c.Request.Context(), ep.ID)
	if err != nil {
		return err
	}
	c.JSON(status, healthJSON{
		EndpointID: ep.ID, State: ep.State, ConsecutiveFailures: ep.ConsecutiveFailures,
		PauseThreshold: ep.PauseThreshold, HeldCount: held, PausedAt: ep.PausedAt, PauseReason: ep.PauseReason,
	})
	return nil
}

// pauseEndpoint: POST /v1/endpoints/{id}/pause {"reason": "…"}. The pause is
// a signal to the endpoint's workflow; the answer comes once it is applied.
func (a *API) pauseEndpoint(c *gin.Context) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := optionalJSON(c, &req); err != nil {
		return err
	}
	if len(req.Reason) > 512 {
		return invalid("reason", "at most 512 bytes")
	}
	ep, err := a.loadEndpoint(c)
	if err != nil {
		return err
	}
	if err := workflows.SignalEndpoint(c.Request.Context(), a.temporal, ep, workflows.SignalPause, workflows.PauseSignal{Reason: req.Reason}); err != nil {
		return err
	}
	return a.awaitState(c, ep.ID, models.EndpointPaused)
}

// unpauseEndpoint: POST /v1/endpoints/{id}/unpause (no body, or {}). Held
// deliveries are then delivered, oldest first.
func (a *API) unpauseEndpoint(c *gin.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	ep, err := a.loadEndpoint(c)
	if err != nil {
		return err
	}
	if err := workflows.SignalEndpoint(c.Request.Context(), a.temporal, ep, workflows.SignalUnpause, nil); err != nil {
		return err
	}
	return a.awaitState(c, ep.ID, models.EndpointActive)
}

// awaitState waits (a few seconds at most) until the endpoint workflow has
// applied a signal, then answers the endpoint's health: 200 when applied,
// 202 if the workflow has not got to it yet.
func (a *API) awaitState(c *gin.Context, id, want string) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	for {
		ep, err := a.store.GetEndpoint(ctx, id)
		if err != nil {
			return storeError(err, "endpoint", id)
		}
		if ep.State == want {
			return a.writeHealth(c, ep, http.StatusOK)
		}
		select {
		case <-ctx.Done():
			return a.writeHealth(c, ep, http.StatusAccepted)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// replayEndpoint: POST /v1/endpoints/{id}/replay {"since","until","only_failed","dry_run"}.
// Redelivers the endpoint's finished deliveries created in [since, until) as
// new runs; with dry_run it only counts them.
func (a *API) replayEndpoint(c *gin.Context) error {
	var req struct {
		Since      *string `json:"since"`
		Until      *string `json:"until"`
		OnlyFailed bool    `json:"only_failed"`
		DryRun     bool    `json:"dry_run"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var since, until time.Time
	if req.Since == nil {
		return invalid("since", "is required (RFC 3339)")
	}
	for _, f := range []struct {
		name string
		val  *string
		dst  *time.Time
	}{{"since", req.Since, &since}, {"until", req.Until, &until}} {
		if f.val == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, *f.val)
		if err != nil {
			return invalid(f.name, "must be an RFC 3339 time like \"2024-05-01T12:00:00Z\"")
		}
		*f.dst = t.UTC()
	}
	if until.IsZero() {
		until = a.now().UTC()
	}
	if !until.After(since) {
		return invalid("until", "must be after since")
	}
	ep, err := a.loadEndpoint(c)
	if err != nil {
		return err
	}
	n, err := a.store.CountReplay(c.Request.Context(), models.ReplayFilter{EndpointID: ep.ID, Since: since, Until: until, OnlyFailed: req.OnlyFailed})
	if err != nil {
		return err
	}
	if !req.DryRun {
		err := workflows.SignalEndpoint(c.Request.Context(), a.temporal, ep, workflows.SignalReplay,
			workflows.ReplaySignal{Since: since, Until: until, OnlyFailed: req.OnlyFailed})
		if err != nil {
			return err
		}
	}
	status := http.StatusAccepted
	if req.DryRun {
		status = http.StatusOK
	}
	c.JSON(status, gin.H{"endpoint_id": ep.ID, "since": since, "until": until, "only_failed": req.OnlyFailed,
		"dry_run": req.DryRun, "deliveries": n})
	return nil
}
