package e2e

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// These tests send every wire profile through real hookd deliveries and check
// what arrives against the seeds: byte for byte where the seed gives an
// example, with each signature verified independently of package profile —
// for Vessel by the seed's own receiver code running in Node.js.

// occurredAt is the time of the seeds' examples, so bodies can be compared to them.
const occurredAt = "2021-10-01T03:14:55.419Z"

func TestProfileStandardDeliveryVerifiesWithTheStandardWebhooksLibrary(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(204))
	tenant := models.NewID("tenant")
	_, secret := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "profile": "standard"})

	payload := `{"id":"lead_1","name":"Ada <Lovelace> & Co","score":1.50}`
	evID, dlvID := postRawEvent(t, c, "std-"+tenant, "lead.created", tenant, payload)
	awaitDelivery(t, c, dlvID, models.DeliverySucceeded)

	r := onlyRequest(t, rcv)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(r.Body, r.Header))
	require.Equal(t, evID, r.Header.Get("webhook-id"))
	require.Equal(t, `{"type":"lead.created","timestamp":"`+occurredAt+`","data":`+payload+`}`, string(r.Body),
		"the payload travels as sent: 1.50 stays 1.50, <>& stay literal")
}

// vesselRecord is a Contact record that is awkward for JavaScript: non-ASCII,
// <>&, U+2028/U+2029 both literal and escaped, escapes JSON.stringify writes
// differently, numbers it prints differently (1.0, 1e21, -0, 1E-7, 2.5E+3),
// and integer-like keys it moves to the front ("2", "1", "10", "9").
func vesselRecord(connection string) string {
	return `{"2":"two","id":"con_8f2a","1":"one","nativeId":"0035e00000XyZ1AAA","connectionId":"` + connection + `",` +
		`"firstName":"Zoë","lastName":"Dupré 李 😀","company":"Tom <b> & Jerry's",` +
		`"separators":"a` + "\u2028" + `b` + "\u2029" + `c",` +
		`"escaped":"q\" b\\ s\/ t\t n\n nul\u0000 e\u0301 \u00e9 \ud83d\ude00 us\u001f del\u007f sep\u2028",` +
		`"one":1.0,"big":1e21,"negz":-0,"tiny":1E-7,"exp":2.5E+3,"frac":0.1,"max":9007199254740991,` +
		`"list":[1.50,-0.0,1e-6,123e-20,true,null],"nested":{"10":true,"a":{},"9":[]}}`
}

// vesselRecordAsJS is vesselRecord as JSON.stringify(JSON.parse(…)) writes it
// (checked against Node by hand and, in the test, by the Node receiver).
func vesselRecordAsJS(connection string) string {
	return `{"1":"one","2":"two","id":"con_8f2a","nativeId":"0035e00000XyZ1AAA","connectionId":"` + connection + `",` +
		`"firstName":"Zoë","lastName":"Dupré 李 😀","company":"Tom <b> & Jerry's",` +
		`"separators":"a` + "\u2028" + `b` + "\u2029" + `c",` +
		`"escaped":"q\" b\\ s/ t\t n\n nul\u0000 e` + "\u0301" + ` é 😀 us\u001f del` + "\x7f" + ` sep` + "\u2028" + `",` +
		`"one":1,"big":1e+21,"negz":0,"tiny":1e-7,"exp":2500,"frac":0.1,"max":9007199254740991,` +
		`"list":[1.5,0,0.000001,1.23e-18,true,null],"nested":{"9":[],"10":true,"a":{}}}`
}

