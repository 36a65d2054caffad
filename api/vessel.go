package api

import (
	"cmp"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
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

// createVesselWebhook: POST /v1/vessel/webhook; the answer shows the secret, once.
func (a *API) createVesselWebhook(c *gin.Context) error {
	var in operations.VesselWebhookInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := a.ops.CreateVesselWebhook(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toVesselWebhookJSON(e, true))
	return nil
}

func (a *API) getVesselWebhook(c *gin.Context) error {
	f, err := vesselFilterFromQuery(c)
	if err != nil {
		return err
	}
	e, err := a.ops.GetVesselWebhook(c.Request.Context(), f)
	if err != nil {
		return err
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
			{"connectionId", f.ConnectionID, body.ConnectionID}, {"webhookId", f.WebhookID, body.WebhookID},
		} {
			if p.query != "" && p.body != "" && p.query != p.body {
				return invalid(p.name, "the query and the body name different webhooks")
			}
			if p.body != "" && !operations.IsToken(p.body) {
				return invalid(p.name, "must be 1 to 255 printable characters without spaces")
			}
		}
		f.ConnectionID = cmp.Or(f.ConnectionID, body.ConnectionID)
		f.WebhookID = cmp.Or(f.WebhookID, body.WebhookID)
	}
	if f.ConnectionID == "" && f.WebhookID == "" {
		return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: "webhookId",
			Message: "webhookId: a webhookId or a connectionId is required"}
	}
	e, err := a.ops.DeleteVesselWebhook(c.Request.Context(), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toVesselWebhookJSON(e, false))
	return nil
}

// vesselFilterFromQuery reads connectionId and webhookId from the query. For
// GET one of them is required; DELETE may name them in a body instead.
func vesselFilterFromQuery(c *gin.Context) (operations.VesselWebhookFilter, error) {
	f := operations.VesselWebhookFilter{ConnectionID: c.Query("connectionId"), WebhookID: c.Query("webhookId")}
	for _, q := range []struct{ name, val string }{{"connectionId", f.ConnectionID}, {"webhookId", f.WebhookID}} {
		if q.val != "" && !operations.IsToken(q.val) {
			return f, &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: q.name,
				Message: q.name + ": must be 1 to 255 printable characters without spaces"}
		}
	}
	if c.Request.Method == http.MethodGet && f.ConnectionID == "" && f.WebhookID == "" {
		return f, &Error{Status: http.StatusBadRequest, Code: CodeValidation, Field: "connectionId",
			Message: "connectionId: a connectionId or a webhookId query parameter is required"}
	}
	return f, nil
}
