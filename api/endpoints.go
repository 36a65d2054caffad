package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/profile"
)

// endpointJSON is an endpoint as the API shows it. The secret appears only
// when it is created (or rotated). Secret headers (SecretHeaders: marked, or
// secret by default) are shown with the value models.RedactedValue.
type endpointJSON struct {
	ID              string            `json:"id"`
	TenantID        string            `json:"tenant_id"`
	URL             string            `json:"url"`
	Description     string            `json:"description"`
	EventTypes      []string          `json:"event_types"`
	Profile         string            `json:"profile"`
	Secret          string            `json:"secret,omitempty"`
	Headers         map[string]string `json:"headers"`
	SecretHeaders   []string          `json:"secret_headers"`
	RetrySchedule   models.Schedule   `json:"retry_schedule"`
	Timeout         string            `json:"timeout"`
	PauseThreshold  int               `json:"pause_threshold"`
	State           string            `json:"state"`
	PausedAt        *time.Time        `json:"paused_at"`
	PauseReason     string            `json:"pause_reason,omitempty"`
	DisabledAt      *time.Time        `json:"disabled_at"`
	DisabledReason  string            `json:"disabled_reason,omitempty"`
	SendTraceparent bool              `json:"send_traceparent"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

func toEndpointJSON(e *models.Endpoint, withSecret bool) endpointJSON {
	out := endpointJSON{
		ID: e.ID, TenantID: e.TenantID, URL: e.URL, Description: e.Description,
		EventTypes: e.EventTypes, Profile: e.Profile, Headers: e.RedactHeaders(e.Headers), SecretHeaders: e.SecretHeaderNames(),
		RetrySchedule: e.RetrySchedule, Timeout: models.FormatDuration(e.Timeout()),
		PauseThreshold: e.PauseThreshold, State: e.State, PausedAt: e.PausedAt,
		PauseReason: e.PauseReason, DisabledAt: e.DisabledAt, DisabledReason: e.DisabledReason,
		SendTraceparent: e.SendTraceparent, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
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

// createEndpoint: POST /v1/endpoints; the answer shows the secret, once.
func (a *API) createEndpoint(c *gin.Context) error {
	var in operations.EndpointInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := a.ops.CreateEndpoint(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toEndpointJSON(e, true))
	return nil
}

// getEndpoint: GET /v1/endpoints/{id}, without its secret.
func (a *API) getEndpoint(c *gin.Context) error {
	e, err := a.ops.GetEndpoint(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toEndpointJSON(e, false))
	return nil
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
	eps, err := a.ops.ListEndpoints(c.Request.Context(), f)
	if err != nil {
		return err
	}
	listPage(c, eps, limit, func(e models.Endpoint) string { return e.ID },
		func(e *models.Endpoint) any { return toEndpointJSON(e, false) })
	return nil
}

// updateEndpoint: PATCH /v1/endpoints/{id} changes only the fields given.
func (a *API) updateEndpoint(c *gin.Context) error {
	var in operations.EndpointInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ep, err := a.ops.UpdateEndpoint(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toEndpointJSON(ep, false))
	return nil
}

// deleteEndpoint: DELETE /v1/endpoints/{id}. Its unfinished deliveries are
// cancelled and their workflows stopped; finished ones stay readable.
func (a *API) deleteEndpoint(c *gin.Context) error {
	if err := a.ops.DeleteEndpoint(c.Request.Context(), c.Param("id")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// endpointSecret: GET /v1/endpoints/{id}/secret — the explicit read of the signing secret.
func (a *API) endpointSecret(c *gin.Context) error {
	s, err := a.ops.RevealSecret(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"endpoint_id": s.EndpointID, "secret": s.Current, "previous_secrets": s.Previous})
	return nil
}

// rotateSecret: POST /v1/endpoints/{id}/rotate-secret {"secret"?, "grace_period"?}.
// The answer shows the new secret, once.
func (a *API) rotateSecret(c *gin.Context) error {
	var in operations.RotateInput
	if err := optionalJSON(c, &in); err != nil {
		return err
	}
	rotated, err := a.ops.RotateSecret(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toEndpointJSON(rotated, true))
	return nil
}

// testEndpoint: POST /v1/endpoints/{id}/test {"event_type"?, "payload"?}
// sends an example event to this endpoint only and answers its delivery.
func (a *API) testEndpoint(c *gin.Context) error {
	var in operations.TestInput
	if err := optionalJSON(c, &in); err != nil {
		return err
	}
	d, err := a.ops.TestEndpoint(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusAccepted, toDeliveryJSON(d))
	return nil
}
