package profile

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	addProfileCase("vessel", profileCase{
		eventType:   "STATUS_CHANGE",
		payload:     `{"status":"READY"}`,
		weakSecrets: []string{"", "short", "has a space in it 123", "tab\tseparated-secret-value", "ünïcödé-secret-value"},
	})
}

func TestVesselPresetMatchesTheSeed(t *testing.T) {
	t.Parallel()
	seed := seedText(t, "000_vessel.txt")
	names := presetNames(t, "vessel")
	for _, name := range names {
		require.Contains(t, seed, `"type": "`+name+`"`)
	}
	require.Equal(t, []string{"OBJECT_CHANGE", "STATUS_CHANGE"}, names)
	require.Equal(t, vesselEventTypes, names, "the preset lists exactly the event types CheckEvent accepts")
}

// The shapes Vessel documents, as payloads (the envelope's data).
var vesselShapes = []struct{ name, eventType, payload string }{
	{"vessel_contact_created", "OBJECT_CHANGE", `{
		"objectType": "Contact", "eventType": "CREATE",
		"record": {"id": "con_8f2a", "nativeId": "0035e00000XyZ1AAA", "connectionId": "conn_1",
		           "firstName": "Jean", "lastName": "Dupré", "email": "jean@example.com", "createdTime": "2023-04-29T11:13:55.021Z"}}`},
	{"vessel_deal_deleted", "OBJECT_CHANGE", `{"objectType":"Deal","eventType":"DELETE","record":{"id":"deal_1","nativeId":"006A","connectionId":"conn_1"}}`},
	{"vessel_status_ready", "STATUS_CHANGE", `{"status":"READY"}`},
}

const vesselToken = "vessel-access-token-for-conn_1"

func TestVesselRenderMatchesGolden(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, "vessel")
	for _, shape := range vesselShapes {
		t.Run(shape.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, p.CheckEvent(shape.eventType, json.RawMessage(shape.payload)))
			m := fixedMessage(shape.eventType, "conn_1", shape.payload)
			r, err := p.Render(m, Keys{Current: vesselToken})
			require.NoError(t, err)
			requireGolden(t, shape.name, r)

			var body struct {
				EventID string          `json:"eventId"`
				Type    string          `json:"type"`
				Data    json.RawMessage `json:"data"`
			}
			require.NoError(t, json.Unmarshal(r.Body, &body))
			require.Equal(t, m.EventID, body.EventID)
			require.Equal(t, shape.eventType, body.Type)
			require.JSONEq(t, shape.payload, string(body.Data))
			require.Equal(t, strconv.FormatInt(fixedSentAt.Unix(), 10), r.Header.Get("x-vessel-timestamp"), "the timestamp is in unix seconds")
			require.Equal(t, "conn_1", r.Header.Get("x-vessel-connection-id"))
			require.Equal(t, VesselSignature(vesselToken, r.Body, r.Header.Get("x-vessel-timestamp")), r.Header.Get("x-vessel-signature"))
		})
	}
}

