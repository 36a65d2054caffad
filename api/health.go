package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

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

func (a *API) loadEndpoint(c *gin.Context) (*models.Endpoint, error) {
	id := c.Param("id")
	ep, err := a.store.GetEndpoint(c.Request.Context(), id)
	if err != nil {
		return nil, storeError(err, "endpoint", id)
	}
	return ep, nil
}

// optionalJSON decodes a body if there is one; an empty body leaves dst as is.
func optionalJSON(c *gin.Context, dst any) error {
	if !hasBody(c) {
		return nil
	}
	return decodeJSON(c, dst)
}

// hasBody reports whether the request carries a body. When its length is
// not known (chunked), it reads ahead one byte and keeps it for the decoder.
func hasBody(c *gin.Context) bool {
	r := c.Request
	if r.ContentLength >= 0 || r.Body == nil || r.Body == http.NoBody {
		return r.ContentLength > 0
	}
	br := bufio.NewReader(r.Body)
	_, err := br.Peek(1)
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	return !errors.Is(err, io.EOF)
}

// noBody is for the POST routes that take no body (unpause, retry, loading
// a preset): none, or {}, is accepted; anything else is refused with the
// error shape, as the other routes refuse what they do not know: an unknown
// field is 422 naming it, a body that is not one JSON object (null
// included) 400, another Content-Type 415, a body over the limit 413.
func noBody(c *gin.Context) error {
	if !hasBody(c) {
		return nil
	}
	var body *struct{}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body == nil {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: "request body must be a JSON object: send none, or {}"}
	}
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

// retryDelivery: POST /v1/deliveries/{id}/retry (no body, or {}) — one more attempt now,
// outside the schedule. A delivery still under way gets a retry-now signal;
// a finished one gets a new run with a single attempt.
func (a *API) retryDelivery(c *gin.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	id := c.Param("id")
	ctx := c.Request.Context()
	w, err := a.store.LoadDeliveryWork(ctx, id)
	if err != nil {
		return storeError(err, "delivery", id)
	}
	if w.Endpoint.State != models.EndpointActive {
		return &Error{Status: http.StatusConflict, Code: CodeConflict,
			Message: "endpoint " + w.Endpoint.ID + " is " + w.Endpoint.State + "; unpause it first"}
	}
	if !w.Delivery.Terminal() {
		err := a.temporal.SignalWorkflow(ctx, workflows.DeliveryWorkflowID(w.Delivery.EndpointID, w.Delivery.EventID), "", workflows.SignalRetryNow, nil)
		var nf *serviceerror.NotFound
		if err == nil || !errors.As(err, &nf) {
			if err != nil {
				return err
			}
			c.JSON(http.StatusAccepted, toDeliveryJSON(&w.Delivery))
			return nil
		}
	}
	if _, err := a.store.ResetForRedelivery(ctx, w.Delivery.ID); err != nil {
		return err
	}
	if err := workflows.StartDelivery(ctx, a.temporal, &w.Delivery, &w.Endpoint, w.Event.Type, w.Event.TenantID,
		models.TriggerManual, nil, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE); err != nil {
		return err
	}
	d, err := a.store.GetDelivery(ctx, id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusAccepted, toDeliveryJSON(d))
	return nil
}
