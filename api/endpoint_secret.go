package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
	"github.com/hookd/hookd/workflows"
)

// listEndpoints: GET /v1/endpoints?tenant_id=&state=&profile=&limit=&cursor=
func (a *API) listEndpoints(c *gin.Context) error {
	limit, cursor, err := page(c, "ep_")
	if err != nil {
		return err
	}
	f := models.EndpointFilter{TenantID: c.Query("tenant_id"), State: c.Query("state"), Profile: c.Query("profile"), After: cursor, Limit: limit + 1}
	switch f.State {
	case "", models.EndpointActive, models.EndpointPaused, models.EndpointDisabled:
	default:
		return queryError("state", "must be active, paused or disabled")
	}
	if f.Profile != "" {
		if _, err := profile.Lookup(f.Profile); err != nil {
			return queryError("profile", err.Error())
		}
	}
	eps, err := a.store.ListEndpoints(c.Request.Context(), f)
	if err != nil {
		return err
	}
	listPage(c, eps, limit, func(e models.Endpoint) string { return e.ID },
		func(e *models.Endpoint) any { return toEndpointJSON(e, false) })
	return nil
}

// updateEndpoint: PATCH /v1/endpoints/{id} changes only the fields given.
// tenant_id cannot change (it would move the endpoint's history). A
// pause_threshold given is passed on to the endpoint's health workflow.
func (a *API) updateEndpoint(c *gin.Context) error {
	var req endpointRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ep, err := a.loadEndpoint(c)
	if err != nil {
		return err
	}
	if req.TenantID != nil && *req.TenantID != ep.TenantID {
		return invalid("tenant_id", "cannot be changed; create an endpoint for the other tenant")
	}
	if req.Profile != nil && req.Secret == nil && *req.Profile != ep.Profile {
		p, err := profile.Lookup(*req.Profile)
		if err != nil {
			return invalid("profile", "%s", err)
		}
		if p.ValidateSecret(ep.Secret) != nil {
			return invalid("secret", "the current secret does not suit profile %s; send a new secret with the profile change", *req.Profile)
		}
	}
	columns, err := applyEndpointRequest(ep, &req)
	if err != nil {
		return err
	}
	if ep, err = a.store.UpdateEndpoint(c.Request.Context(), ep, columns...); err != nil {
		return storeError(err, "endpoint", c.Param("id"))
	}
	if req.PauseThreshold != nil {
		// The health workflow reads its threshold again from the store, so
		// its health query agrees with REST and the new threshold counts at
		// once. Sent whenever the field is given, so retrying a PATCH whose
		// signal failed sends it again.
		if err := workflows.SignalEndpoint(c.Request.Context(), a.temporal, ep, workflows.SignalSettings, nil); err != nil {
			return err
		}
	}
	c.JSON(http.StatusOK, toEndpointJSON(ep, false))
	return nil
}

// deleteEndpoint: DELETE /v1/endpoints/{id}. Its unfinished deliveries are
// cancelled and their workflows stopped, and its health workflow ends.
// Finished deliveries and attempts stay readable.
func (a *API) deleteEndpoint(c *gin.Context) error {
	id := c.Param("id")
	ctx := c.Request.Context()
	open, err := a.store.DeleteEndpoint(ctx, id)
	if err != nil {
		return storeError(err, "endpoint", id)
	}
	a.stopWorkflows(ctx, id, open)
	a.log.Info("endpoint.deleted", "endpoint_id", id, "cancelled_deliveries", len(open))
	c.Status(http.StatusNoContent)
	return nil
}

// stopWorkflows terminates the workflows of a deleted endpoint. It is best
// effort: a delivery workflow that is missed finds its endpoint gone at its
// next attempt and ends as cancelled.
func (a *API) stopWorkflows(ctx context.Context, endpointID string, open []models.Delivery) {
	const reason = "endpoint deleted"
	ids := []string{workflows.EndpointWorkflowID(endpointID)}
	for _, d := range open {
		ids = append(ids, workflows.DeliveryWorkflowID(d.EndpointID, d.EventID))
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, startParallelism)
	for _, wid := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := a.temporal.TerminateWorkflow(ctx, wid, "", reason); err != nil && !isNotFound(err) {
				a.log.Warn("endpoint.stop_workflow_failed", "workflow_id", wid, "error", err)
			}
		}()
	}
	wg.Wait()
}

