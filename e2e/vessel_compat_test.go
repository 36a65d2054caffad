package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// The Vessel compatibility routes: one webhook per connection, managed by
// connection, as Vessel's documentation describes.

// createVesselWebhook creates the connection's webhook and returns the answer's "webhook".
func createVesselWebhook(t *testing.T, c *client, body map[string]any) map[string]any {
	t.Helper()
	status, out := c.do("POST", "/v1/vessel/webhook", body)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	return out["webhook"].(map[string]any)
}

func TestVesselWebhookIsCreatedReadAndDeletedByConnection(t *testing.T) {
	onBothStores(t, vesselWebhookLifecycle)
}

func vesselWebhookLifecycle(t *testing.T, c *client, h *app.App) {
	connection := models.NewID("conn")
	url := "https://example.com/vessel/hooks"

	wh := createVesselWebhook(t, c, map[string]any{"connectionId": connection, "webhook": map[string]any{"webhookUrl": url}})
	id := wh["webhookId"].(string)
	require.Regexp(t, `^ep_`, id)
	require.Equal(t, url, wh["webhookUrl"])
	require.Equal(t, connection, wh["connectionId"])
	require.Regexp(t, `^[0-9a-f]{64}$`, wh["secret"], "a generated access token is answered once")

	for _, q := range []string{"connectionId=" + connection, "webhookId=" + id, "connectionId=" + connection + "&webhookId=" + id} {
		status, out := c.do("GET", "/v1/vessel/webhook?"+q, nil)
		require.Equal(t, http.StatusOK, status, "%s: %v", q, out)
		got := out["webhook"].(map[string]any)
		require.Equal(t, id, got["webhookId"], q)
		require.Equal(t, url, got["webhookUrl"], q)
		require.Equal(t, connection, got["connectionId"], q)
		require.NotContains(t, got, "secret", "the secret is shown only at creation")
	}

	status, ep := c.do("GET", "/v1/endpoints/"+id, nil)
	require.Equal(t, http.StatusOK, status, "the webhook is a regular endpoint")
	require.Equal(t, connection, ep["tenant_id"])
	require.Equal(t, "vessel", ep["profile"])
	require.Equal(t, []any{"*"}, ep["event_types"])

	status, out := c.do("POST", "/v1/vessel/webhook", map[string]any{"connectionId": connection, "webhook": map[string]any{"webhookUrl": url + "/2"}})
	require.Equal(t, http.StatusConflict, status, "one webhook per connection: %v", out)
	e := out["error"].(map[string]any)
	require.Equal(t, "conflict", e["code"])
	require.Equal(t, "connectionId", e["field"])
	require.Contains(t, e["message"], id, "the conflict names the webhook to keep or delete")

	status, out = c.do("GET", "/v1/vessel/webhook?connectionId="+connection+"&webhookId=ep_01M85KMFZ37SC812YH1CEJAVP3", nil)
	require.Equal(t, http.StatusNotFound, status, "a webhookId of another connection matches nothing: %v", out)

	status, out = c.do("DELETE", "/v1/vessel/webhook?webhookId="+id, nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, id, out["webhook"].(map[string]any)["webhookId"])

	status, out = c.do("GET", "/v1/vessel/webhook?connectionId="+connection, nil)
	require.Equal(t, http.StatusNotFound, status, "%v", out)
	require.Equal(t, "not_found", out["error"].(map[string]any)["code"])
	status, _ = c.do("DELETE", "/v1/vessel/webhook?webhookId="+id, nil)
	require.Equal(t, http.StatusNotFound, status, "a second delete finds nothing")
	status, _ = c.do("GET", "/v1/endpoints/"+id, nil)
	require.Equal(t, http.StatusNotFound, status, "the endpoint is deleted with the webhook")

	waitFor(t, 10*time.Second, "the endpoint's health workflow terminated", func() bool {
		desc, err := h.Temporal.DescribeWorkflowExecution(context.Background(), workflows.EndpointWorkflowID(id), "")
		require.NoError(t, err)
		return desc.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_TERMINATED
	})

	again := createVesselWebhook(t, c, map[string]any{"connectionId": connection, "webhook": map[string]any{"webhookUrl": url}})
	require.NotEqual(t, id, again["webhookId"], "after a delete the connection can have a new webhook")
}

func TestVesselConcurrentCreatesForOneConnectionHaveExactlyOneWinner(t *testing.T) {
	onBothStores(t, vesselConcurrentCreates)
}

func vesselConcurrentCreates(t *testing.T, c *client, _ *app.App) {
	connection := models.NewID("conn")
	const n = 8
	statuses, answers := c.postConcurrently(n, "/v1/vessel/webhook", func(i int) any {
		return map[string]any{"connectionId": connection, "webhook": map[string]any{"webhookUrl": "https://example.com/hooks/" + string(rune('a'+i))}}
	})
	var winner string
	for i, status := range statuses {
		switch status {
		case http.StatusCreated:
			require.Empty(t, winner, "two creates won")
			winner = answers[i]["webhook"].(map[string]any)["webhookId"].(string)
		case http.StatusConflict:
		default:
			t.Fatalf("create %d answered %d: %v", i, status, answers[i])
		}
	}
	require.NotEmpty(t, winner, "one create won")

	status, out := c.do("GET", "/v1/vessel/webhook?connectionId="+connection, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, winner, out["webhook"].(map[string]any)["webhookId"])
	status, list := c.do("GET", "/v1/endpoints?tenant_id="+connection, nil)
	require.Equal(t, http.StatusOK, status, "%v", list)
	require.Len(t, list["data"], 1, "the losers wrote no endpoint")
}

