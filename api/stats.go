package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

type hourJSON struct {
	Start     time.Time `json:"start"`
	Succeeded int64     `json:"succeeded"`
	Failed    int64     `json:"failed"`
}

type statsJSON struct {
	EndpointID  string     `json:"endpoint_id"`
	Window      string     `json:"window"`
	Since       time.Time  `json:"since"`
	Succeeded   int64      `json:"succeeded"`
	Failed      int64      `json:"failed"`
	SuccessRate *float64   `json:"success_rate"`
	Hours       []hourJSON `json:"hours"`
}

// endpointStats: GET /v1/endpoints/{id}/stats?window=24h|7d — attempts per
// hour, succeeded against failed (what the dashboard's chart shows).
func (a *API) endpointStats(c *gin.Context) error {
	st, err := a.ops.EndpointStats(c.Request.Context(), c.Param("id"), c.Query("window"))
	if err != nil {
		return queryFault(err)
	}
	out := statsJSON{EndpointID: st.EndpointID, Window: st.Window, Since: st.Since, Succeeded: st.Succeeded,
		Failed: st.Failed, Hours: make([]hourJSON, len(st.Hours))}
	if rate, ok := st.SuccessRate(); ok {
		out.SuccessRate = &rate
	}
	for i, h := range st.Hours {
		out.Hours[i] = hourJSON{Start: h.Start, Succeeded: h.Succeeded, Failed: h.Failed}
	}
	c.JSON(http.StatusOK, out)
	return nil
}
