package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
	"github.com/hookd/hookd/workflows"
)

// endpointJSON is an endpoint as the API shows it. The secret appears only
// when it is created (or rotated). Secret headers (SecretHeaders: marked, or
// secret by default) are shown with the value models.RedactedValue.
type endpointJSON struct {
	ID             string            `json:"id"`
	TenantID       string            `json:"tenant_id"`
	URL            string            `json:"url"`
	Description    string            `json:"description"`
	EventTypes     []string          `json:"event_types"`
	Profile        string            `json:"profile"`
	Secret         string            `json:"secret,omitempty"`
	Headers        map[string]string `json:"headers"`
	SecretHeaders  []string          `json:"secret_headers"`
	RetrySchedule  models.Schedule   `json:"retry_schedule"`
	Timeout        string            `json:"timeout"`
	PauseThreshold int               `json:"pause_threshold"`
	State          string            `json:"state"`
	PausedAt       *time.Time        `json:"paused_at"`
	PauseReason    string            `json:"pause_reason,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

func toEndpointJSON(e *models.Endpoint, withSecret bool) endpointJSON {
	out := endpointJSON{
		ID: e.ID, TenantID: e.TenantID, URL: e.URL, Description: e.Description,
		EventTypes: e.EventTypes, Profile: e.Profile, Headers: e.RedactHeaders(e.Headers), SecretHeaders: e.SecretHeaderNames(),
		RetrySchedule: e.RetrySchedule, Timeout: models.FormatDuration(e.Timeout()),
		PauseThreshold: e.PauseThreshold, State: e.State, PausedAt: e.PausedAt,
		PauseReason: e.PauseReason, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	if out.RetrySchedule == nil {
		out.RetrySchedule = models.Schedule{}
	}
	if withSecret {
		out.Secret = e.Secret
	}
	return out
}

func (a *API) createEndpoint(c *gin.Context) error {
	var req endpointRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	now := a.now().UTC()
	e := &models.Endpoint{
		ID:             models.NewID("ep"),
		EventTypes:     []string{"*"},
		Profile:        profile.Default,
		RetrySchedule:  append(models.Schedule(nil), models.DefaultSchedule...),
		TimeoutMS:      models.DefaultTimeout.Milliseconds(),
		PauseThreshold: models.DefaultPauseThreshold,
		State:          models.EndpointActive,
		Headers:        map[string]string{},
		SecretHeaders:  []string{},
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if req.URL == nil {
		return invalid("url", "is required")
	}
	if req.TenantID == nil {
		return invalid("tenant_id", "is required")
	}
	if _, err := applyEndpointRequest(e, &req); err != nil {
		return err
	}
	if req.Secret == nil {
		p, _ := profile.Lookup(e.Profile)
		secret, err := p.NewSecret()
		if err != nil {
			return err
		}
		e.Secret = secret
	}
	if err := a.storeNewEndpoint(c.Request.Context(), e); err != nil {
		return err
	}
	// The health workflow; if this fails it is started on first need
	// (signal-with-start), so the endpoint is usable either way.
	if _, err := a.temporal.ExecuteWorkflow(c.Request.Context(), workflows.EndpointWorkflowOptions(e.ID),
		workflows.EndpointHealth, workflows.NewEndpointState(e)); err != nil {
		a.log.Warn("endpoint.workflow_start_failed", "endpoint_id", e.ID, "error", err)
	}
	a.log.Info("endpoint.created", "endpoint_id", e.ID, "tenant_id", e.TenantID, "profile", e.Profile)
	c.JSON(http.StatusCreated, toEndpointJSON(e, true))
	return nil
}

// storeNewEndpoint writes a new endpoint, within the tenant's maximum
// (HOOKD_MAX_ENDPOINTS_PER_TENANT: 409 past it). With HOOKD_ONE_ENDPOINT_PER_TENANT
// it goes through the store's one-per-tenant create (the Vessel routes'
// mechanism: a mark keyed by tenant, written in the endpoint's transaction),
// so of concurrent creates for one tenant exactly one wins; the others, and
// any create for a tenant that has an endpoint, answer 409.
func (a *API) storeNewEndpoint(ctx context.Context, e *models.Endpoint) error {
	if !a.oneEndpointPerTenant {
		err := a.store.CreateEndpointWithin(ctx, e, a.maxEndpointsPerTenant)
		if errors.Is(err, models.ErrTooManyEndpoints) {
			return &Error{Status: http.StatusConflict, Code: CodeConflict, Field: "tenant_id",
				Message: fmt.Sprintf("tenant %s has %d endpoints, the most HOOKD_MAX_ENDPOINTS_PER_TENANT allows; delete one first",
					e.TenantID, a.maxEndpointsPerTenant)}
		}
		return err
	}
	err := a.store.CreateSoleEndpoint(ctx, e)
	if errors.Is(err, models.ErrTenantHasEndpoint) {
		return a.tenantHasEndpoint(ctx, e.TenantID, "tenant_id")
	}
	return err
}

// tenantHasEndpoint is the 409 of a second endpoint for a tenant under
// HOOKD_ONE_ENDPOINT_PER_TENANT, naming the endpoint it has when it can.
func (a *API) tenantHasEndpoint(ctx context.Context, tenant, field string) error {
	msg := "tenant " + tenant + " already has an endpoint (HOOKD_ONE_ENDPOINT_PER_TENANT allows one per tenant); delete it first"
	if eps, err := a.store.ListEndpoints(ctx, models.EndpointFilter{TenantID: tenant, Limit: 1}); err == nil && len(eps) == 1 {
		msg = "tenant " + tenant + " already has the endpoint " + eps[0].ID + " (HOOKD_ONE_ENDPOINT_PER_TENANT allows one per tenant); delete it first"
	}
	return &Error{Status: http.StatusConflict, Code: CodeConflict, Field: field, Message: msg}
}

func (a *API) getEndpoint(c *gin.Context) error {
	id := c.Param("id")
	e, err := a.store.GetEndpoint(c.Request.Context(), id)
	if err != nil {
		return storeError(err, "endpoint", id)
	}
	c.JSON(http.StatusOK, toEndpointJSON(e, false))
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
