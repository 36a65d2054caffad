package profile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Apideck reproduces Apideck's webhooks, as Apideck's webhook documentation
// describes them (kept in testdata/seeds/002_apideck.txt).
//
// Body, in the documentation's field order:
//
//	{"payload":{"event_id","event_type","service_id","entity_id","entity_type",
//	            "entity","execution_attempt","occurred_at"}}
//
// event_id is the event id, execution_attempt the attempt number and
// occurred_at OccurredAt in UTC with milliseconds ("2021-10-01T03:14:55.419Z").
//
// The other four come from the payload, in one of two forms:
//
//   - Envelope form, when the payload has an "entity" key: the payload is
//     {"service_id","entity_id","entity_type","entity"} and each is copied;
//     no other keys are allowed. Missing ones get the defaults below.
//   - Entity form, otherwise: the whole payload is the entity.
//
// Defaults: service_id is "apideck-vault" for vault.* events (the service that
// emits them, as in every documented example), otherwise the entity's own service_id;
// entity_id is the entity's id (a number is sent as its digits); entity_type
// is the event type's second segment in PascalCase ("vault.connection.created"
// → "Connection"). CheckEvent refuses events where one cannot be found.
//
// Headers: x-apideck-event-type, x-apideck-idempotency-key (the event id, the
// same on every attempt) and x-apideck-signature, the HMAC-SHA256 of the exact
// body under the endpoint's secret, in standard base64. The documentation names no
// encoding; base64 follows our reading of Apideck's public verification guide
// (a receiver that compares hex changes one call). Apideck signs with one key,
// so Previous keys are unused.
type Apideck struct{}

const apideckVaultService = "apideck-vault"

func init() { Register(Apideck{}) }

// EventCatalog implements Cataloged: Apideck's connection lifecycle
// events, with its descriptions.
func (Apideck) EventCatalog() []PresetType { return apideckCatalog }

var apideckCatalog = []PresetType{
	{"vault.connection.created", "Event broadcast when a connection has been created."},
	{"vault.connection.updated", "Event broadcast when a connection has been updated."},
	{"vault.connection.disabled", "Event broadcast when a connection has been disabled."},
	{"vault.connection.deleted", "Event broadcast when a connection has been deleted."},
	{"vault.connection.callable", "Event broadcast when a connection is now callable."},
	{"vault.connection.revoked", "Event broadcast when a connection has been revoked."},
	{"vault.connection.token_refresh.failed", "Event broadcast when a connection token refresh has failed."},
	{"vault.connection.token_refresh.pending", "Event broadcast when a connection has been token refresh pending."},
	{"vault.connection.token_refresh.recovered", "Event broadcast when a connection has been token refresh recovered."},
}

// Name implements Profile.
func (Apideck) Name() string { return "apideck" }

// Render implements Profile.
func (Apideck) Render(m Message, k Keys) (Rendered, error) {
	if err := checkMessage(m); err != nil {
		return Rendered{}, fmt.Errorf("apideck: %w", err)
	}
	if m.Attempt < 1 {
		return Rendered{}, fmt.Errorf("apideck: attempt must be 1 or more, got %d", m.Attempt)
	}
	secret, err := currentKey(k)
	if err != nil {
		return Rendered{}, fmt.Errorf("apideck: %w", err)
	}
	parts, err := apideckSplit(m.EventType, m.Payload)
	if err != nil {
		return Rendered{}, fmt.Errorf("apideck: %w", err)
	}
	body := envelope(rawField("payload", envelope(
		stringField("event_id", m.EventID),
		stringField("event_type", m.EventType),
		stringField("service_id", parts.serviceID),
		stringField("entity_id", parts.entityID),
		stringField("entity_type", parts.entityType),
		rawField("entity", parts.entity),
		intField("execution_attempt", m.Attempt),
		stringField("occurred_at", m.OccurredAt.UTC().Format("2006-01-02T15:04:05.000Z")),
	)))
	h := newHeader()
	h.Set("x-apideck-event-type", m.EventType)
	h.Set("x-apideck-signature", base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secret), body)))
	h.Set("x-apideck-idempotency-key", m.EventID)
	return Rendered{Body: body, Header: h}, nil
}