// endpointSecret: GET /v1/endpoints/{id}/secret — the explicit read of the signing secret.
func (a *API) endpointSecret(c *gin.Context) error {
	ep, err := a.loadEndpoint(c)
	if err != nil {
		return err
	}
	current, previous := ep.Keys(a.now())
	if previous == nil {
		previous = []string{}
	}
	c.JSON(http.StatusOK, gin.H{"endpoint_id": ep.ID, "secret": current, "previous_secrets": previous})
	return nil
}

// maxGrace bounds how long a rotated-out secret keeps signing.
const maxGrace = 7 * 24 * time.Hour

// rotateSecret: POST /v1/endpoints/{id}/rotate-secret {"secret"?, "grace_period"?}.
// The new secret signs at once; during the grace period (default 24h) the
// standard profile also signs with the old one, so receivers can switch.
func (a *API) rotateSecret(c *gin.Context) error {
	var req struct {
		Secret      *string `json:"secret"`
		GracePeriod *string `json:"grace_period"`
	}
	if err := optionalJSON(c, &req); err != nil {
		return err
	}
	grace := 24 * time.Hour
	if req.GracePeriod != nil {
		d, err := time.ParseDuration(*req.GracePeriod)
		if err != nil || d < 0 || d > maxGrace {
			return invalid("grace_period", "must be a duration from 0s to 168h, like \"24h\"")
		}
		grace = d
	}
	ep, err := a.loadEndpoint(c)
	if err != nil {
		return err
	}
	p, err := profile.Lookup(ep.Profile)
	if err != nil {
		return err
	}
	var next string
	if req.Secret != nil {
		if err := p.ValidateSecret(*req.Secret); err != nil {
			return invalid("secret", "%s", err)
		}
		next = *req.Secret
	} else if next, err = p.NewSecret(); err != nil {
		return err
	}
	rotated, err := a.store.RotateSecret(c.Request.Context(), ep.ID, next, grace, a.now())
	if err != nil {
		return storeError(err, "endpoint", ep.ID)
	}
	a.log.Info("endpoint.secret_rotated", "endpoint_id", ep.ID, "grace_period", grace.String())
	c.JSON(http.StatusOK, toEndpointJSON(rotated, true))
	return nil
}

// testEndpoint: POST /v1/endpoints/{id}/test {"event_type"?, "payload"?}
// sends an example event to this endpoint only and answers its delivery.
func (a *API) testEndpoint(c *gin.Context) error {
	var req struct {
		EventType string         `json:"event_type"`
		Payload   map[string]any `json:"payload"`
	}
	if err := optionalJSON(c, &req); err != nil {
		return err
	}
	if req.EventType == "" {
		req.EventType = "hookd.test"
	}
	if len(req.EventType) > 255 || !eventTypePattern.MatchString(req.EventType) {
		return invalid("event_type", "must be dot-separated words, like \"lead.created\"")
	}
	ep, err := a.loadEndpoint(c)
	if err != nil {
		return err
	}
	payload := req.Payload
	if payload == nil {
		payload = map[string]any{"test": true, "message": "a test event sent by hookd"}
	}
	body, err := marshalPure(payload)
	if err != nil {
		return invalid("payload", "is not a JSON object")
	}
	in, err := a.ingest(c.Request.Context(), ingestRequest{
		Type: req.EventType, TenantID: ep.TenantID, Payload: body,
		IdempotencyKey: models.NewID("test"), Endpoints: []models.Endpoint{*ep},
	})
	if err != nil {
		return err
	}
	if len(in.Deliveries) != 1 {
		return errors.New("test event produced no delivery")
	}
	c.JSON(http.StatusAccepted, toDeliveryJSON(&in.Deliveries[0]))
	return nil
}
