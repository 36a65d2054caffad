// Package api is hookd's REST API (Gin, JSON, bearer API keys). Each route
// decodes its request, calls one of hookd's operations (package operations)
// and renders the answer; it never stores, starts workflows or delivers by
// itself.
package api

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/apikey"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/operations"
)

// MaxBodyBytes bounds every request body (events included): 1 MiB.
const MaxBodyBytes = 1 << 20

// Deps is everything the API is built from.
type Deps struct {
	// Ops runs what every route asks for.
	Ops     *operations.Ops
	APIKeys []string
	Logger  *slog.Logger
	// Metrics, when set, is served at /metrics.
	Metrics *metrics.Metrics
	// PublicURL (HOOKD_PUBLIC_URL), when set, is the base of the portal
	// links handed out; otherwise each request's own scheme and Host.
	PublicURL string
	// Tracing, when set, is the middleware that makes each request's
	// server span (tracing.Provider.Middleware); nil when tracing is off.
	Tracing gin.HandlerFunc
}

// API holds the route handlers' dependencies.
type API struct {
	ops     *operations.Ops
	keys    *apikey.Set
	log     *slog.Logger
	metrics *metrics.Metrics
	public  string
}

// New builds the whole route table.
func New(d Deps) http.Handler {
	a := &API{ops: d.Ops, log: d.Logger, metrics: d.Metrics, keys: apikey.New(d.APIKeys), public: d.PublicURL}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if d.Tracing != nil {
		// First, so the span covers the whole request, a recovered panic too.
		r.Use(d.Tracing)
	}
	r.Use(gin.Recovery(), a.limitBody, a.renderErrors)
	r.NoRoute(h(func(c *gin.Context) error {
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no route " + c.Request.Method + " " + c.Request.URL.Path}
	}))
	r.NoMethod(h(func(c *gin.Context) error {
		return &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethod, Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path}
	}))
	a.routes(r)
	return r
}

// routes is the route table: every route hookd answers, and the file of its handler.
func (a *API) routes(r *gin.Engine) {
	// Without an API key: probes.go, openapi.go.
	r.GET("/healthz", a.healthz)
	r.GET("/readyz", h(a.readyz))
	r.GET("/metrics", a.serveMetrics)
	r.GET("/v1/openapi.json", h(a.openapi))

	v1 := r.Group("/v1", h(a.authenticate))
	// Endpoints and their secret: endpoints.go.
	v1.POST("/endpoints", h(a.createEndpoint))
	v1.GET("/endpoints", strictQuery("tenant_id", "state", "profile", "limit", "cursor"), h(a.listEndpoints))
	v1.GET("/endpoints/:id", h(a.getEndpoint))
	v1.PATCH("/endpoints/:id", h(a.updateEndpoint))
	v1.DELETE("/endpoints/:id", h(a.deleteEndpoint))
	v1.GET("/endpoints/:id/secret", h(a.endpointSecret))
	v1.POST("/endpoints/:id/rotate-secret", h(a.rotateSecret))
	v1.POST("/endpoints/:id/test", h(a.testEndpoint))
	// An endpoint's health, held by its health workflow: health.go.
	v1.GET("/endpoints/:id/health", h(a.endpointHealth))
	v1.GET("/endpoints/:id/stats", strictQuery("window"), h(a.endpointStats)) // stats.go
	v1.POST("/endpoints/:id/pause", h(a.pauseEndpoint))
	v1.POST("/endpoints/:id/unpause", h(a.unpauseEndpoint))
	v1.POST("/endpoints/:id/enable", h(a.enableEndpoint))
	v1.POST("/endpoints/:id/replay", h(a.replayEndpoint))
	// Events: events.go.
	v1.POST("/events", h(a.createEvent))
	v1.POST("/events/batch", h(a.createEventBatch))
	v1.GET("/events", strictQuery("tenant_id", "type", "since", "until", "limit", "cursor"), h(a.listEvents))
	v1.GET("/events/:id", strictQuery("limit", "cursor"), h(a.getEvent))
	// Event types: event_types.go.
	v1.GET("/event-types", strictQuery("limit", "cursor"), h(a.listEventTypes))
	v1.POST("/event-types", h(a.createEventType))
	v1.POST("/event-types/presets/:profile", h(a.loadPreset))
	// Deliveries and their retry: deliveries.go.
	v1.GET("/deliveries", strictQuery("endpoint_id", "event_id", "status", "tenant_id", "event_type", "since", "until", "limit", "cursor"), h(a.listDeliveries))
	v1.GET("/deliveries/:id", h(a.getDelivery))
	v1.POST("/deliveries/:id/retry", h(a.retryDelivery))
	// Tenants' portal sessions for the dashboard: portal_sessions.go.
	v1.POST("/portal-sessions", h(a.createPortalSession))
	v1.DELETE("/portal-sessions/:id", h(a.revokePortalSession))
	// Vessel compatibility, one webhook per connection: vessel.go.
	v1.GET("/vessel/webhook", strictQuery("connectionId", "webhookId"), h(a.getVesselWebhook))
	v1.POST("/vessel/webhook", h(a.createVesselWebhook))
	v1.DELETE("/vessel/webhook", strictQuery("connectionId", "webhookId"), h(a.deleteVesselWebhook))
}

func (a *API) limitBody(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	c.Next()
}

// authenticate requires "Authorization: Bearer <key>" with one of the
// configured keys, compared in constant time.
func (a *API) authenticate(c *gin.Context) error {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if ok && a.keys.Valid(strings.TrimSpace(token)) {
		return nil
	}
	c.Header("WWW-Authenticate", `Bearer realm="hookd"`)
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "a valid API key is required: Authorization: Bearer <key>"}
}
