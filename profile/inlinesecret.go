package profile

import (
	"encoding/json"
	"errors"
	"fmt"
)

// InlineSecret reproduces the vendor of seed 003, which puts the endpoint's
// secret inside the body instead of signing it.
//
// Body: {"id_space":TenantID,"event":EventType,"secret":the current secret,
// "payload":payload}. No signature headers. Only the current secret is sent.
// Secrets look like the seed's sample: "wh_" followed by hex.
type InlineSecret struct{}

func init() { Register(InlineSecret{}) }

// Name implements Profile.
func (InlineSecret) Name() string { return "inline-secret" }

// Render implements Profile.
func (InlineSecret) Render(m Message, k Keys) (Rendered, error) {
	if err := checkMessage(m); err != nil {
		return Rendered{}, fmt.Errorf("inline-secret: %w", err)
	}
	if m.TenantID == "" {
		return Rendered{}, errors.New("inline-secret: message has no tenant (the id_space)")
	}
	secret, err := currentKey(k)
	if err != nil {
		return Rendered{}, fmt.Errorf("inline-secret: %w", err)
	}
	payload, err := compactObject(m.Payload)
	if err != nil {
		return Rendered{}, fmt.Errorf("inline-secret: %w", err)
	}
	body := envelope(
		stringField("id_space", m.TenantID),
		stringField("event", m.EventType),
		stringField("secret", secret),
		rawField("payload", payload),
	)
	return Rendered{Body: body, Header: newHeader()}, nil
}

// CheckEvent implements Profile: any JSON object is accepted.
func (InlineSecret) CheckEvent(_ string, payload json.RawMessage) error {
	if err := checkObject(payload); err != nil {
		return fmt.Errorf("inline-secret: %w", err)
	}
	return nil
}

// NewSecret implements Profile: "wh_" + 16 random bytes as hex.
func (InlineSecret) NewSecret() (string, error) {
	s, err := randomHex(16)
	if err != nil {
		return "", fmt.Errorf("inline-secret: %w", err)
	}
	return "wh_" + s, nil
}

// ValidateSecret implements Profile: 16 to 512 printable ASCII characters.
func (InlineSecret) ValidateSecret(secret string) error {
	if err := validateToken(secret); err != nil {
		return fmt.Errorf("inline-secret: %w", err)
	}
	return nil
}
