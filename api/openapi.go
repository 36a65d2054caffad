package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/profile"
)

// openapiJSON is the OpenAPI 3 document of every route New registers. It is
// written by hand next to the handlers; openapi_test.go checks that it
// validates, that its routes are exactly the router's and that its schemas
// name the fields the handlers' JSON structs use, and the e2e tests send its
// examples to a live hookd.
//
// The value sets that come from the profile registry are not written in the
// file: openapiDocument fills them in (see registryEnums), so adding a
// profile does not touch the document.
//
//go:embed openapi.json
var openapiJSON []byte

// registryEnums are the places in the document whose enum is a registry's
// list, as paths of object keys (or array indexes, as strings) from the root.
var registryEnums = []struct {
	path []string
	enum func() []string
}{
	// Every profile an endpoint may name.
	{[]string{"components", "schemas", "Profile"}, profile.Names},
	// The profiles whose vendor catalog POST /v1/event-types/presets/{profile} loads.
	{[]string{"paths", "/v1/event-types/presets/{profile}", "parameters", "0", "schema"}, profile.PresetNames},
}

// openapiDocument returns the document GET /v1/openapi.json serves: the
// embedded file with registryEnums filled in from the profile registry, and
// the Profile schema's default set to profile.Default. It is built once.
var openapiDocument = sync.OnceValues(func() ([]byte, error) {
	return withRegistryEnums(openapiJSON)
})

func withRegistryEnums(file []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(file))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	for _, e := range registryEnums {
		schema, err := openapiAt(doc, e.path)
		if err != nil {
			return nil, err
		}
		if schema["type"] != "string" {
			return nil, fmt.Errorf("openapi.json: %v is not a string schema", e.path)
		}
		names := e.enum()
		if len(names) == 0 {
			return nil, fmt.Errorf("openapi.json: the registry has no values for %v", e.path)
		}
		schema["enum"] = names
	}
	profileSchema, err := openapiAt(doc, registryEnums[0].path)
	if err != nil {
		return nil, err
	}
	profileSchema["default"] = profile.Default

	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	return out.Bytes(), nil
}

// openapiAt returns the object at path in doc.
func openapiAt(doc map[string]any, path []string) (map[string]any, error) {
	var cur any = doc
	for i, key := range path {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[key]
			if !ok {
				return nil, fmt.Errorf("openapi.json: no element %v", path[:i+1])
			}
			cur = next
		case []any:
			var n int
			if _, err := fmt.Sscan(key, &n); err != nil || n < 0 || n >= len(v) {
				return nil, fmt.Errorf("openapi.json: no element %v", path[:i+1])
			}
			cur = v[n]
		default:
			return nil, fmt.Errorf("openapi.json: no element %v", path[:i+1])
		}
	}
	obj, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapi.json: %v is not an object", path)
	}
	return obj, nil
}

// openapi: GET /v1/openapi.json serves the document (openapiDocument),
// without an API key, so tools can fetch it.
func (a *API) openapi(c *gin.Context) error {
	doc, err := openapiDocument()
	if err != nil {
		return fmt.Errorf("build the OpenAPI document: %w", err)
	}
	c.Data(http.StatusOK, "application/json", doc)
	return nil
}
