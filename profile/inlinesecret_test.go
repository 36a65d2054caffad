package profile

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	addProfileCase("inline-secret", profileCase{
		eventType:   "lead.create",
		payload:     `{"id":"x1"}`,
		weakSecrets: []string{"", "wh_short"},
		goodSecrets: []string{"wh_a46f35f22d9723a"},
	})
}

func TestInlineSecretPresetMatchesTheSeed(t *testing.T) {
	t.Parallel()
	var inline []string
	for _, m := range regexp.MustCompile(`(?m)^\s*• [A-Za-z ]+(?:Events|Message): (.+)$`).FindAllStringSubmatch(seedText(t, "003_inline_secret.txt"), -1) {
		inline = append(inline, strings.Split(m[1], ", ")...)
	}
	require.Len(t, inline, 34)
	require.Equal(t, inline, presetNames(t, "inline-secret"))
}

// inlineSecretSample returns the inline-secret vendor's documented sample payload, compacted.
func inlineSecretSample(t *testing.T) []byte {
	samples := seedJSON(t, seedText(t, "003_inline_secret.txt"), "{\n    \"id_space\"")
	require.Len(t, samples, 1)
	return samples[0]
}

func TestInlineSecretReproducesTheSeedSampleByteForByte(t *testing.T) {
	t.Parallel()
	sample := inlineSecretSample(t)
	var s struct {
		IDSpace string          `json:"id_space"`
		Event   string          `json:"event"`
		Secret  string          `json:"secret"`
		Payload json.RawMessage `json:"payload"`
	}
	require.NoError(t, json.Unmarshal(sample, &s))
	p := mustLookup(t, "inline-secret")
	require.NoError(t, p.ValidateSecret(s.Secret), "the seed's own secret is acceptable")
	require.NoError(t, p.CheckEvent(s.Event, s.Payload))

	r, err := p.Render(fixedMessage(s.Event, s.IDSpace, string(s.Payload)), Keys{Current: s.Secret, Previous: []string{"wh_retired0000000"}})
	require.NoError(t, err)
	require.Equal(t, string(sample), string(r.Body))
	require.Equal(t, []string{"Content-Type"}, headerNames(r), "the inline-secret vendor sends no signature headers")
	requireGolden(t, "inline_secret_lead_create", r)
}

func TestInlineSecretCarriesTheCurrentSecretToTheReceiver(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, "inline-secret")
	secret := mustSecret(t, p)
	url := startNode(t, "hmac_receiver.js", `SECRETS={"inline-secret":"`+secret+`"}`)
	r, err := p.Render(fixedMessage("campaign.email.open", "space_1", `{"id":"e1"}`), Keys{Current: secret})
	require.NoError(t, err)
	status, text := post(t, url+"/inline-secret", r)
	require.Equal(t, http.StatusOK, status, text)
}

func headerNames(r Rendered) []string {
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	return names
}
