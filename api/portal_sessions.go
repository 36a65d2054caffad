package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/operations"
)

// portalSessionJSON is a portal session just made. Token is the one-use
// link's secret; URL holds it. Neither is shown again nor logged.
type portalSessionJSON struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	TenantID  string    `json:"tenant_id"`
	ReadOnly  bool      `json:"read_only"`
}

// PortalPath is where a portal link is opened (package ui serves it); the
// link's token is its query parameter "token".
const PortalPath = "/ui/portal"

// createPortalSession: POST /v1/portal-sessions {"tenant_id","ttl","read_only"}
// → 201 with the url of a tenant's portal, for a SaaS to put in an iframe.
// The url opens once: the dashboard exchanges its token for a session
// cookie and redirects to a URL without it.
func (a *API) createPortalSession(c *gin.Context) error {
	var in operations.PortalSessionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	s, err := a.ops.CreatePortalSession(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, portalSessionJSON{
		ID:    s.Session.ID,
		URL:   a.baseURL(c.Request) + PortalPath + "?token=" + url.QueryEscape(s.Token),
		Token: s.Token, ExpiresAt: s.Session.ExpiresAt, TenantID: s.Session.TenantID, ReadOnly: s.Session.ReadOnly,
	})
	return nil
}

// revokePortalSession: DELETE /v1/portal-sessions/{id} → 204. The link no
// longer opens, and a portal opened from it gets 401 from its next request.
func (a *API) revokePortalSession(c *gin.Context) error {
	if err := a.ops.RevokePortalSession(c.Request.Context(), c.Param("id")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// baseURL is HOOKD_PUBLIC_URL, or else the scheme and host the request
// reached hookd at: https when it came over TLS or through a proxy that says
// so (X-Forwarded-Proto).
func (a *API) baseURL(r *http.Request) string {
	if a.public != "" {
		return a.public
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
