package profile

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRegistryListsEveryProfileSorted: Names lists exactly the registered
// profiles, sorted, each with a test case from its own test file (which
// also checks that its profile is registered under its name).
func TestRegistryListsEveryProfileSorted(t *testing.T) {
	t.Parallel()
	names := Names()
	require.NotEmpty(t, names)
	require.True(t, slices.IsSorted(names), "%v", names)
	require.Equal(t, len(names), len(slices.Compact(slices.Clone(names))), "names are unique: %v", names)
	require.Equal(t, slices.Sorted(maps.Keys(profileCases)), names, "every registered profile has a profileCase and every profileCase a registered profile")
	for _, name := range names {
		require.Equal(t, name, mustLookup(t, name).Name())
	}
	require.Contains(t, names, Default)
	require.Equal(t, "standard", mustLookup(t, Default).Name())
}

func TestLookupOfUnknownNameListsKnownNames(t *testing.T) {
	t.Parallel()
	_, err := Lookup("stripe")
	require.ErrorIs(t, err, ErrUnknownProfile)
	require.EqualError(t, err, `unknown profile "stripe" (known profiles: `+strings.Join(Names(), ", ")+`)`)
	for _, name := range Names() {
		require.Contains(t, err.Error(), name)
	}
}

func TestRegisterTwiceUnderOneNamePanics(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		require.Panics(t, func() { Register(mustLookup(t, name)) }, name)
	}
	require.Panics(t, func() { Register(Standard{}) })
}

func TestEveryProfileSetsJSONContentType(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		p := mustLookup(t, name)
		c := caseOf(t, name)
		secret, err := p.NewSecret()
		require.NoError(t, err)
		require.NoError(t, p.CheckEvent(c.eventType, json.RawMessage(c.payload)), name)
		r, err := p.Render(fixedMessage(c.eventType, "tenant_1", c.payload), Keys{Current: secret})
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
	for _, name := range Names() {
		p := mustLookup(t, name)
		c := caseOf(t, name)
		require.Contains(t, c.weakSecrets, "", "%s: the empty secret is among the weak ones", name)
		for _, s := range c.weakSecrets {
			err := p.ValidateSecret(s)
			require.Error(t, err, "%s accepted %q", name, s)
			if len(s) > 3 {
				require.NotContains(t, err.Error(), s, "error echoes the secret")
			}
		}
		for _, s := range c.goodSecrets {
			require.NoError(t, p.ValidateSecret(s), "%s refused %q", name, s)
		}
	}
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
