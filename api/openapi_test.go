package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/profile"
)

// loadOpenAPI loads and validates the embedded document (examples and
// defaults included: kin-openapi checks them against their schemas).
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	served, err := openapiDocument()
	require.NoError(t, err)
	return loadOpenAPIFrom(t, served)
}

// loadOpenAPIFrom loads and validates one version of the document.
func loadOpenAPIFrom(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(loader.Context))
	return doc
}

// operations lists the documented operations as "METHOD /path".
func documentedOperations(doc *openapi3.T) map[string]*openapi3.Operation {
	out := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[method+" "+path] = op
		}
	}
	return out
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// routerRoutes lists the routes New registers, in OpenAPI's path syntax.
// New only builds the route table, so zero-value deps (no store, no
// Temporal) are enough.
func routerRoutes(t *testing.T) []string {
	t.Helper()
	eng, ok := New(Deps{}).(*gin.Engine)
	require.True(t, ok, "New returns a *gin.Engine")
	var out []string
	for _, r := range eng.Routes() {
		out = append(out, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(out)
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."), "an OpenAPI 3 document: %s", doc.OpenAPI)
}

func TestOpenAPIDocumentsExactlyTheRouterRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := slices.Sorted(maps.Keys(documentedOperations(doc)))
	routes := routerRoutes(t)
	require.NotEmpty(t, routes)
	for _, r := range routes {
		require.Contains(t, documented, r, "route %s is registered but not documented in api/openapi.json", r)
	}
	for _, d := range documented {
		require.Contains(t, routes, d, "operation %s is documented but the router has no such route", d)
	}
	for key, op := range documentedOperations(doc) {
		require.NotEmpty(t, op.OperationID, key)
		require.NotEmpty(t, op.Summary, key)
	}
}

// TestOpenAPIServesTheDocument: GET /v1/openapi.json answers the embedded
// file with the registry's enums filled in (and nothing else changed), as
// JSON, without an API key.
func TestOpenAPIServesTheDocument(t *testing.T) {
	srv := New(Deps{APIKeys: []string{"unit-test-key-0123456789"}})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	served, err := openapiDocument()
	require.NoError(t, err)
	require.Equal(t, served, rec.Body.Bytes())
	require.True(t, json.Valid(rec.Body.Bytes()))

	var file, got map[string]any
	require.NoError(t, json.Unmarshal(openapiJSON, &file))
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	for _, e := range registryEnums {
		schema, err := openapiAt(got, e.path)
		require.NoError(t, err)
		require.Contains(t, schema, "enum", "served %v has the registry's enum", e.path)
		delete(schema, "enum")
	}
	require.Equal(t, file, got, "the served document is the file plus the registry's enums")
}

// TestOpenAPIFileListsNoProfiles: the file leaves the registry's value sets
// to openapiDocument, so a new profile needs no edit to it.
func TestOpenAPIFileListsNoProfiles(t *testing.T) {
	var file map[string]any
	require.NoError(t, json.Unmarshal(openapiJSON, &file))
	for _, e := range registryEnums {
		schema, err := openapiAt(file, e.path)
		require.NoError(t, err, "api/openapi.json has %v", e.path)
		require.NotContains(t, schema, "enum", "%v: the enum comes from the profile registry; do not write it in api/openapi.json", e.path)
	}
	fileDoc := loadOpenAPIFrom(t, openapiJSON)
	require.Empty(t, fileDoc.Components.Schemas["Profile"].Value.Enum)
	require.Equal(t, profile.Default, fileDoc.Components.Schemas["Profile"].Value.Default)
}

// TestOpenAPIRegistryEnumsRefuseAMissingPlace: a renamed schema or moved
// parameter stops the document from being built instead of silently
// losing its enum.
func TestOpenAPIRegistryEnumsRefuseAMissingPlace(t *testing.T) {
	_, err := withRegistryEnums([]byte(`{"openapi":"3.0.3","components":{"schemas":{}},"paths":{}}`))
	require.ErrorContains(t, err, "no element")
	_, err = withRegistryEnums([]byte(`{"openapi":"3.0.3","components":{"schemas":{"Profile":{"type":"integer"}}},"paths":{}}`))
	require.ErrorContains(t, err, "not a string schema")
}

// TestOpenAPISecurityMatchesTheRouter: bearerAuth is required exactly on the
// /v1 routes other than the document itself, and the router agrees: each
// secured route answers 401 without a key (authentication runs before the
// handler, so no store is needed), each open one does not.
func TestOpenAPISecurityMatchesTheRouter(t *testing.T) {
	doc := loadOpenAPI(t)
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	require.NotNil(t, scheme)
	require.Equal(t, "http", scheme.Value.Type)
	require.Equal(t, "bearer", scheme.Value.Scheme)

	srv := New(Deps{APIKeys: []string{"unit-test-key-0123456789"}})
	for key, op := range documentedOperations(doc) {
		method, path, _ := strings.Cut(key, " ")
		effective := doc.Security
		if op.Security != nil {
			effective = *op.Security
		}
		secured := strings.HasPrefix(path, "/v1/") && path != "/v1/openapi.json"
		if secured {
			require.Equal(t, openapi3.SecurityRequirements{{"bearerAuth": []string{}}}, effective, key)
			require.Contains(t, op.Responses.Map(), "401", "%s documents its 401", key)
		} else {
			require.Empty(t, effective, "%s needs no API key", key)
		}
		if path == "/readyz" {
			continue // it asks the (absent) store and Temporal
		}
		target := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "x")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		if secured {
			require.Equal(t, http.StatusUnauthorized, rec.Code, "%s without a key", key)
		} else {
			// /metrics answers 404 here: no metrics in zero-value deps.
			require.NotEqual(t, http.StatusUnauthorized, rec.Code, "%s without a key", key)
			require.Less(t, rec.Code, 500, "%s without a key: %s", key, rec.Body)
		}
	}
}

