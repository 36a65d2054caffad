package profile

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func init() {
	addProfileCase("apideck", profileCase{
		eventType:   "vault.connection.created",
		payload:     `{"id":"x1"}`,
		weakSecrets: []string{"", "short"},
	})
}

func TestApideckPresetMatchesTheSeed(t *testing.T) {
	t.Parallel()
	seed2 := seedText(t, "002_apideck.txt")
	var apideck []PresetType
	descriptions := regexp.MustCompile(`(?m)^Event broadcast .*$`).FindAllString(seed2, -1)
	for i, m := range regexp.MustCompile(`"event_type": "([^"]+)"`).FindAllStringSubmatch(seed2, -1) {
		apideck = append(apideck, PresetType{m[1], descriptions[i]})
	}
	require.Len(t, apideck, 9)
	require.Equal(t, apideck, Presets()["apideck"])
}

const apideckSecret = "apideck-api-key-0123456789"

type apideckExample struct {
	Payload struct {
		EventID          string          `json:"event_id"`
		EventType        string          `json:"event_type"`
		ServiceID        string          `json:"service_id"`
		EntityID         string          `json:"entity_id"`
		EntityType       string          `json:"entity_type"`
		Entity           json.RawMessage `json:"entity"`
		ExecutionAttempt int             `json:"execution_attempt"`
		OccurredAt       time.Time       `json:"occurred_at"`
	} `json:"payload"`
}

// apideckExamples returns every example event in Apideck's documentation, compacted.
func apideckExamples(t *testing.T) [][]byte {
	examples := seedJSON(t, seedText(t, "002_apideck.txt"), "{\n  \"payload\"")
	require.Len(t, examples, 9, "Apideck documents nine example events")
	return examples
}

func TestApideckReproducesEverySeedExampleByteForByte(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, "apideck")
	for _, example := range apideckExamples(t) {
		var ex apideckExample
		require.NoError(t, json.Unmarshal(example, &ex))
		m := Message{
			EventID:    ex.Payload.EventID,
			EventType:  ex.Payload.EventType,
			TenantID:   "test_user_id",
			OccurredAt: ex.Payload.OccurredAt,
			Attempt:    ex.Payload.ExecutionAttempt,
			SentAt:     ex.Payload.OccurredAt,
		}
		t.Run(m.EventType, func(t *testing.T) {
			t.Parallel()
			// Entity form: the payload is the entity; the rest is derived.
			m.Payload = ex.Payload.Entity
			require.NoError(t, p.CheckEvent(m.EventType, m.Payload))
			r, err := p.Render(m, Keys{Current: apideckSecret})
			require.NoError(t, err)
			require.Equal(t, string(example), string(r.Body))

			// Envelope form: every field given explicitly.
			m.Payload, err = json.Marshal(map[string]any{
				"service_id": ex.Payload.ServiceID, "entity_id": ex.Payload.EntityID,
				"entity_type": ex.Payload.EntityType, "entity": ex.Payload.Entity,
			})
			require.NoError(t, err)
			require.NoError(t, p.CheckEvent(m.EventType, m.Payload))
			r, err = p.Render(m, Keys{Current: apideckSecret})
			require.NoError(t, err)
			require.Equal(t, string(example), string(r.Body))

			require.Equal(t, m.EventType, r.Header.Get("x-apideck-event-type"))
			require.Equal(t, m.EventID, r.Header.Get("x-apideck-idempotency-key"))
			mac := hmac.New(sha256.New, []byte(apideckSecret))
			mac.Write(r.Body)
			require.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), r.Header.Get("x-apideck-signature"))
		})
	}
}

func TestApideckRenderMatchesGolden(t *testing.T) {
	t.Parallel()
	var ex apideckExample
	require.NoError(t, json.Unmarshal(apideckExamples(t)[0], &ex))
	r, err := mustLookup(t, "apideck").Render(fixedMessage("vault.connection.created", "test_user_id", string(ex.Payload.Entity)), Keys{Current: apideckSecret})
	require.NoError(t, err)
	requireGolden(t, "apideck_connection_created", r)
}