func TestProfileVesselDeliveriesVerifyWithTheSeedsOwnReceiverInNode(t *testing.T) {
	t.Parallel()
	c := api(t)
	connection := models.NewID("conn")
	token := randomHex(t, 32)
	node := startNode(t, "../profile/testdata/vessel_receiver.js", `VESSEL_TOKENS={"`+connection+`":"`+token+`"}`)
	relay := newRelay(t, node)
	_, secret := c.createEndpoint(map[string]any{
		"url": relay.URL + "/webhooks/vessel", "tenant_id": connection, "profile": "vessel", "secret": token,
		"retry_schedule": []string{},
	})
	require.Equal(t, token, secret)

	for _, tc := range []struct {
		name, eventType, payload, wantData string
	}{
		{
			"OBJECT_CHANGE CREATE with an awkward record", "OBJECT_CHANGE",
			`{"objectType":"Contact","eventType":"CREATE","record":` + vesselRecord(connection) + `}`,
			`{"objectType":"Contact","eventType":"CREATE","record":` + vesselRecordAsJS(connection) + `}`,
		},
		{
			"OBJECT_CHANGE DELETE carries only the ids", "OBJECT_CHANGE",
			`{"objectType":"Deal","eventType":"DELETE","record":{"id":"deal_1","nativeId":"006A","connectionId":"` + connection + `"}}`,
			`{"objectType":"Deal","eventType":"DELETE","record":{"id":"deal_1","nativeId":"006A","connectionId":"` + connection + `"}}`,
		},
		{
			"STATUS_CHANGE", "STATUS_CHANGE",
			`{"status":"READY"}`, `{"status":"READY"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Unix()
			evID, dlvID := postRawEvent(t, c, "vessel-"+strings.ReplaceAll(tc.name, " ", "-")+"-"+connection, tc.eventType, connection, tc.payload)
			d := awaitDelivery(t, c, dlvID, models.DeliverySucceeded)
			att := d["attempts"].([]any)[0].(map[string]any)
			require.Equal(t, float64(200), att["status_code"], "the seed's receiver accepted the signature: %v", att["response_excerpt"])

			r := relay.request(t, evID)
			require.Equal(t, `{"eventId":"`+evID+`","type":"`+tc.eventType+`","data":`+tc.wantData+`}`, string(r.Body),
				"the body is already what JSON.stringify(JSON.parse(body)) gives, so the seed's signature check holds")
			require.Equal(t, connection, r.Header.Get("x-vessel-connection-id"))
			ts, err := strconv.ParseInt(r.Header.Get("x-vessel-timestamp"), 10, 64)
			require.NoError(t, err)
			require.InDelta(t, before, ts, 60, "x-vessel-timestamp is unix seconds")
			sum := sha256.Sum256([]byte(token + string(r.Body) + r.Header.Get("x-vessel-timestamp")))
			require.Equal(t, hex.EncodeToString(sum[:]), r.Header.Get("x-vessel-signature"))
		})
	}
}

func TestProfileVesselRefusesAtIngestAPayloadJavaScriptWouldChange(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(200))
	connection := models.NewID("conn")
	epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": connection, "profile": "vessel"})

	record := func(field string) string {
		return `{"objectType":"Deal","eventType":"UPDATE","record":{"id":"deal_1",` + field + `}}`
	}
	for name, tc := range map[string]struct{ payload, mention string }{
		"an integer beyond 2^53": {record(`"amount":9007199254740993`), "9007199254740992"},
		"a duplicate key":        {record(`"stage":"won","stage":"lost"`), "stage"},
		"a lone surrogate":       {record(`"name":"\ud800"`), "surrogate"},
		"too many digits":        {record(`"ratio":0.12345678901234567890`), "ratio"},
	} {
		t.Run(name, func(t *testing.T) {
			key := "refused-" + strings.ReplaceAll(name, " ", "-") + "-" + connection
			body := `{"type":"OBJECT_CHANGE","tenant_id":"` + connection + `","payload":` + tc.payload + `}`
			status, out := c.do("POST", "/v1/events", body, "Idempotency-Key", key)
			require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
			e := out["error"].(map[string]any)
			require.Equal(t, "validation_failed", e["code"])
			require.Equal(t, "payload", e["field"])
			require.Contains(t, e["message"], tc.mention)

			// The key was not used up: the same key with another body is a new event, not a 409.
			evID, _ := postRawEvent(t, c, key, "STATUS_CHANGE", connection, `{"status":"READY"}`)
			require.NotEmpty(t, evID)
		})
	}
	var n int64
	require.NoError(t, hookd.Store.DB().Model(&models.Event{}).
		Where("tenant_id = ? AND type = ?", connection, "OBJECT_CHANGE").Count(&n).Error)
	require.Zero(t, n, "no refused event was written")
	status, out := c.do("GET", "/v1/deliveries?endpoint_id="+epID+"&limit=250", nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["data"], 4, "only the four accepted STATUS_CHANGE events were delivered")
}

func TestProfileSalesOSDeliveryCarriesAHexHMACOfTheBody(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	_, secret := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "profile": "salesos"})

	payload := `{"id":"lead_9f3","first_name":"Jean","last_name":"Dupré","company":"Acme <EU> & Co","status":"new","score":87.5}`
	evID, dlvID := postRawEvent(t, c, "salesos-"+tenant, "lead.created", tenant, payload)
	awaitDelivery(t, c, dlvID, models.DeliverySucceeded)

	r := onlyRequest(t, rcv)
	require.Equal(t, `{"id":"`+evID+`","event":"lead.created","created_at":"`+occurredAt+`","data":`+payload+`}`, string(r.Body))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(r.Body)
	require.Equal(t, hex.EncodeToString(mac.Sum(nil)), r.Header.Get("X-Webhook-Signature"),
		"X-Webhook-Signature is the lowercase hex HMAC-SHA256 of the body")
}

// apideckSeedExample is Apideck's documented "Connection Created" example event.
const apideckSeedExample = `{
  "payload": {
    "event_id": "9755c355-56c3-4a2f-a2da-86ff4411fccb",
    "event_type": "vault.connection.created",
    "service_id": "apideck-vault",
    "entity_id": "1111+test_user_id",
    "entity_type": "Connection",
    "entity": {
      "id": "1111+test_user_id",
      "consumer_id": "test_user_id",
      "unified_api": "crm",
      "service_id": "salesforce",
      "name": "Salesforce",
      "icon": "https://res.cloudinary.com/apideck/image/upload/v1529456047/catalog/salesforce/icon128x128.png",
      "logo": "https://c1.sfdcstatic.com/content/dam/web/en_us/www/images/home/logo-salesforce-m.svg",
      "website": "https://www.salesforce.com",
      "tag_line": "CRM software solutions and enterprise cloud computing from Salesforce, the leader in customer relationship management (CRM) and PaaS. Free 30 day trial.",
      "auth_type": "oauth2",
      "enabled": true,
      "created_at": "2020-09-19T12:18:37.071Z",
      "updated_at": "2020-09-19T12:18:37.071Z",
      "state": "added"
    },
    "execution_attempt": 2,
    "occurred_at": "2021-10-01T03:14:55.419Z"
  }
}`

func TestProfileApideckRetryCountsExecutionAttemptAndKeepsTheIdempotencyKey(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return 503
		}
		return 200
	})
	tenant := models.NewID("consumer")
	_, secret := c.createEndpoint(map[string]any{
		"url": rcv.URL, "tenant_id": tenant, "profile": "apideck", "retry_schedule": []string{"50ms"},
	})

	var seed struct {
		Payload struct {
			Entity json.RawMessage `json:"entity"`
		} `json:"payload"`
	}
	require.NoError(t, json.Unmarshal([]byte(apideckSeedExample), &seed))
	evID, dlvID := postRawEvent(t, c, "apideck-"+tenant, "vault.connection.created", tenant,
		`{"entity":`+string(seed.Payload.Entity)+`}`)
	d := awaitDelivery(t, c, dlvID, models.DeliverySucceeded)
	require.Equal(t, float64(2), d["attempt_count"])

	reqs := rcv.requests()
	require.Len(t, reqs, 2)
	for i, r := range reqs {
		attempt := i + 1
		want := strings.NewReplacer(
			`"event_id": "9755c355-56c3-4a2f-a2da-86ff4411fccb"`, `"event_id": "`+evID+`"`,
			`"execution_attempt": 2`, `"execution_attempt": `+strconv.Itoa(attempt),
		).Replace(apideckSeedExample)
		var compact bytes.Buffer
		require.NoError(t, json.Compact(&compact, []byte(want)))
		require.Equal(t, compact.String(), string(r.Body),
			"attempt %d is the seed's example with this event's id and the attempt number", attempt)

		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(r.Body)
		require.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), r.Header.Get("x-apideck-signature"),
			"x-apideck-signature is the base64 HMAC-SHA256 of the body")
		require.Equal(t, evID, r.Header.Get("x-apideck-idempotency-key"), "the same key on every attempt")
		require.Equal(t, "vault.connection.created", r.Header.Get("x-apideck-event-type"))
	}
}

// inlineSecretSeedExample is the inline-secret vendor's documented sample payload.
const inlineSecretSeedExample = `{
    "id_space": "eb8edc65-129a-4cb6-abbe-6bf8979c0658",
    "event": "lead.create",
    "secret": "wh_a46f35f22d9723a",
    "payload": {
        "id": "e106db1f-aba3-40ba-97a7-507b54757ef8",
        "email": null,
        "company": null,
        "notes": null,
        "phone": null,
        "linkedin_url": null,
        "created_at": "2023-04-29T11:13:55.021Z",
        "updated_at": null,
        "first_name": "Jean",
        "icebreaker": "",
        "last_name": "remove",
        "website_url": null,
        "timezone": null,
        "city": null,
        "company_role": null,
        "twitter_name": null,
        "avatar_url": null,
        "icebreaker_2": "",
        "icebreaker_3": "",
        "icebreaker_4": "",
        "email_bounce_score": null,
        "twitter_company_name": null,
        "is_deleted": false,
        "is_deleted_at": null,
        "custom_fields": null,
        "custom_fields_schema": null,
        "order": 0,
        "contract_value": 0,
        "is_tracked": false,
        "id_import_task": null,
        "id_linkedin_company": null,
        "id_linkedin": null,
        "id_space": "eb8edc65-129a-4cb6-abbe-6bf8979c0658",
        "id_twitter_company": null,
        "id_twitter": null
    }
}`

func TestProfileInlineSecretPutsTheSecretAndTheSpaceInTheBody(t *testing.T) {
	t.Parallel()
	c := api(t)
	rcv := newReceiver(t, always(200))
	space := newUUID(t)
	_, secret := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": space, "profile": "inline-secret"})
	require.Regexp(t, `^wh_[0-9a-f]{32}$`, secret, "a generated secret looks like the seed's")

	sample := strings.NewReplacer("eb8edc65-129a-4cb6-abbe-6bf8979c0658", space, "wh_a46f35f22d9723a", secret).
		Replace(inlineSecretSeedExample)
	var parts struct {
		Payload json.RawMessage `json:"payload"`
	}
	require.NoError(t, json.Unmarshal([]byte(sample), &parts))
	_, dlvID := postRawEvent(t, c, "inline-"+space, "lead.create", space, string(parts.Payload))
	awaitDelivery(t, c, dlvID, models.DeliverySucceeded)

	r := onlyRequest(t, rcv)
	var want bytes.Buffer
	require.NoError(t, json.Compact(&want, []byte(sample)))
	require.Equal(t, want.String(), string(r.Body), "the body is the seed's sample, with this space and this endpoint's secret")
	for name := range r.Header {
		require.NotContains(t, strings.ToLower(name), "signature", "the inline-secret vendor signs nothing")
	}
}

// postRawEvent ingests an event whose payload is the given JSON text, sent as
// is (not re-encoded by Go), occurred at occurredAt. It returns the event id
// and the id of its one delivery.
func postRawEvent(t *testing.T, c *client, key, eventType, tenant, payload string) (eventID, deliveryID string) {
	t.Helper()
	body := `{"type":"` + eventType + `","tenant_id":"` + tenant + `","occurred_at":"` + occurredAt + `","payload":` + payload + `}`
	status, out := c.do("POST", "/v1/events", body, "Idempotency-Key", key)
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	ds := out["deliveries"].([]any)
	require.Len(t, ds, 1)
	return out["id"].(string), ds[0].(map[string]any)["id"].(string)
}

// awaitDelivery waits until the delivery is finished, requires the status and
// returns the delivery with its attempts.
func awaitDelivery(t *testing.T, c *client, id, status string) map[string]any {
	t.Helper()
	var d map[string]any
	waitFor(t, 20*time.Second, "delivery "+id+" finished", func() bool {
		code, out := c.do("GET", "/v1/deliveries/"+id, nil)
		require.Equal(t, http.StatusOK, code)
		d = out
		return out["status"] != models.DeliveryPending && out["status"] != models.DeliveryHeld
	})
	require.Equal(t, status, d["status"], "attempts: %v", d["attempts"])
	return d
}

// onlyRequest returns the one request a receiver got.
func onlyRequest(t *testing.T, r *receiver) received {
	t.Helper()
	reqs := r.requests()
	require.Len(t, reqs, 1)
	return reqs[0]
}

// relay is a loopback server that forwards every request to target and
// answers with target's answer, recording the requests: the bytes a receiver
// in another process was sent.
type relay struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

func newRelay(t *testing.T, target string) *relay {
	r := &relay{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{At: time.Now(), Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		fwd, err := http.NewRequest(req.Method, target+req.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fwd.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(fwd)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(r.Close)
	return r
}

// request returns the request the relay got for a Vessel event.
func (r *relay) request(t *testing.T, eventID string) received {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, got := range r.got {
		if bytes.Contains(got.Body, []byte(`"eventId":"`+eventID+`"`)) {
			return got
		}
	}
	t.Fatalf("the relay got no request for event %s", eventID)
	return received{}
}

// startNode runs a Node.js receiver script on a loopback port and returns its
// base URL; the process is stopped when the test ends. Without node the test
// is skipped, unless CI is set, where that is a failure.
func startNode(t *testing.T, script string, env ...string) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is required in CI: %v", err)
		}
		t.Skipf("node not found, skipping the JavaScript receiver: %v", err)
	}
	cmd := exec.Command(path, script)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "%s did not report its port", script)
	var ready struct{ Port int }
	require.NoError(t, json.Unmarshal([]byte(line), &ready))
	return fmt.Sprintf("http://127.0.0.1:%d", ready.Port)
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func newUUID(t *testing.T) string {
	h := randomHex(t, 16)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}
