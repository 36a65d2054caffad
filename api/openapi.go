package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openapiJSON is the OpenAPI 3 document of every route New registers. It is
// written by hand next to the handlers; openapi_test.go checks that it
// validates, that its routes are exactly the router's and that its schemas
// name the fields the handlers' JSON structs use, and the e2e tests send its
// examples to a live hookd.
//
//go:embed openapi.json
var openapiJSON []byte

// openapi: GET /v1/openapi.json serves the document as it is, without an API
// key, so tools can fetch it.
func (a *API) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openapiJSON)
}
