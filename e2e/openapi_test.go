package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// openapiClient calls the live API through its OpenAPI document: every
// request is validated against the documented operation before it is sent,
// and every answer against the documented response of its status.
type openapiClient struct {
	t    *testing.T
	doc  *openapi3.T
	sent map[string]bool // "METHOD /path" of the operations called
}

// liveOpenAPI fetches GET /v1/openapi.json without an API key and loads it.
func liveOpenAPI(t *testing.T) *openapiClient {
	t.Helper()
	resp, err := http.Get(hookd.APIURL + "/v1/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(loader.Context))
	return &openapiClient{t: t, doc: doc, sent: map[string]bool{}}
}

// call sends one documented operation. path is the documented template
// ("/v1/endpoints/{id}"), params its path parameters, body the JSON body or
// nil. It requires the request and the answer to match the document and
// returns the status and the decoded answer (nil when it is not JSON).
func (o *openapiClient) call(method, path string, params map[string]string, query url.Values, body any, header ...string) (int, map[string]any) {
	t := o.t
	t.Helper()
	item := o.doc.Paths.Value(path)
	require.NotNil(t, item, "documented path %s", path)
	op := item.GetOperation(method)
	require.NotNil(t, op, "documented operation %s %s", method, path)
	key := method + " " + path
	o.sent[key] = true

	target := path
	for name, v := range params {
		target = strings.ReplaceAll(target, "{"+name+"}", url.PathEscape(v))
	}
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(t, err)
	}
	newRequest := func() *http.Request {
		var rd io.Reader
		if raw != nil {
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, hookd.APIURL+target, rd)
		require.NoError(t, err)
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		security := o.doc.Security
		if op.Security != nil {
			security = *op.Security
		}
		if len(security) > 0 {
			req.Header.Set("Authorization", "Bearer "+apiKey)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return req
	}

	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request:    newRequest(),
		PathParams: params,
		Route:      &routers.Route{Spec: o.doc, Path: path, PathItem: item, Method: method, Operation: op},
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	require.NoError(t, openapi3filter.ValidateRequest(ctx, in), "%s: the request matches the document", key)

	resp, err := http.DefaultClient.Do(newRequest())
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(answer)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	require.NoError(t, err, "%s answered %d, which does not match the document: %s", key, resp.StatusCode, answer)

	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(answer) > 0 {
		require.NoError(t, json.Unmarshal(answer, &out), "%s", answer)
	}
	return resp.StatusCode, out
}

// example is one documented request body example.
type example struct {
	name  string
	value map[string]any
}

// examples returns the request body examples of an operation, by name.
func (o *openapiClient) examples(method, path string) []example {
	o.t.Helper()
	op := o.doc.Paths.Value(path).GetOperation(method)
	require.NotNil(o.t, op.RequestBody, "%s %s documents a body", method, path)
	mt := op.RequestBody.Value.Content.Get("application/json")
	require.NotNil(o.t, mt)
	var out []example
	if mt.Example != nil {
		out = append(out, example{"example", copyJSON(o.t, mt.Example)})
	}
	for _, name := range slices.Sorted(maps.Keys(mt.Examples)) {
		out = append(out, example{name, copyJSON(o.t, mt.Examples[name].Value.Value)})
	}
	require.NotEmpty(o.t, out, "%s %s has examples", method, path)
	return out
}

// copyJSON deep-copies an example so a test can change it without changing
// the document.
func copyJSON(t *testing.T, v any) map[string]any {
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

// requireOK requires a 2xx.
func requireOK(t *testing.T, what string, status int, out map[string]any) {
	t.Helper()
	require.True(t, status >= 200 && status < 300, "%s answered %d: %v", what, status, out)
}

// TestOpenAPIExamplesAreAcceptedAndAnswersMatchTheDocument calls every
// documented operation of the live API, with ids of resources created first:
// each POST and PATCH with every one of its documented example bodies. Every
// request and every answer is validated against the document, and every
// call must succeed. Together with the unit test that every documented field
// appears in an example, this shows the handlers accept every documented
// field name (they refuse unknown ones).
//
// The examples use tenant "acme" and example.com URLs: the test deletes the
// endpoints made from them before it sends the example event to "acme", so
// hookd never delivers outside 127.0.0.1.
func TestOpenAPIExamplesAreAcceptedAndAnswersMatchTheDocument(t *testing.T) {
	t.Parallel()
	c := api(t)
	o := liveOpenAPI(t)

	// Resources of our own, delivering to a receiver on loopback.
	rcv := newReceiver(t, always(http.StatusOK))
	tenant := models.NewID("tenant")
	localEP, _ := c.createEndpoint(map[string]any{"url": rcv.URL + "/hook", "tenant_id": tenant})
	ev := c.postEvent("openapi-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"id": "lead_1"}})
	eventID := ev["id"].(string)
	deliveryID := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	waitFor(t, 30*time.Second, "the delivery to succeed", func() bool {
		_, d := c.do("GET", "/v1/deliveries/"+deliveryID, nil)
		return d["status"] == "succeeded"
	})
	id := func(v string) map[string]string { return map[string]string{"id": v} }

	// The routes that need no API key (call sends none to them).
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/v1/openapi.json"} {
		status, out := o.call("GET", path, nil, nil, nil)
		requireOK(t, path, status, out)
	}

	// Endpoints: create one from each example; manage the first of them
	// with every example of the other endpoint routes; delete them all.
	var created []string
	for _, ex := range o.examples("POST", "/v1/endpoints") {
		status, out := o.call("POST", "/v1/endpoints", nil, nil, ex.value)
		require.Equal(t, http.StatusCreated, status, "example %s: %v", ex.name, out)
		created = append(created, out["id"].(string))
	}
	exampleEP := created[0]
	status, out := o.call("GET", "/v1/endpoints/{id}", id(exampleEP), nil, nil)
	requireOK(t, "GET endpoint", status, out)
	for _, ex := range o.examples("PATCH", "/v1/endpoints/{id}") {
		status, out := o.call("PATCH", "/v1/endpoints/{id}", id(exampleEP), nil, ex.value)
		require.Equal(t, http.StatusOK, status, "example %s: %v", ex.name, out)
		for field, want := range ex.value {
			switch field {
			case "secret":
			case "secret_headers": // and those secret by name
				require.Subset(t, out[field], want, "example %s changed %s", ex.name, field)
			case "headers": // shown with the secret ones redacted
				require.Equal(t, redactedHeaders(want, out["secret_headers"]), out[field], "example %s changed %s", ex.name, field)
			default:
				require.Equal(t, want, out[field], "example %s changed %s", ex.name, field)
			}
		}
	}
	status, out = o.call("GET", "/v1/endpoints/{id}/secret", id(exampleEP), nil, nil)
	requireOK(t, "GET secret", status, out)
	for _, ex := range o.examples("POST", "/v1/endpoints/{id}/rotate-secret") {
		status, out := o.call("POST", "/v1/endpoints/{id}/rotate-secret", id(exampleEP), nil, ex.value)
		require.Equal(t, http.StatusOK, status, "example %s: %v", ex.name, out)
		if s, ok := ex.value["secret"]; ok {
			require.Equal(t, s, out["secret"])
		}
	}
	status, out = o.call("GET", "/v1/endpoints/{id}/health", id(exampleEP), nil, nil)
	requireOK(t, "GET health", status, out)
	status, out = o.call("GET", "/v1/endpoints/{id}/stats", id(localEP), url.Values{"window": {"7d"}}, nil)
	requireOK(t, "GET stats", status, out)
	require.EqualValues(t, 1, out["succeeded"], "the delivery's attempt is counted")
	for _, ex := range o.examples("POST", "/v1/endpoints/{id}/pause") {
		status, out := o.call("POST", "/v1/endpoints/{id}/pause", id(exampleEP), nil, ex.value)
		requireOK(t, "pause example "+ex.name, status, out)
		status, out = o.call("POST", "/v1/endpoints/{id}/unpause", id(exampleEP), nil, nil)
		requireOK(t, "unpause", status, out)
	}
	status, out = o.call("POST", "/v1/endpoints/{id}/enable", id(exampleEP), nil, nil)
	requireOK(t, "enable", status, out)
	for _, ex := range o.examples("POST", "/v1/endpoints/{id}/replay") {
		status, out := o.call("POST", "/v1/endpoints/{id}/replay", id(exampleEP), nil, ex.value)
		requireOK(t, "replay example "+ex.name, status, out)
	}
	status, out = o.call("GET", "/v1/endpoints", nil, url.Values{"tenant_id": {"acme"}, "state": {"active"}, "limit": {"10"}}, nil)
	requireOK(t, "list endpoints", status, out)
	for _, ep := range created {
		status, out := o.call("DELETE", "/v1/endpoints/{id}", id(ep), nil, nil)
		require.Equal(t, http.StatusNoContent, status, "%v", out)
	}

	// A test event to our own endpoint, per example.
	for _, ex := range o.examples("POST", "/v1/endpoints/{id}/test") {
		status, out := o.call("POST", "/v1/endpoints/{id}/test", id(localEP), nil, ex.value)
		require.Equal(t, http.StatusAccepted, status, "example %s: %v", ex.name, out)
		require.Equal(t, localEP, out["endpoint_id"])
	}

	// Events. The examples' tenant has no endpoint left, so they fan out to none.
	param := o.doc.Paths.Value("/v1/events").Post.Parameters.GetByInAndName("header", "Idempotency-Key")
	require.NotNil(t, param)
	for _, ex := range o.examples("POST", "/v1/events") {
		key := param.Example.(string) + "-" + models.NewID("k")
		status, out := o.call("POST", "/v1/events", nil, nil, ex.value, "Idempotency-Key", key)
		require.Equal(t, http.StatusAccepted, status, "example %s: %v", ex.name, out)
		require.Empty(t, out["deliveries"], "example %s is delivered nowhere (no request leaves 127.0.0.1)", ex.name)
	}
	for _, ex := range o.examples("POST", "/v1/events/batch") {
		batch := copyJSON(t, ex.value)
		suffix := "-" + models.NewID("k")
		for _, e := range batch["events"].([]any) {
			e := e.(map[string]any)
			e["idempotency_key"] = e["idempotency_key"].(string) + suffix
		}
		for _, replayed := range []bool{false, true} {
			status, out := o.call("POST", "/v1/events/batch", nil, nil, batch)
			require.Equal(t, http.StatusAccepted, status, "example %s: %v", ex.name, out)
			events := out["events"].([]any)
			require.Len(t, events, len(batch["events"].([]any)), "example %s: one answer per event", ex.name)
			for _, e := range events {
				require.Equal(t, replayed, e.(map[string]any)["replayed"], "example %s sent again is replayed", ex.name)
				require.EqualValues(t, 0, e.(map[string]any)["delivery_count"], "example %s is delivered nowhere", ex.name)
			}
		}
	}
	status, out = o.call("GET", "/v1/events", nil, url.Values{"tenant_id": {tenant}, "type": {"lead.created"}, "limit": {"5"}}, nil)
	requireOK(t, "list events", status, out)
	require.NotEmpty(t, out["data"])
	status, out = o.call("GET", "/v1/events/{id}", id(eventID), nil, nil)
	requireOK(t, "get event", status, out)

	// Event types.
	for _, ex := range o.examples("POST", "/v1/event-types") {
		if name := ex.value["name"].(string); eventTypeExists(t, c, name) {
			// An earlier run in this process (go test -count=N) added it.
			ex.value["name"] = name + "_" + strings.ToLower(models.NewID("x"))
		}
		status, out := o.call("POST", "/v1/event-types", nil, nil, ex.value)
		require.Equal(t, http.StatusCreated, status, "example %s: %v", ex.name, out)
	}
	presets := o.doc.Paths.Value("/v1/event-types/presets/{profile}").Parameters.GetByInAndName("path", "profile")
	require.NotNil(t, presets)
	status, out = o.call("POST", "/v1/event-types/presets/{profile}", map[string]string{"profile": presets.Example.(string)}, nil, nil)
	requireOK(t, "load preset", status, out)
	status, out = o.call("GET", "/v1/event-types", nil, url.Values{"limit": {"250"}}, nil)
	requireOK(t, "list event types", status, out)

	// Deliveries.
	status, out = o.call("GET", "/v1/deliveries", nil, url.Values{"endpoint_id": {localEP}, "status": {"succeeded"}, "limit": {"10"}}, nil)
	requireOK(t, "list deliveries", status, out)
	require.NotEmpty(t, out["data"])
	status, out = o.call("GET", "/v1/deliveries/{id}", id(deliveryID), nil, nil)
	requireOK(t, "get delivery", status, out)
	require.NotEmpty(t, out["attempts"], "the attempts' shape is checked too")
	status, out = o.call("POST", "/v1/deliveries/{id}/retry", id(deliveryID), nil, nil)
	require.Equal(t, http.StatusAccepted, status, "%v", out)

	// Portal sessions, one per example, each revoked again.
	for _, ex := range o.examples("POST", "/v1/portal-sessions") {
		status, out := o.call("POST", "/v1/portal-sessions", nil, nil, ex.value)
		require.Equal(t, http.StatusCreated, status, "example %s: %v", ex.name, out)
		status, out = o.call("DELETE", "/v1/portal-sessions/{id}", id(out["id"].(string)), nil, nil)
		require.Equal(t, http.StatusNoContent, status, "revoke example %s: %v", ex.name, out)
	}

	// Vessel webhooks: create per example, read, delete with the DELETE example.
	for _, ex := range o.examples("POST", "/v1/vessel/webhook") {
		connection := ex.value["connectionId"].(string)
		c.do("DELETE", "/v1/vessel/webhook?connectionId="+url.QueryEscape(connection), nil) // from an earlier run, if any
		status, out := o.call("POST", "/v1/vessel/webhook", nil, nil, ex.value)
		require.Equal(t, http.StatusCreated, status, "example %s: %v", ex.name, out)
		webhookID := out["webhook"].(map[string]any)["webhookId"].(string)
		status, out = o.call("GET", "/v1/vessel/webhook", nil, url.Values{"webhookId": {webhookID}}, nil)
		requireOK(t, "get vessel webhook", status, out)
		deleted := false
		for _, del := range o.examples("DELETE", "/v1/vessel/webhook") {
			if del.value["connectionId"] == connection {
				status, out = o.call("DELETE", "/v1/vessel/webhook", nil, nil, del.value)
				requireOK(t, "delete example "+del.name, status, out)
				deleted = true
			}
		}
		if !deleted {
			status, out = o.call("DELETE", "/v1/vessel/webhook", nil, url.Values{"webhookId": {webhookID}}, nil)
			requireOK(t, "delete vessel webhook", status, out)
		}
	}

	// Every documented operation was called.
	for path, item := range o.doc.Paths.Map() {
		for method := range item.Operations() {
			require.True(t, o.sent[method+" "+path], "%s %s was not exercised; add it to this test", method, path)
		}
	}
}

// eventTypeExists pages through the catalog looking for name.
func eventTypeExists(t *testing.T, c *client, name string) bool {
	t.Helper()
	cursor := ""
	for {
		status, out := c.do("GET", "/v1/event-types?limit=250"+cursor, nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		for _, e := range out["data"].([]any) {
			if e.(map[string]any)["name"] == name {
				return true
			}
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			return false
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
}

// redactedHeaders is headers (a JSON object) as an endpoint answer shows it:
// the value of each name in secret (a JSON array) redacted.
func redactedHeaders(headers, secret any) map[string]any {
	out := map[string]any{}
	for k, v := range headers.(map[string]any) {
		out[k] = v
	}
	for _, k := range secret.([]any) {
		out[k.(string)] = models.RedactedValue
	}
	return out
}
