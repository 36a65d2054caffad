package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/profile"
)

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
