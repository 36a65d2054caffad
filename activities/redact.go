package activities

import (
	"net/http"
	"strings"

	"github.com/hookd/hookd/models"
)

// storedHeaders is the copy of a request's headers stored with its attempt:
// one value per name, and the endpoint's secret custom headers (marked, or
// secret by default, such as Authorization) redacted. The request itself
// carries them as they are.
func storedHeaders(h http.Header, ep *models.Endpoint) map[string]string {
	stored := make(map[string]string, len(h))
	for k, vs := range h {
		stored[k] = strings.Join(vs, ", ")
	}
	return ep.RedactHeaders(stored)
}