func schemaRefName(r *openapi3.SchemaRef) string {
	return strings.TrimPrefix(r.Ref, "#/components/schemas/")
}

// TestOpenAPIErrorsHaveTheOneShape: every 4xx and default answer is the
// error shape, and each operation documents the 4xx its kind can answer.
func TestOpenAPIErrorsHaveTheOneShape(t *testing.T) {
	doc := loadOpenAPI(t)
	errSchema := doc.Components.Schemas["Error"].Value
	require.Equal(t, []string{"error"}, errSchema.Required)
	inner := errSchema.Properties["error"].Value
	require.ElementsMatch(t, []string{"code", "message", "field"}, slices.Collect(maps.Keys(inner.Properties)))
	require.ElementsMatch(t, []any{CodeInvalidJSON, CodeValidation, CodeUnauthorized, CodeNotFound, CodeConflict,
		CodeTooLarge, CodeMethod, CodeUnavailable, CodeInternal, CodeUnsupportedType}, inner.Properties["code"].Value.Enum)

	for key, op := range documentedOperations(doc) {
		_, path, _ := strings.Cut(key, " ")
		for status, resp := range op.Responses.Map() {
			if status != "default" && status[0] != '4' {
				continue
			}
			mt := resp.Value.Content.Get("application/json")
			require.NotNil(t, mt, "%s %s", key, status)
			require.Equal(t, "Error", schemaRefName(mt.Schema), "%s %s answers the error shape", key, status)
		}
		if strings.HasPrefix(path, "/v1/") && path != "/v1/openapi.json" {
			require.Contains(t, op.Responses.Map(), "default", key)
		}
		if strings.Contains(path, "{id}") {
			require.Contains(t, op.Responses.Map(), "404", key)
		}
		if op.RequestBody != nil {
			for _, status := range []string{"400", "413", "415", "422"} {
				require.Contains(t, op.Responses.Map(), status, "%s has a body, so it can answer %s", key, status)
			}
		}
	}
}

// bodilessOperations take no request body: their handlers never read one.
var bodilessOperations = []string{
	"POST /v1/endpoints/{id}/unpause",
	"POST /v1/endpoints/{id}/enable",
	"POST /v1/deliveries/{id}/retry",
	"POST /v1/event-types/presets/{profile}",
}

