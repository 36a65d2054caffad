package api

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
	"github.com/hookd/hookd/workflows"
)

// The Vessel compatibility routes: Vessel's rules for managing webhooks, as
// its webhook documentation states them. One webhook per connection,
// created, read and deleted by connection, with a webhookId the caller keeps.
//
//	GET    /v1/vessel/webhook?connectionId=…   (or ?webhookId=…)
//	POST   /v1/vessel/webhook  {"connectionId":…, "accessToken":…?, "webhook":{"webhookUrl":…}}
//	DELETE /v1/vessel/webhook?webhookId=…      (or ?connectionId=…, or the same as a JSON body)
//
// A webhook is a regular endpoint: tenant = connectionId, profile vessel,
// event types ["*"], default schedule; webhookId is its endpoint id, so the
// regular routes (health, pause, replay, deliveries) work on it too. The
// accessToken, when given, is the secret the signature is computed with, so a
// receiver written for Vessel keeps using the connection's access token;
// otherwise one is generated and answered once, as "secret".

// vesselWebhookRequest is the body of POST /v1/vessel/webhook.
type vesselWebhookRequest struct {
	ConnectionID *string `json:"connectionId"`
	AccessToken  *string `json:"accessToken"`
	Webhook      *struct {
		WebhookURL *string `json:"webhookUrl"`
	} `json:"webhook"`
}