func TestVesselWebhookReceivesTheConnectionsEventsInVesselsFormat(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(200))
	connection := models.NewID("conn")
	token := "tok_" + randomHex(t, 20)
	wh := createVesselWebhook(t, c, map[string]any{
		"connectionId": connection, "accessToken": token, "webhook": map[string]any{"webhookUrl": rcv.URL + "/vessel"},
	})
	require.Equal(t, token, wh["secret"], "the connection's access token is what signatures use")

	payload := `{"objectType":"Contact","eventType":"UPDATE","record":{"id":"con_1","nativeId":"003A","connectionId":"` +
		connection + `","firstName":"Zoë","score":1.0}}`
	evID, dlvID := postRawEvent(t, c, "vessel-compat-"+connection, "OBJECT_CHANGE", connection, payload)
	awaitDelivery(t, c, dlvID, models.DeliverySucceeded)

	r := onlyRequest(t, rcv)
	require.Equal(t, connection, r.Header.Get("x-vessel-connection-id"))
	ts := r.Header.Get("x-vessel-timestamp")
	sum := sha256.Sum256([]byte(token + string(r.Body) + ts))
	require.Equal(t, hex.EncodeToString(sum[:]), r.Header.Get("x-vessel-signature"), "sha256(accessToken + body + timestamp), as Vessel's receiver checks")
	var body struct {
		EventID string         `json:"eventId"`
		Type    string         `json:"type"`
		Data    map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.Equal(t, evID, body.EventID)
	require.Equal(t, "OBJECT_CHANGE", body.Type)
	require.Equal(t, "UPDATE", body.Data["eventType"])
	require.Contains(t, string(r.Body), `"score":1}`, "numbers as JSON.stringify writes them")

	// Deleted by connection, in a JSON body as Vessel's clients send it: no more deliveries.
	status, out := c.do("DELETE", "/v1/vessel/webhook", map[string]any{"connectionId": connection})
	require.Equal(t, http.StatusOK, status, "%v", out)
	status, out = c.do("POST", "/v1/events", `{"type":"STATUS_CHANGE","tenant_id":"`+connection+`","payload":{"status":"READY"}}`,
		"Idempotency-Key", "vessel-compat-after-"+connection)
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	require.Empty(t, out["deliveries"])
}

func TestVesselWebhookBadInputIsRefusedWithTheField(t *testing.T) {
	onBothStores(t, vesselBadInput)
}

func vesselBadInput(t *testing.T, c *client, h *app.App) {
	connection := models.NewID("conn")
	ok := func() map[string]any {
		return map[string]any{"connectionId": connection, "webhook": map[string]any{"webhookUrl": "https://example.com/h"}}
	}
	with := func(change func(map[string]any)) map[string]any { b := ok(); change(b); return b }
	for name, tc := range map[string]struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		"missing connectionId":     {"POST", "", with(func(b map[string]any) { delete(b, "connectionId") }), 422, "connectionId"},
		"connectionId with spaces": {"POST", "", with(func(b map[string]any) { b["connectionId"] = "a b" }), 422, "connectionId"},
		"connectionId a number":    {"POST", "", with(func(b map[string]any) { b["connectionId"] = 7 }), 422, "connectionId"},
		"missing webhook":          {"POST", "", with(func(b map[string]any) { delete(b, "webhook") }), 422, "webhook.webhookUrl"},
		"missing webhookUrl":       {"POST", "", with(func(b map[string]any) { b["webhook"] = map[string]any{} }), 422, "webhook.webhookUrl"},
		"ftp webhookUrl":           {"POST", "", with(func(b map[string]any) { b["webhook"] = map[string]any{"webhookUrl": "ftp://x/"} }), 422, "webhook.webhookUrl"},
		"short accessToken":        {"POST", "", with(func(b map[string]any) { b["accessToken"] = "short" }), 422, "accessToken"},
		"unknown field":            {"POST", "", with(func(b map[string]any) { b["events"] = []string{"x"} }), 422, "events"},
		"GET without a key":        {"GET", "", nil, 400, "connectionId"},
		"GET with a bad key":       {"GET", "?connectionId=%20x", nil, 400, "connectionId"},
		"DELETE without a key":     {"DELETE", "", nil, 400, "webhookId"},
		"DELETE with keys at odds": {"DELETE", "?connectionId=" + connection, map[string]any{"connectionId": connection + "x"}, 422, "connectionId"},
	} {
		t.Run(name, func(t *testing.T) {
			status, out := c.do(tc.method, "/v1/vessel/webhook"+tc.path, tc.body)
			require.Equal(t, tc.status, status, "%v", out)
			require.Equal(t, tc.field, out["error"].(map[string]any)["field"], "%v", out)
		})
	}
	status, out := c.do("POST", "/v1/vessel/webhook", "{not json")
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_json", out["error"].(map[string]any)["code"])

	status, _ = c.do("GET", "/v1/vessel/webhook?connectionId="+connection, nil)
	require.Equal(t, http.StatusNotFound, status, "no refused request created a webhook")
	var n int64
	require.NoError(t, h.Store.DB().Model(&models.Endpoint{}).Where("tenant_id = ?", connection).Count(&n).Error)
	require.Zero(t, n)
}
