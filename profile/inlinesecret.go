package profile

import (
	"encoding/json"
	"errors"
	"fmt"
)

// InlineSecret reproduces a vendor that puts the endpoint's
// secret inside the body instead of signing it (its documentation is kept in
// testdata/seeds/003_inline_secret.txt; the vendor is not named there).
//
// Body: {"id_space":TenantID,"event":EventType,"secret":the current secret,
// "payload":payload}. No signature headers. Only the current secret is sent.
// Secrets look like the documentation's sample: "wh_" followed by hex.
type InlineSecret struct{}

func init() { Register(InlineSecret{}) }

// EventCatalog implements Cataloged: the documentation lists names by group only;
// the descriptions say what each name means.
func (InlineSecret) EventCatalog() []PresetType { return inlineSecretCatalog }

var inlineSecretCatalog = []PresetType{
	{"lead.create", "Lead event: a lead was created"},
	{"lead.update", "Lead event: a lead was updated"},
	{"lead.delete", "Lead event: a lead was deleted"},
	{"lead.status.update", "Lead activity: a lead's status was updated"},
	{"lead.list.update", "Lead activity: a lead's list was updated"},
	{"lead.tags.update", "Lead activity: a lead's tags were updated"},
	{"lead.track", "Lead activity: a lead was tracked"},
	{"lead.task.create", "Lead activity: a task was created on a lead"},
	{"lead.task.update", "Lead activity: a task on a lead was updated"},
	{"lead.task.delete", "Lead activity: a task on a lead was deleted"},
	{"lead.note.create", "Lead activity: a note was created on a lead"},
	{"lead.note.update", "Lead activity: a note on a lead was updated"},
	{"lead.note.delete", "Lead activity: a note on a lead was deleted"},
	{"lead.linkedin.new", "Lead message: a new LinkedIn message from a lead"},
	{"lead.twitter.new", "Lead message: a new Twitter message from a lead"},
	{"lead.email.new", "Lead message: a new email from a lead"},
	{"campaign.create", "Campaign event: a campaign was created"},
	{"campaign.update", "Campaign event: a campaign was updated"},
	{"campaign.delete", "Campaign event: a campaign was deleted"},
	{"campaign.email.sent", "Campaign email: an email was sent"},
	{"campaign.email.reply", "Campaign email: an email was replied to"},
	{"campaign.email.open", "Campaign email: an email was opened"},
	{"campaign.email.click", "Campaign email: a link in an email was clicked"},
	{"campaign.email.bounce", "Campaign email: an email bounced"},
	{"campaign.email.unsubscribe", "Campaign email: a recipient unsubscribed"},
	{"list.create", "List event: a list was created"},
	{"list.update", "List event: a list was updated"},
	{"list.delete", "List event: a list was deleted"},
	{"status.create", "Status event: a status was created"},
	{"status.update", "Status event: a status was updated"},
	{"status.delete", "Status event: a status was deleted"},
	{"tag.create", "Tag event: a tag was created"},
	{"tag.update", "Tag event: a tag was updated"},
	{"tag.delete", "Tag event: a tag was deleted"},
}

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