func TestVesselCheckEventRefusesShapesTheSeedDoesNotDocument(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, eventType, payload, err string }{
		{"unknown event type", "lead.created", `{}`, `vessel: event type "lead.created" is not a Vessel event type (OBJECT_CHANGE, STATUS_CHANGE)`},
		{"unknown status", "STATUS_CHANGE", `{"status":"DONE"}`, `vessel: payload.status must be one of NEW_CONNECTION, INITIAL_SYNCED, READY, got "DONE"`},
		{"missing status", "STATUS_CHANGE", `{}`, `vessel: payload.status is missing; it must be one of NEW_CONNECTION, INITIAL_SYNCED, READY`},
		{"status that is not a string", "STATUS_CHANGE", `{"status":1}`, `vessel: payload.status must be one of NEW_CONNECTION, INITIAL_SYNCED, READY, got 1`},
		{"extra key in a status change", "STATUS_CHANGE", `{"status":"READY","why":"x"}`, `vessel: payload has the unexpected key "why"; it carries only status`},
		{"unknown object type", "OBJECT_CHANGE", `{"objectType":"Invoice","eventType":"CREATE","record":{}}`, `vessel: payload.objectType must be one of Contact, Account, Deal, Lead, User, Note, Task, Event, EventAttendee, Email, got "Invoice"`},
		{"unknown change kind", "OBJECT_CHANGE", `{"objectType":"Lead","eventType":"MERGE","record":{}}`, `vessel: payload.eventType must be one of CREATE, UPDATE, DELETE, got "MERGE"`},
		{"missing record", "OBJECT_CHANGE", `{"objectType":"Lead","eventType":"CREATE"}`, `vessel: payload.record must be an object`},
		{"record that is not an object", "OBJECT_CHANGE", `{"objectType":"Lead","eventType":"UPDATE","record":[1]}`, `vessel: payload.record must be an object`},
		{"extra key in an object change", "OBJECT_CHANGE", `{"objectType":"Lead","eventType":"CREATE","record":{},"extra":1}`, `vessel: payload has the unexpected key "extra"; it carries only objectType, eventType, record`},
		{"delete record with more than the ids", "OBJECT_CHANGE", `{"objectType":"Note","eventType":"DELETE","record":{"id":"1","nativeId":"2","connectionId":"3","body":"x"}}`, `vessel: payload.record of a DELETE has the unexpected key "body"; it carries only id, nativeId, connectionId`},
		{"delete record without nativeId", "OBJECT_CHANGE", `{"objectType":"Note","eventType":"DELETE","record":{"id":"1","connectionId":"3"}}`, `vessel: payload.record of a DELETE must carry nativeId as a non-empty string`},
		{"integer that would change", "OBJECT_CHANGE", `{"objectType":"Deal","eventType":"UPDATE","record":{"amount":12345678901234567890}}`, `vessel: payload.record.amount: 12345678901234567890 would reach a JavaScript receiver as 12345678901234567000 (a JavaScript number holds about 15 to 17 significant digits); send it as a string`},
		{"duplicate key", "OBJECT_CHANGE", `{"objectType":"Deal","eventType":"UPDATE","record":{"a":1,"a":2}}`, `vessel: payload.record has the key "a" twice; JavaScript keeps only the last one, so the receiver would see a different object`},
		{"number that overflows", "OBJECT_CHANGE", `{"objectType":"Deal","eventType":"UPDATE","record":{"x":[1e999]}}`, `vessel: payload.record.x[0]: 1e999 is too large for a JavaScript number (it would become Infinity, which JSON.stringify writes as null)`},
		{"lone surrogate", "OBJECT_CHANGE", `{"objectType":"Deal","eventType":"UPDATE","record":{"name":"\udead"}}`, `vessel: payload.record.name contains a lone surrogate \udead, which cannot be sent as UTF-8`},
		{"invalid UTF-8", "OBJECT_CHANGE", "{\"objectType\":\"Deal\",\"eventType\":\"UPDATE\",\"record\":{\"name\":\"\xff\"}}", `vessel: payload is not valid UTF-8`},
	}
	p := mustLookup(t, "vessel")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.EqualError(t, p.CheckEvent(tc.eventType, json.RawMessage(tc.payload)), tc.err)
		})
	}
}

// Payloads that are awkward for a JavaScript round trip but survive it.
var vesselAwkwardRecords = []string{
	`{"name":"ünïcödé 日本語 😀","escaped":"\u00e9\u65e5\ud83d\ude00"}`,
	`{"html":"<script>alert('&amp;')</script>","slash":"a\/b"}`,
	"{\"separators\":\"\u2028\u2029\",\"escaped\":\"\\u2028\\u2029\"}",
	`{"controls":"\u0000\u0001\u001f\b\f\n\r\t\"\\\u007f"}`,
	`{"numbers":[1.0,1e3,-0,-0.0,1E-7,1e21,1e-6,1e-7,123e-20,1E+2,0.1,0.30000000000000004,9007199254740992,-9007199254740991,1.5e300,5e-324,1.7976931348623157e308,2.2250738585072014e-308,100,12345678901234567000]}`,
	`{"b":1,"2":2,"1":3,"a":4,"10":5,"01":6,"4294967295":7,"4294967294":8,"-1":9,"1.0":10}`,
	`{"nested":{"z":{"2":[{"1":{},"0":[]}],"1":null},"t":true,"f":false},"empty":{},"list":[]}`,
	`{"__proto__":{"polluted":true},"constructor":"x","toString":1}`,
	"{\n  \"pretty\" : [ 1 ,\n\t2 ] ,\r\n  \"spaced\" : { \"k\" : \"v\" }\n}",
	strings.Repeat(`{"d":`, 500) + `"deep"` + strings.Repeat("}", 500),
}

