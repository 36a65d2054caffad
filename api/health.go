package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/operations"
)

type healthJSON struct {
	EndpointID          string     `json:"endpoint_id"`
	State               string     `json:"state"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	PauseThreshold      int        `json:"pause_threshold"`
	HeldCount           int64      `json:"held_count"`
	PausedAt            *time.Time `json:"paused_at"`
	PauseReason         string     `json:"pause_reason,omitempty"`
	DisabledAt          *time.Time `json:"disabled_at"`
	DisabledReason      string     `json:"disabled_reason,omitempty"`
}

// endpointHealth: GET /v1/endpoints/{id}/health. It reads the store, which
// the endpoint's health workflow keeps in step with its own state (the
// workflow's health query answers the same).
func (a *API) endpointHealth(c *gin.Context) error {
	hl, err := a.ops.EndpointHealth(c.Request.Context(), c.Param("id"))
	return writeHealth(c, hl, err)
}

// writeHealth answers a health: 200 when applied, 202 if the endpoint's
// workflow has not got to the signal yet.
func writeHealth(c *gin.Context, hl operations.Health, err error) error {
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !hl.Applied {
		status = http.StatusAccepted
	}
	ep := hl.Endpoint
	c.JSON(status, healthJSON{
		EndpointID: ep.ID, State: ep.State, ConsecutiveFailures: ep.ConsecutiveFailures,
		PauseThreshold: ep.PauseThreshold, HeldCount: hl.Held, PausedAt: ep.PausedAt, PauseReason: ep.PauseReason,
		DisabledAt: ep.DisabledAt, DisabledReason: ep.DisabledReason,
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
	hl, err := a.ops.Pause(c.Request.Context(), c.Param("id"), req.Reason)
	return writeHealth(c, hl, err)
}

// unpauseEndpoint: POST /v1/endpoints/{id}/unpause (no body, or {}). Held
// deliveries are then delivered, oldest first.
func (a *API) unpauseEndpoint(c *gin.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	hl, err := a.ops.Unpause(c.Request.Context(), c.Param("id"))
	return writeHealth(c, hl, err)
}

// enableEndpoint: POST /v1/endpoints/{id}/enable (no body, or {}). An
// endpoint disabled after its receiver answered 410 Gone is active again;
// its held deliveries are then delivered, oldest first.
func (a *API) enableEndpoint(c *gin.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	hl, err := a.ops.Enable(c.Request.Context(), c.Param("id"))
	return writeHealth(c, hl, err)
}

// replayEndpoint: POST /v1/endpoints/{id}/replay {"since","until","only_failed","dry_run"}.
// Redelivers the endpoint's finished deliveries created in [since, until) as
// new runs (202); with dry_run it only counts them (200).
func (a *API) replayEndpoint(c *gin.Context) error {
	var in operations.ReplayInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := a.ops.Replay(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if r.DryRun {
		status = http.StatusOK
	}
	c.JSON(status, gin.H{"endpoint_id": r.EndpointID, "since": r.Since, "until": r.Until, "only_failed": r.OnlyFailed,
		"dry_run": r.DryRun, "deliveries": r.Deliveries})
	return nil
}
