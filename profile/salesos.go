package profile

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// SalesOS reproduces SalesOS's webhooks, as SalesOS's webhook documentation
// describes them (kept in testdata/seeds/001_salesos.txt).
//
// Body: {"id":EventID,"event":EventType,"created_at":OccurredAt (RFC 3339,
// UTC),"data":payload}; the id is the same on every retry so receivers can
// deduplicate, as the documentation advises.
//
// Header X-Webhook-Signature is the lowercase hex HMAC-SHA256 of the exact
// body bytes under the endpoint's secret. The documentation names the algorithm and the
// header but no encoding and no prefix; hex without a "sha256=" prefix is
// the most common reading of "an HMAC-SHA256 signature in the header" and what
// a receiver written from the documentation alone compares against. SalesOS carries
// one signature, so Previous keys are unused.
type SalesOS struct{}

func init() { Register(SalesOS{}) }

// EventCatalog implements Cataloged: SalesOS's event table, with its
// descriptions.
func (SalesOS) EventCatalog() []PresetType { return salesosCatalog }

var salesosCatalog = []PresetType{
	{"lead.created", "A new lead was created"},
	{"lead.updated", "A lead was updated"},
	{"lead.deleted", "A lead was deleted"},
	{"lead.converted", "A lead was converted to contact/opportunity"},
	{"contact.created", "A new contact was created"},
	{"contact.updated", "A contact was updated"},
	{"account.created", "A new account was created"},
	{"account.updated", "An account was updated"},
	{"opportunity.created", "A new opportunity was created"},
	{"opportunity.updated", "An opportunity was updated"},
	{"opportunity.won", "An opportunity was marked as won"},
	{"opportunity.lost", "An opportunity was marked as lost"},
	{"quote.created", "A new quote was created"},
	{"quote.approved", "A quote was approved"},
	{"quote.sent", "A quote was sent to the customer"},
	{"order.created", "A new order was created"},
	{"order.completed", "An order was completed"},
	{"meeting.scheduled", "A meeting was scheduled"},
	{"meeting.completed", "A meeting was completed"},
	{"task.completed", "A task was completed"},
}

// Name implements Profile.
func (SalesOS) Name() string { return "salesos" }

// Render implements Profile.
func (SalesOS) Render(m Message, k Keys) (Rendered, error) {
	if err := checkMessage(m); err != nil {
		return Rendered{}, fmt.Errorf("salesos: %w", err)
	}
	secret, err := currentKey(k)
	if err != nil {
		return Rendered{}, fmt.Errorf("salesos: %w", err)
	}
	data, err := compactObject(m.Payload)
	if err != nil {
		return Rendered{}, fmt.Errorf("salesos: %w", err)
	}
	body := envelope(
		stringField("id", m.EventID),
		stringField("event", m.EventType),
		stringField("created_at", m.OccurredAt.UTC().Format(time.RFC3339Nano)),
		rawField("data", data),
	)
	h := newHeader()
	h.Set("X-Webhook-Signature", hex.EncodeToString(hmacSHA256([]byte(secret), body)))
	return Rendered{Body: body, Header: h}, nil
}

// CheckEvent implements Profile: any JSON object is accepted.
func (SalesOS) CheckEvent(_ string, payload json.RawMessage) error {
	if err := checkObject(payload); err != nil {
		return fmt.Errorf("salesos: %w", err)
	}
	return nil
}

// NewSecret implements Profile: 32 random bytes as hex.
func (SalesOS) NewSecret() (string, error) {
	s, err := randomHex(32)
	if err != nil {
		return "", fmt.Errorf("salesos: %w", err)
	}
	return s, nil
}

// ValidateSecret implements Profile: 16 to 512 printable ASCII characters.
func (SalesOS) ValidateSecret(secret string) error {
	if err := validateToken(secret); err != nil {
		return fmt.Errorf("salesos: %w", err)
	}
	return nil
}
