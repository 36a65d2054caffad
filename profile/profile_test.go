package profile

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegistryListsEveryProfileSorted(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"apideck", "inline-secret", "salesos", "standard", "vessel"}, Names())
	for _, name := range Names() {
		require.Equal(t, name, mustLookup(t, name).Name())
	}
	require.Equal(t, "standard", mustLookup(t, Default).Name())
}

func TestLookupOfUnknownNameListsKnownNames(t *testing.T) {
	t.Parallel()
	_, err := Lookup("stripe")
	require.ErrorIs(t, err, ErrUnknownProfile)
	require.EqualError(t, err, `unknown profile "stripe" (known profiles: apideck, inline-secret, salesos, standard, vessel)`)
}

func TestRegisterTwiceUnderOneNamePanics(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { Register(Standard{}) })
}

func TestEveryProfileSetsJSONContentType(t *testing.T) {
	t.Parallel()
	payloads := map[string]string{"vessel": `{"status":"READY"}`}
	types := map[string]string{"vessel": "STATUS_CHANGE"}
	for _, name := range Names() {
		p := mustLookup(t, name)
		secret, err := p.NewSecret()
		require.NoError(t, err)
		payload, eventType := `{"id":"x1"}`, "vault.connection.created"
		if v, ok := payloads[name]; ok {
			payload, eventType = v, types[name]
		}
		r, err := p.Render(fixedMessage(eventType, "tenant_1", payload), Keys{Current: secret})
		require.NoError(t, err, name)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"), name)
		require.True(t, json.Valid(r.Body), name)
	}
}

func TestNewSecretsPassTheirOwnValidation(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		p := mustLookup(t, name)
		a, err := p.NewSecret()
		require.NoError(t, err)
		b, err := p.NewSecret()
		require.NoError(t, err)
		require.NotEqual(t, a, b, name)
		require.NoError(t, p.ValidateSecret(a), name)
	}
}

func TestValidateSecretRefusesWeakSecretsWithoutEchoingThem(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"standard":      {"", "abc", "whsec_", "whsec_!!!notbase64", "whsec_c2hvcnQ=", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		"vessel":        {"", "short", "has a space in it 123", "tab\tseparated-secret-value", "ünïcödé-secret-value"},
		"salesos":       {"", "short"},
		"apideck":       {"", "short"},
		"inline-secret": {"", "wh_short"},
	}
	for name, secrets := range cases {
		p := mustLookup(t, name)
		for _, s := range secrets {
			err := p.ValidateSecret(s)
			require.Error(t, err, "%s accepted %q", name, s)
			if len(s) > 3 {
				require.NotContains(t, err.Error(), s, "error echoes the secret")
			}
		}
	}
	require.NoError(t, mustLookup(t, "standard").ValidateSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	require.NoError(t, mustLookup(t, "inline-secret").ValidateSecret("wh_a46f35f22d9723a"))
}

func TestEveryProfileRefusesNonObjectPayloads(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		p := mustLookup(t, name)
		for _, payload := range []string{``, `[]`, `"x"`, `{`, `{"a":1} {}`, "{\"a\":\"\xff\"}"} {
			require.Error(t, p.CheckEvent("STATUS_CHANGE", json.RawMessage(payload)), "%s accepted %q", name, payload)
			_, err := p.Render(fixedMessage("STATUS_CHANGE", "tenant_1", payload), Keys{Current: "0123456789abcdef0123"})
			require.Error(t, err, "%s rendered %q", name, payload)
		}
	}
}

func TestRenderRefusesMessagesWithoutIdOrSecret(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		p := mustLookup(t, name)
		secret, err := p.NewSecret()
		require.NoError(t, err)
		m := fixedMessage("STATUS_CHANGE", "tenant_1", `{"status":"READY","id":"1"}`)
		m.EventID = ""
		_, err = p.Render(m, Keys{Current: secret})
		require.ErrorContains(t, err, "no event id", name)
		_, err = p.Render(fixedMessage("STATUS_CHANGE", "tenant_1", `{"status":"READY","id":"1"}`), Keys{})
		require.ErrorContains(t, err, "no current secret", name)
	}
}

func TestRenderRefusesIdsThatCannotTravelInAHeader(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		p := mustLookup(t, name)
		m := fixedMessage("STATUS_CHANGE", "tenant\r\nX-Injected: 1", `{"status":"READY"}`)
		_, err := p.Render(m, Keys{Current: mustSecret(t, p)})
		require.EqualError(t, err, name+": message tenant contains a control character, which cannot travel in a header")
	}
}