// CheckEvent implements Profile: the payload must yield a service_id,
// entity_id and entity_type (see Apideck).
func (Apideck) CheckEvent(eventType string, payload json.RawMessage) error {
	if _, err := apideckSplit(eventType, payload); err != nil {
		return fmt.Errorf("apideck: %w", err)
	}
	return nil
}

type apideckParts struct {
	serviceID, entityID, entityType string
	entity                          []byte
}

var apideckEnvelopeKeys = []string{"service_id", "entity_id", "entity_type", "entity"}

func apideckSplit(eventType string, payload json.RawMessage) (apideckParts, error) {
	compact, err := compactObject(payload)
	if err != nil {
		return apideckParts{}, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(compact, &top); err != nil {
		return apideckParts{}, fmt.Errorf("decode payload: %w", err)
	}
	p := apideckParts{entity: compact}
	entity := top
	if _, ok := top["entity"]; ok {
		if entity, err = p.fromEnvelope(top); err != nil {
			return apideckParts{}, err
		}
	}
	if err := p.fillIn(eventType, entity); err != nil {
		return apideckParts{}, err
	}
	return p, nil
}

// fromEnvelope takes the parts a payload of the envelope form gives
// ({service_id?, entity_id?, entity_type?, entity}) and returns its entity.
func (p *apideckParts) fromEnvelope(top map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	for key := range top {
		if !slices.Contains(apideckEnvelopeKeys, key) {
			return nil, fmt.Errorf("payload has an entity, so it is an envelope of %s only; unexpected key %q", strings.Join(apideckEnvelopeKeys, ", "), key)
		}
	}
	rawEntity := top["entity"]
	if len(rawEntity) == 0 || rawEntity[0] != '{' {
		return nil, errors.New("payload.entity must be an object")
	}
	p.entity = rawEntity
	var entity map[string]json.RawMessage
	if err := json.Unmarshal(rawEntity, &entity); err != nil {
		return nil, fmt.Errorf("decode payload.entity: %w", err)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"service_id", &p.serviceID}, {"entity_id", &p.entityID}, {"entity_type", &p.entityType}} {
		raw, ok := top[f.key]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil || *f.dst == "" {
			return nil, fmt.Errorf("payload.%s must be a non-empty string", f.key)
		}
	}
	return entity, nil
}

// fillIn tells the parts the payload did not give from the event type and
// the entity.
func (p *apideckParts) fillIn(eventType string, entity map[string]json.RawMessage) error {
	if p.serviceID == "" {
		if strings.HasPrefix(eventType, "vault.") {
			p.serviceID = apideckVaultService
		} else if s, ok := stringMember(entity, "service_id"); ok {
			p.serviceID = s
		} else {
			return fmt.Errorf("cannot tell the service_id of a %s event: give it as payload.service_id next to payload.entity, or as the entity's service_id", eventType)
		}
	}
	if p.entityID == "" {
		id, ok := stringMember(entity, "id")
		if !ok {
			if raw, isNum := entity["id"]; isNum && len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
				id, ok = string(raw), true
			}
		}
		if !ok {
			return errors.New("cannot tell the entity_id: the entity has no string or number id; give it as payload.entity_id next to payload.entity")
		}
		p.entityID = id
	}
	if p.entityType == "" {
		segments := strings.Split(eventType, ".")
		if len(segments) < 2 || segments[1] == "" {
			return fmt.Errorf("cannot tell the entity_type of a %q event (it has no resource segment); give it as payload.entity_type next to payload.entity", eventType)
		}
		p.entityType = pascalCase(segments[1])
	}
	return nil
}

func stringMember(obj map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := obj[key]
	if !ok || !bytes.HasPrefix(raw, []byte(`"`)) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || s == "" {
		return "", false
	}
	return s, true
}

// pascalCase turns "connection" into "Connection" and "purchase_order" into
// "PurchaseOrder".
func pascalCase(s string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' }) {
		r, size := utf8.DecodeRuneInString(word)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(word[size:])
	}
	return b.String()
}

// NewSecret implements Profile: 32 random bytes as hex.
func (Apideck) NewSecret() (string, error) {
	s, err := randomHex(32)
	if err != nil {
		return "", fmt.Errorf("apideck: %w", err)
	}
	return s, nil
}

// ValidateSecret implements Profile: 16 to 512 printable ASCII characters.
func (Apideck) ValidateSecret(secret string) error {
	if err := validateToken(secret); err != nil {
		return fmt.Errorf("apideck: %w", err)
	}
	return nil
}