// TestOpenAPIRequestBodiesHaveValidExamples: every POST and PATCH has a JSON
// body with at least one example (or is known to take none); each example
// matches its schema; the schemas refuse unknown fields, like the handlers;
// and every documented field appears in some example, so the e2e test that
// sends the examples proves the handlers accept every documented name.
func TestOpenAPIRequestBodiesHaveValidExamples(t *testing.T) {
	doc := loadOpenAPI(t)
	for key, op := range documentedOperations(doc) {
		method, _, _ := strings.Cut(key, " ")
		if op.RequestBody == nil {
			if method == http.MethodPost || method == http.MethodPatch {
				require.Contains(t, bodilessOperations, key, "%s has no request body documented", key)
			}
			continue
		}
		require.NotContains(t, bodilessOperations, key)
		body := op.RequestBody.Value
		require.Equal(t, []string{"application/json"}, slices.Collect(maps.Keys(body.Content)), key)
		mt := body.Content.Get("application/json")
		schema := mt.Schema.Value
		requireStrictObjects(t, key, schema)

		var examples []any
		if mt.Example != nil {
			examples = append(examples, mt.Example)
		}
		for _, ex := range mt.Examples {
			examples = append(examples, ex.Value.Value)
		}
		require.NotEmpty(t, examples, "%s has an example request body", key)
		seen := map[string]bool{}
		for _, ex := range examples {
			require.NoError(t, schema.VisitJSON(ex), "%s example %v", key, ex)
			collectKeys("", ex, seen)
		}
		if method == http.MethodPost || method == http.MethodPatch {
			for _, field := range schemaFields("", schema) {
				require.True(t, seen[field], "%s: field %s appears in no example", key, field)
			}
		}
	}
}

// requireStrictObjects: an object schema with properties refuses others.
func requireStrictObjects(t *testing.T, where string, s *openapi3.Schema) {
	t.Helper()
	if len(s.Properties) == 0 {
		return
	}
	has := s.AdditionalProperties.Has
	require.True(t, has != nil && !*has, "%s: an object with properties has additionalProperties: false", where)
	for name, p := range s.Properties {
		requireStrictObjects(t, where+"."+name, p.Value)
	}
}

// schemaFields lists the (nested) property names of an object schema.
func schemaFields(prefix string, s *openapi3.Schema) []string {
	var out []string
	for name, p := range s.Properties {
		out = append(out, prefix+name)
		out = append(out, schemaFields(prefix+name+".", p.Value)...)
	}
	return out
}

func collectKeys(prefix string, v any, into map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, sub := range m {
		into[prefix+k] = true
		collectKeys(prefix+k+".", sub, into)
	}
}

// TestOpenAPISchemasMatchTheHandlerStructs compares the documented bodies
// with the JSON structs the handlers decode and encode: the same field names,
// compatible types, and every field that is always written is required.
func TestOpenAPISchemasMatchTheHandlerStructs(t *testing.T) {
	doc := loadOpenAPI(t)
	schema := func(name string) *openapi3.Schema {
		s := doc.Components.Schemas[name]
		require.NotNil(t, s, "schema %s", name)
		return s.Value
	}
	for _, tc := range []struct {
		schema   string
		typ      any
		response bool
		except   []string // struct fields the schema leaves out on purpose
	}{
		{"EndpointCreate", operations.EndpointInput{}, false, nil},
		{"EndpointUpdate", operations.EndpointInput{}, false, nil},
		{"EventCreate", operations.EventInput{}, false, nil},
		{"EventBatchCreate", operations.BatchInput{}, false, nil},
		{"EventBatchItem", operations.BatchEventInput{}, false, nil},
		{"EventBatchAccepted", batchEventJSON{}, true, nil},
		{"VesselWebhookCreate", operations.VesselWebhookInput{}, false, nil},
		{"EndpointWithSecret", endpointJSON{}, true, nil},
		{"Endpoint", endpointJSON{}, true, []string{"secret"}},
		{"Event", eventJSON{}, true, nil},
		{"Delivery", deliveryJSON{}, true, nil},
		{"Attempt", attemptJSON{}, true, nil},
		{"EventTypeInfo", eventTypeJSON{}, true, nil},
		{"Health", healthJSON{}, true, nil},
		{"VesselWebhookWithSecret", vesselWebhookJSON{}, true, nil},
		{"VesselWebhook", vesselWebhookJSON{}, true, []string{"secret"}},
		{"PortalSessionCreate", operations.PortalSessionInput{}, false, nil},
		{"PortalSession", portalSessionJSON{}, true, nil},
		{"EndpointStats", statsJSON{}, true, nil},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			compareStruct(t, tc.schema, reflect.TypeOf(tc.typ), schema(tc.schema), tc.response, tc.except)
		})
	}
}

