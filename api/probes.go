package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
)

func (a *API) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz answers 200 when the database and Temporal both answer.
func (a *API) readyz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{"database": "ok", "temporal": "ok"}
	ready := true
	if err := a.store.Ping(ctx); err != nil {
		checks["database"], ready = "unavailable", false
	}
	if _, err := a.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ready = "unavailable", false
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"ready": ready, "checks": checks})
	return nil
}

// serveMetrics: GET /metrics in Prometheus' text format (no key, like /healthz;
// keep the port private or put it behind your scraper's network policy).
func (a *API) serveMetrics(c *gin.Context) {
	if a.metrics == nil {
		c.JSON(http.StatusNotFound, gin.H{"error": &Error{Code: CodeNotFound, Message: "metrics are not enabled"}})
		return
	}
	a.metrics.Handler().ServeHTTP(c.Writer, c.Request)
}