// vesselWebhookJSON is a webhook as the compatibility routes show it, always
// wrapped as {"webhook": …} like Vessel's answers.
type vesselWebhookJSON struct {
	WebhookID    string    `json:"webhookId"`
	WebhookURL   string    `json:"webhookUrl"`
	ConnectionID string    `json:"connectionId"`
	Secret       string    `json:"secret,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
}

func toVesselWebhookJSON(e *models.Endpoint, withSecret bool) gin.H {
	w := vesselWebhookJSON{WebhookID: e.ID, WebhookURL: e.URL, ConnectionID: e.TenantID, CreatedAt: e.CreatedAt}
	if withSecret {
		w.Secret = e.Secret
	}
	return gin.H{"webhook": w}
}

func (a *API) createVesselWebhook(c *gin.Context) error {
	var req vesselWebhookRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ConnectionID == nil || *req.ConnectionID == "" {
		return invalid("connectionId", "is required")
	}
	if !tenantPattern.MatchString(*req.ConnectionID) {
		return invalid("connectionId", "must be 1 to 255 printable characters without spaces")
	}
	if req.Webhook == nil || req.Webhook.WebhookURL == nil {
		return invalid("webhook.webhookUrl", "is required")
	}
	if err := validateURL(*req.Webhook.WebhookURL); err != nil {
		return invalid("webhook.webhookUrl", "%s", err)
	}
	vessel, err := profile.Lookup(profile.Vessel{}.Name())
	if err != nil {
		return err
	}
	var secret string
	if req.AccessToken != nil {
		if err := vessel.ValidateSecret(*req.AccessToken); err != nil {
			return invalid("accessToken", "%s", err)
		}
		secret = *req.AccessToken
	} else if secret, err = vessel.NewSecret(); err != nil {
		return err
	}

	now := a.now().UTC()
	e := &models.Endpoint{
		ID:             models.NewID("ep"),
		TenantID:       *req.ConnectionID,
		URL:            *req.Webhook.WebhookURL,
		Description:    "Vessel webhook of connection " + *req.ConnectionID,
		EventTypes:     []string{"*"},
		Profile:        vessel.Name(),
		Secret:         secret,
		Headers:        map[string]string{},
		RetrySchedule:  append(models.Schedule(nil), models.DefaultSchedule...),
		TimeoutMS:      models.DefaultTimeout.Milliseconds(),
		PauseThreshold: models.DefaultPauseThreshold,
		State:          models.EndpointActive,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	ctx := c.Request.Context()
	if a.oneEndpointPerTenant {
		// The same mark, and the tenant's other endpoints count too.
		err = a.store.CreateSoleEndpoint(ctx, e)
		if errors.Is(err, models.ErrTenantHasEndpoint) {
			if _, werr := a.store.GetVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: e.TenantID}); werr == nil {
				err = models.ErrVesselWebhookExists
			} else {
				return a.tenantHasEndpoint(ctx, e.TenantID, "connectionId")
			}
		}
	} else {
		err = a.store.CreateVesselWebhook(ctx, e)
	}
	if errors.Is(err, models.ErrVesselWebhookExists) {
		msg := "connection " + e.TenantID + " already has a webhook (one per connection); delete it first"
		if prior, err := a.store.GetVesselWebhook(ctx, models.VesselWebhookFilter{ConnectionID: e.TenantID}); err == nil {
			msg = "connection " + e.TenantID + " already has the webhook " + prior.ID + " (one per connection); delete it first"
		}
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Field: "connectionId", Message: msg}
	}
	if err != nil {
		return err
	}
	// As for any endpoint: if this start fails, the health workflow is
	// started on first need (signal-with-start).
	if _, err := a.temporal.ExecuteWorkflow(ctx, workflows.EndpointWorkflowOptions(e.ID),
		workflows.EndpointHealth, workflows.NewEndpointState(e)); err != nil {
		a.log.Warn("endpoint.workflow_start_failed", "endpoint_id", e.ID, "error", err)
	}
	a.log.Info("vessel.webhook_created", "endpoint_id", e.ID, "tenant_id", e.TenantID)
	c.JSON(http.StatusCreated, toVesselWebhookJSON(e, true))
	return nil
}

func (a *API) getVesselWebhook(c *gin.Context) error {
	f, err := vesselFilterFromQuery(c)
	if err != nil {
		return err
	}
	e, err := a.store.GetVesselWebhook(c.Request.Context(), f)
	if err != nil {
		return vesselStoreError(err, f)
	}
	c.JSON(http.StatusOK, toVesselWebhookJSON(e, false))
	return nil
}

// deleteVesselWebhook deletes the webhook and its endpoint, cancels the
// endpoint's unfinished deliveries and terminates their workflows and the
// endpoint's health workflow (best effort).
func (a *API) deleteVesselWebhook(c *gin.Context) error {
	f, err := vesselFilterFromQuery(c)
	if err != nil {
		return err
	}
	if c.Request.ContentLength != 0 {
		var body struct {
			ConnectionID string `json:"connectionId"`
			WebhookID    string `json:"webhookId"`
		}
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
		for _, p := range []struct{ name, query, body string }{
			{"connectionId", f.ConnectionID, body.ConnectionID}, {"webhookId", f.EndpointID, body.WebhookID},
		} {
			if p.query != "" && p.body != "" && p.query != p.body {
				return invalid(p.name, "the query and the body name different webhooks")
			}
			if p.body != "" && !tenantPattern.MatchString(p.body) {
				return invalid(p.name, "must be 1 to 255 printable characters without spaces")
			}
		}
		f.ConnectionID = cmp.Or(f.ConnectionID, body.ConnectionID)
		f.EndpointID = cmp.Or(f.EndpointID, body.WebhookID)
	}
	if f.ConnectionID == "" && f.EndpointID == "" {
		return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: "webhookId",
			Message: "webhookId: a webhookId or a connectionId is required"}
	}
	ctx := c.Request.Context()
	e, open, err := a.store.DeleteVesselWebhook(ctx, f)
	if err != nil {
		return vesselStoreError(err, f)
	}
	a.stopWorkflows(ctx, e.ID, open)
	a.log.Info("vessel.webhook_deleted", "endpoint_id", e.ID, "tenant_id", e.TenantID, "cancelled_deliveries", len(open))
	c.JSON(http.StatusOK, toVesselWebhookJSON(e, false))
	return nil
}

// vesselFilterFromQuery reads connectionId and webhookId from the query. For
// GET one of them is required; DELETE may name them in a body instead.
func vesselFilterFromQuery(c *gin.Context) (models.VesselWebhookFilter, error) {
	f := models.VesselWebhookFilter{ConnectionID: c.Query("connectionId"), EndpointID: c.Query("webhookId")}
	for _, q := range []struct{ name, val string }{{"connectionId", f.ConnectionID}, {"webhookId", f.EndpointID}} {
		if q.val != "" && !tenantPattern.MatchString(q.val) {
			return f, &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: q.name,
				Message: q.name + ": must be 1 to 255 printable characters without spaces"}
		}
	}
	if c.Request.Method == http.MethodGet && f.ConnectionID == "" && f.EndpointID == "" {
		return f, &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: "connectionId",
			Message: "connectionId: a connectionId or a webhookId query parameter is required"}
	}
	return f, nil
}

func vesselStoreError(err error, f models.VesselWebhookFilter) error {
	if !errors.Is(err, models.ErrNotFound) {
		return err
	}
	var what []string
	if f.ConnectionID != "" {
		what = append(what, "of connection "+f.ConnectionID)
	}
	if f.EndpointID != "" {
		what = append(what, "with webhookId "+f.EndpointID)
	}
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no Vessel webhook " + strings.Join(what, " and ")}
}