type jsonField struct {
	name      string
	omitempty bool
	typ       reflect.Type
}

func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for f := range t.Fields() {
		tag, hasTag := f.Tag.Lookup("json")
		if f.Anonymous && !hasTag {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, omitempty: strings.Contains(opts, "omitempty"), typ: f.Type})
	}
	return out
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	scheduleType = reflect.TypeFor[models.Schedule]()
)

// openapiType is the JSON type a Go value encodes to; "" for any.
func openapiType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return "string"
	case rawType:
		return ""
	case scheduleType:
		return "array"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return ""
}

// resolved follows a single allOf wrapper ({"allOf":[{"$ref":…}], "default":…}).
func resolved(s *openapi3.Schema) *openapi3.Schema {
	if (s.Type == nil || s.Type.IsEmpty()) && len(s.AllOf) == 1 {
		return s.AllOf[0].Value
	}
	return s
}

func compareStruct(t *testing.T, where string, typ reflect.Type, s *openapi3.Schema, response bool, except []string) {
	t.Helper()
	fields := jsonFields(typ)
	var names []string
	for _, f := range fields {
		if !slices.Contains(except, f.name) {
			names = append(names, f.name)
		}
	}
	require.ElementsMatch(t, names, slices.Collect(maps.Keys(s.Properties)),
		"%s: the documented properties are the JSON fields of %s", where, typ)
	for _, f := range fields {
		if slices.Contains(except, f.name) {
			continue
		}
		p := resolved(s.Properties[f.name].Value)
		if want := openapiType(f.typ); want != "" {
			require.True(t, p.Type.Is(want), "%s.%s: documented as %v, encodes as %s", where, f.name, p.Type, want)
		}
		if f.typ.Kind() == reflect.Struct && f.typ != timeType {
			compareStruct(t, where+"."+f.name, f.typ, p, response, nil)
		}
		if f.typ.Kind() == reflect.Pointer && f.typ.Elem().Kind() == reflect.Struct && f.typ.Elem() != timeType {
			compareStruct(t, where+"."+f.name, f.typ.Elem(), p, response, nil)
		}
		if !response {
			continue
		}
		if !f.omitempty {
			require.Contains(t, s.Required, f.name, "%s.%s is always written, so it is required", where, f.name)
		}
		if f.typ.Kind() == reflect.Pointer {
			require.True(t, p.Nullable || s.Properties[f.name].Value.Nullable, "%s.%s can be null", where, f.name)
		}
	}
}

// TestOpenAPIEnumsMatchTheCode keeps the documented value sets in step with
// the code's.
func TestOpenAPIEnumsMatchTheCode(t *testing.T) {
	doc := loadOpenAPI(t)
	enum := func(s *openapi3.Schema) []string {
		var out []string
		for _, v := range s.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	require.Equal(t, profile.Names(), enum(doc.Components.Schemas["Profile"].Value), "the served Profile enum is the registry's")
	require.Equal(t, profile.Default, doc.Components.Schemas["Profile"].Value.Default)
	require.ElementsMatch(t, operations.DeliveryStatuses, enum(doc.Components.Schemas["DeliveryStatus"].Value))
	require.ElementsMatch(t, []string{models.EndpointActive, models.EndpointPaused, models.EndpointDisabled},
		enum(doc.Components.Schemas["EndpointState"].Value))
	require.ElementsMatch(t, []string{models.TriggerSchedule, models.TriggerManual, models.TriggerReplay},
		enum(doc.Components.Schemas["Attempt"].Value.Properties["trigger"].Value))

	presets := doc.Paths.Find("/v1/event-types/presets/{profile}")
	require.NotNil(t, presets)
	p := presets.Parameters.GetByInAndName("path", "profile")
	require.NotNil(t, p)
	require.ElementsMatch(t, slices.Collect(maps.Keys(profile.Presets())), enum(p.Schema.Value))
	require.Equal(t, profile.PresetNames(), enum(p.Schema.Value))
}
