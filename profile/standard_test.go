package profile

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

func TestStandardSignatureMatchesTheOfficialTestVector(t *testing.T) {
	t.Parallel()
	sig, err := StandardSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	require.NoError(t, err)
	require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sig)
}

func TestStandardRenderMatchesGolden(t *testing.T) {
	t.Parallel()
	r, err := mustLookup(t, "standard").Render(
		fixedMessage("lead.created", "tenant_1", `{ "id": "lead_1", "name": "Ada <Lovelace> & Co", "score": 1.50 }`),
		Keys{Current: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	)
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"lead.created","timestamp":"2021-10-01T03:14:55.419Z","data":{"id":"lead_1","name":"Ada <Lovelace> & Co","score":1.50}}`, string(r.Body))
	requireGolden(t, "standard_lead_created", r)
}

func TestStandardSignatureVerifiesWithTheStandardWebhooksLibrary(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, "standard")
	current, err := p.NewSecret()
	require.NoError(t, err)
	m := fixedMessage("lead.created", "tenant_1", `{"id":"lead_1","note":"ünïcode \u2028 <b>"}`)
	m.SentAt = time.Now()
	r, err := p.Render(m, Keys{Current: current})
	require.NoError(t, err)

	wh, err := standardwebhooks.NewWebhook(current)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(r.Body, r.Header))
	require.Equal(t, m.EventID, r.Header.Get("webhook-id"))
	require.Equal(t, fmt.Sprint(m.SentAt.Unix()), r.Header.Get("webhook-timestamp"))

	tampered := append([]byte(nil), r.Body...)
	tampered[len(tampered)-2] = ' '
	require.Error(t, wh.Verify(tampered, r.Header))
}

func TestStandardSignsWithEveryKeyDuringRotation(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, "standard")
	keys := Keys{Current: mustSecret(t, p)}
	keys.Previous = []string{mustSecret(t, p), mustSecret(t, p)}
	m := fixedMessage("lead.created", "tenant_1", `{"id":"lead_1"}`)
	m.SentAt = time.Now()
	r, err := p.Render(m, keys)
	require.NoError(t, err)

	sigs := strings.Split(r.Header.Get("webhook-signature"), " ")
	require.Len(t, sigs, 3)
	for i, secret := range append([]string{keys.Current}, keys.Previous...) {
		want, err := StandardSignature(secret, m.EventID, m.SentAt.Unix(), r.Body)
		require.NoError(t, err)
		require.Equal(t, want, sigs[i], "signature %d is not for key %d", i, i)
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(r.Body, r.Header), "a receiver holding key %d rejects the delivery", i)
	}

	stranger, err := standardwebhooks.NewWebhook(mustSecret(t, p))
	require.NoError(t, err)
	require.Error(t, stranger.Verify(r.Body, r.Header))
}

func TestStandardRenderRefusesAMalformedPreviousKey(t *testing.T) {
	t.Parallel()
	_, err := mustLookup(t, "standard").Render(fixedMessage("a.b", "", `{}`), Keys{Current: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Previous: []string{"whsec_%%%"}})
	require.EqualError(t, err, "standard: previous secret 1: secret is not base64 after the whsec_ prefix")
}

func TestStandardSignatureVerifiesWithNodeCrypto(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, "standard")
	current, previous := mustSecret(t, p), mustSecret(t, p)
	url := startNode(t, "hmac_receiver.js", `SECRETS={"standard":"`+previous+`"}`)
	r, err := p.Render(fixedMessage("lead.created", "tenant_1", `{"id":"lead_1","emoji":"😀","nested":{"2":1,"1":2}}`), Keys{Current: current, Previous: []string{previous}})
	require.NoError(t, err)
	status, text := post(t, url+"/standard", r)
	require.Equal(t, http.StatusNoContent, status, text)

	r, err = p.Render(fixedMessage("lead.created", "tenant_1", `{"id":"lead_1"}`), Keys{Current: current})
	require.NoError(t, err)
	status, _ = post(t, url+"/standard", r)
	require.Equal(t, http.StatusUnauthorized, status, "a receiver holding only the retired key must reject a delivery signed without it")
}

func mustSecret(t *testing.T, p Profile) string {
	t.Helper()
	s, err := p.NewSecret()
	require.NoError(t, err)
	return s
}
