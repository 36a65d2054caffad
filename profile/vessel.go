package profile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Vessel reproduces Vessel's webhooks, as Vessel's webhook documentation
// describes them (kept in testdata/seeds/000_vessel.txt).
//
// Body: {"eventId":EventID,"type":EventType,"data":payload}. The event type is
// OBJECT_CHANGE, whose payload is {objectType, eventType, record}, or
// STATUS_CHANGE, whose payload is {status}.
//
// Headers: x-vessel-timestamp is SentAt in unix seconds (the documentation says "unix
// timestamp", which conventionally counts seconds; the receiver only
// concatenates it, so either unit verifies), x-vessel-connection-id is the
// tenant, and x-vessel-signature is hex(sha256(secret + body + timestamp)):
// the endpoint's secret plays the connection's access token.
//
// Vessel's documented receiver hashes JSON.stringify(req.body) of the parsed body, not
// the bytes it received, so the body is written as JavaScript would re-write
// it (see jsCanonical) and CheckEvent refuses payloads that cannot survive
// that round trip. Vessel signs with one token, so Previous keys are unused.
type Vessel struct{}

// Vessel event types, object types, change kinds and statuses from Vessel's documentation.
var (
	vesselEventTypes  = []string{"OBJECT_CHANGE", "STATUS_CHANGE"}
	vesselObjectTypes = []string{"Contact", "Account", "Deal", "Lead", "User", "Note", "Task", "Event", "EventAttendee", "Email"}
	vesselChangeKinds = []string{"CREATE", "UPDATE", "DELETE"}
	vesselStatuses    = []string{"NEW_CONNECTION", "INITIAL_SYNCED", "READY"}
	// A DELETE record carries only these.
	vesselDeleteKeys = []string{"id", "nativeId", "connectionId"}
)

func init() { Register(Vessel{}) }

// EventCatalog implements Cataloged: Vessel's two event types.
func (Vessel) EventCatalog() []PresetType { return vesselCatalog }

var vesselCatalog = []PresetType{
	{"OBJECT_CHANGE", "An object was created, updated or deleted; data.objectType is one of Contact, Account, Deal, Lead, User, Note, Task, Event, EventAttendee, Email and data.eventType one of CREATE, UPDATE, DELETE"},
	{"STATUS_CHANGE", "The connection's status changed; data.status is one of NEW_CONNECTION, INITIAL_SYNCED, READY"},
}

// Name implements Profile.
func (Vessel) Name() string { return "vessel" }

// Render implements Profile.
func (Vessel) Render(m Message, k Keys) (Rendered, error) {
	if err := checkMessage(m); err != nil {
		return Rendered{}, fmt.Errorf("vessel: %w", err)
	}
	if m.TenantID == "" {
		return Rendered{}, errors.New("vessel: message has no tenant (the x-vessel-connection-id)")
	}
	token, err := currentKey(k)
	if err != nil {
		return Rendered{}, fmt.Errorf("vessel: %w", err)
	}
	body, err := vesselBody(m)
	if err != nil {
		return Rendered{}, fmt.Errorf("vessel: %w", err)
	}
	ts := strconv.FormatInt(m.SentAt.Unix(), 10)
	h := newHeader()
	h.Set("x-vessel-timestamp", ts)
	h.Set("x-vessel-signature", VesselSignature(token, body, ts))
	h.Set("x-vessel-connection-id", m.TenantID)
	return Rendered{Body: body, Header: h}, nil
}

// VesselSignature returns hex(sha256(token + body + timestamp)), the signature
// Vessel's documented receiver recomputes.
func VesselSignature(token string, body []byte, timestamp string) string {
	h := sha256.New()
	h.Write([]byte(token))
	h.Write(body)
	h.Write([]byte(timestamp))
	return hex.EncodeToString(h.Sum(nil))
}

// vesselBody writes the envelope as JSON.stringify would re-write it.
func vesselBody(m Message) ([]byte, error) {
	if err := checkObject(m.Payload); err != nil {
		return nil, err
	}
	data, err := parseJS(m.Payload, "payload")
	if err != nil {
		return nil, err
	}
	env := jsObjectOf(
		[]string{"eventId", "type", "data"},
		[]jsValue{{kind: jsString, text: m.EventID}, {kind: jsString, text: m.EventType}, data},
	)
	return env.appendJSON(nil), nil
}

// CheckEvent implements Profile: the event must have one of the shapes Vessel documents
// and survive a JavaScript JSON.parse/JSON.stringify round trip unchanged.
func (Vessel) CheckEvent(eventType string, payload json.RawMessage) error {
	if err := checkVessel(eventType, payload); err != nil {
		return fmt.Errorf("vessel: %w", err)
	}
	return nil
}

func checkVessel(eventType string, payload json.RawMessage) error {
	if !slices.Contains(vesselEventTypes, eventType) {
		return fmt.Errorf("event type %q is not a Vessel event type (%s)", eventType, strings.Join(vesselEventTypes, ", "))
	}
	if err := checkObject(payload); err != nil {
		return err
	}
	data, err := parseJS(payload, "payload")
	if err != nil {
		return err
	}
	if eventType == "STATUS_CHANGE" {
		if err := onlyKeys(data, "payload", "status"); err != nil {
			return err
		}
		return oneOf(data, "payload.status", "status", vesselStatuses)
	}
	if err := onlyKeys(data, "payload", "objectType", "eventType", "record"); err != nil {
		return err
	}
	if err := oneOf(data, "payload.objectType", "objectType", vesselObjectTypes); err != nil {
		return err
	}
	if err := oneOf(data, "payload.eventType", "eventType", vesselChangeKinds); err != nil {
		return err
	}
	record, ok := data.member("record")
	if !ok || record.kind != jsObject {
		return errors.New("payload.record must be an object")
	}
	if kind, _ := data.member("eventType"); kind.text != "DELETE" {
		return nil
	}
	if err := onlyKeys(record, "payload.record of a DELETE", vesselDeleteKeys...); err != nil {
		return err
	}
	for _, key := range vesselDeleteKeys {
		if v, ok := record.member(key); !ok || v.kind != jsString || v.text == "" {
			return fmt.Errorf("payload.record of a DELETE must carry %s as a non-empty string", key)
		}
	}
	return nil
}

// onlyKeys refuses members of obj other than allowed.
func onlyKeys(obj jsValue, where string, allowed ...string) error {
	for _, key := range obj.keys {
		if !slices.Contains(allowed, key) {
			return fmt.Errorf("%s has the unexpected key %q; it carries only %s", where, key, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// oneOf requires obj[key] to be a string from values.
func oneOf(obj jsValue, where, key string, values []string) error {
	v, ok := obj.member(key)
	if !ok {
		return fmt.Errorf("%s is missing; it must be one of %s", where, strings.Join(values, ", "))
	}
	if v.kind != jsString || !slices.Contains(values, v.text) {
		return fmt.Errorf("%s must be one of %s, got %s", where, strings.Join(values, ", "), shorten(string(v.appendJSON(nil))))
	}
	return nil
}

// NewSecret implements Profile: 32 random bytes as hex, an opaque access token.
func (Vessel) NewSecret() (string, error) {
	s, err := randomHex(32)
	if err != nil {
		return "", fmt.Errorf("vessel: %w", err)
	}
	return s, nil
}

// ValidateSecret implements Profile: the connection's access token, 16 to 512
// printable ASCII characters.
func (Vessel) ValidateSecret(secret string) error {
	if err := validateToken(secret); err != nil {
		return fmt.Errorf("vessel: %w", err)
	}
	return nil
}
