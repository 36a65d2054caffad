package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (a *API) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz answers 200 when the database and Temporal both answer.
func (a *API) readyz(c *gin.Context) error {
	r := a.ops.Ready(c.Request.Context())
	status := http.StatusOK
	if !r.Ready() {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"ready": r.Ready(), "checks": r.Checks()})
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