func TestApideckCountsAttemptsButKeepsTheIdempotencyKey(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, "apideck")
	var keys []string
	for attempt := 1; attempt <= 3; attempt++ {
		m := fixedMessage("vault.connection.updated", "c", `{"id":"1111+test_user_id"}`)
		m.Attempt = attempt
		r, err := p.Render(m, Keys{Current: apideckSecret})
		require.NoError(t, err)
		var body apideckExample
		require.NoError(t, json.Unmarshal(r.Body, &body))
		require.Equal(t, attempt, body.Payload.ExecutionAttempt)
		keys = append(keys, r.Header.Get("x-apideck-idempotency-key"))
	}
	require.Equal(t, []string{fixedMessage("", "", "").EventID, fixedMessage("", "", "").EventID, fixedMessage("", "", "").EventID}, keys)
}

func TestApideckDerivesEntityFieldsFromTheEventType(t *testing.T) {
	t.Parallel()
	r, err := mustLookup(t, "apideck").Render(fixedMessage("crm.purchase_order.created", "c", `{"id":42,"service_id":"salesforce","total":1.50}`), Keys{Current: apideckSecret})
	require.NoError(t, err)
	require.Equal(t, `{"payload":{"event_id":"evt_01J9Z3Q4K8M2N7P5R6S0T1V2W3","event_type":"crm.purchase_order.created","service_id":"salesforce","entity_id":"42","entity_type":"PurchaseOrder","entity":{"id":42,"service_id":"salesforce","total":1.50},"execution_attempt":2,"occurred_at":"2021-10-01T03:14:55.419Z"}}`, string(r.Body))
}

func TestApideckCheckEventRefusesPayloadsWithoutEntityFields(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, eventType, payload, err string }{
		{"no service outside vault", "crm.contact.created", `{"id":"c1"}`, "apideck: cannot tell the service_id of a crm.contact.created event: give it as payload.service_id next to payload.entity, or as the entity's service_id"},
		{"no entity id", "vault.connection.created", `{"name":"x"}`, "apideck: cannot tell the entity_id: the entity has no string or number id; give it as payload.entity_id next to payload.entity"},
		{"no resource segment", "ping", `{"id":"x","service_id":"s"}`, `apideck: cannot tell the entity_type of a "ping" event (it has no resource segment); give it as payload.entity_type next to payload.entity`},
		{"envelope with a stray key", "vault.connection.created", `{"entity":{"id":"x"},"extra":1}`, `apideck: payload has an entity, so it is an envelope of service_id, entity_id, entity_type, entity only; unexpected key "extra"`},
		{"entity that is not an object", "vault.connection.created", `{"entity":"x"}`, "apideck: payload.entity must be an object"},
		{"entity id that is not a string", "vault.connection.created", `{"entity":{"id":"x"},"entity_id":7}`, "apideck: payload.entity_id must be a non-empty string"},
	}
	p := mustLookup(t, "apideck")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.EqualError(t, p.CheckEvent(tc.eventType, json.RawMessage(tc.payload)), tc.err)
		})
	}
}

func TestApideckSignatureVerifiesWithNodeCrypto(t *testing.T) {
	t.Parallel()
	url := startNode(t, "hmac_receiver.js", `SECRETS={"apideck":"`+apideckSecret+`"}`)
	p := mustLookup(t, "apideck")
	for _, example := range apideckExamples(t) {
		var ex apideckExample
		require.NoError(t, json.Unmarshal(example, &ex))
		r, err := p.Render(fixedMessage(ex.Payload.EventType, "test_user_id", string(ex.Payload.Entity)), Keys{Current: apideckSecret})
		require.NoError(t, err)
		status, text := post(t, url+"/apideck", r)
		require.Equal(t, http.StatusOK, status, text)
	}
	r, err := p.Render(fixedMessage("vault.connection.created", "c", `{"id":"ünï <&> \u2028"}`), Keys{Current: "another-key-0123456789"})
	require.NoError(t, err)
	status, _ := post(t, url+"/apideck", r)
	require.Equal(t, http.StatusUnauthorized, status)
}