func TestVesselDeliveriesVerifyWithTheSeedsOwnReceiver(t *testing.T) {
	t.Parallel()
	url := startNode(t, "vessel_receiver.js", `VESSEL_TOKENS={"conn_1":"`+vesselToken+`"}`)
	p := mustLookup(t, "vessel")
	send := func(t *testing.T, eventType, payload string) {
		t.Helper()
		require.NoError(t, p.CheckEvent(eventType, json.RawMessage(payload)))
		r, err := p.Render(fixedMessage(eventType, "conn_1", payload), Keys{Current: vesselToken})
		require.NoError(t, err)
		status, text := post(t, url, r)
		require.Equal(t, http.StatusOK, status, "receiver said %q for body %s", text, r.Body)
	}
	for _, shape := range vesselShapes {
		send(t, shape.eventType, shape.payload)
	}
	for _, record := range vesselAwkwardRecords {
		send(t, "OBJECT_CHANGE", `{"objectType":"Contact","eventType":"UPDATE","record":`+record+`}`)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	sent := 0
	for sent < 300 {
		record := randomJSONText(rng, 0)
		payload := `{"objectType":"Note","eventType":"CREATE","record":` + record + `}`
		if _, err := jsCanonical([]byte(record), "record"); err != nil {
			require.Error(t, p.CheckEvent("OBJECT_CHANGE", json.RawMessage(payload)), "CheckEvent accepted %s", payload)
			continue
		}
		send(t, "OBJECT_CHANGE", payload)
		sent++
	}
}

func TestVesselReceiverRejectsATamperedOrMisaddressedDelivery(t *testing.T) {
	t.Parallel()
	url := startNode(t, "vessel_receiver.js", `VESSEL_TOKENS={"conn_1":"`+vesselToken+`"}`)
	p := mustLookup(t, "vessel")
	r, err := p.Render(fixedMessage("STATUS_CHANGE", "conn_1", `{"status":"READY"}`), Keys{Current: "some-other-token-123"})
	require.NoError(t, err)
	status, _ := post(t, url, r)
	require.Equal(t, http.StatusUnauthorized, status, "a wrong token must not verify")

	r, err = p.Render(fixedMessage("STATUS_CHANGE", "conn_1", `{"status":"READY"}`), Keys{Current: vesselToken})
	require.NoError(t, err)
	r.Header.Set("x-vessel-timestamp", "1633058101")
	status, _ = post(t, url, r)
	require.Equal(t, http.StatusUnauthorized, status, "the timestamp is part of the signature")
}

func TestVesselRenderRefusesPayloadsThatCannotRoundTrip(t *testing.T) {
	t.Parallel()
	_, err := mustLookup(t, "vessel").Render(fixedMessage("OBJECT_CHANGE", "conn_1", `{"record":{"n":9007199254740993}}`), Keys{Current: vesselToken})
	require.EqualError(t, err, "vessel: payload.record.n: 9007199254740993 would reach a JavaScript receiver as 9007199254740992 (a JavaScript number holds about 15 to 17 significant digits); send it as a string")
	_, err = mustLookup(t, "vessel").Render(fixedMessage("OBJECT_CHANGE", "", `{}`), Keys{Current: vesselToken})
	require.ErrorContains(t, err, "no tenant")
}
