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

func init() {
	addProfileCase("standard", profileCase{
		eventType:   "lead.created",
		payload:     `{"id":"x1"}`,
		weakSecrets: []string{"", "abc", "whsec_", "whsec_!!!notbase64", "whsec_c2hvcnQ=", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		goodSecrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		noCatalog:   true,
	})
}

// The official Standard Webhooks test vector.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestStandardSignatureMatchesTheOfficialTestVector(t *testing.T) {
	t.Parallel()
	sig, err := StandardSignature(vectorSecret, vectorID, vectorTimestamp, []byte(vectorBody))
	require.NoError(t, err)
	require.Equal(t, vectorSignature, sig)
}

// TestTheStandardWebhooksLibraryAgreesOnTheOfficialTestVector feeds the
// official vector to the independent library too, both ways, so hookd's
// signer and the library are checked against the same published answer
// rather than only against each other.
func TestTheStandardWebhooksLibraryAgreesOnTheOfficialTestVector(t *testing.T) {
	t.Parallel()
	wh, err := standardwebhooks.NewWebhook(vectorSecret)
	require.NoError(t, err)

	sig, err := wh.Sign(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	require.NoError(t, err)
	require.Equal(t, vectorSignature, sig)

	header := http.Header{}
	header.Set(standardwebhooks.HeaderWebhookID, vectorID)
	header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(vectorTimestamp))
	header.Set(standardwebhooks.HeaderWebhookSignature, vectorSignature)
	// The vector is from 2021, outside the library's five-minute tolerance:
	// Verify refuses it for its age alone, VerifyIgnoringTimestamp accepts it.
	require.ErrorIs(t, wh.Verify([]byte(vectorBody), header), standardwebhooks.ErrMessageTooOld)
	require.NoError(t, wh.VerifyIgnoringTimestamp([]byte(vectorBody), header))

	// Verify (with its tolerance) accepts the vector's message signed now by
	// hookd, and refuses a signature that is off by one byte.
	now := time.Now().Unix()
	ours, err := StandardSignature(vectorSecret, vectorID, now, []byte(vectorBody))
	require.NoError(t, err)
	header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(now))
	header.Set(standardwebhooks.HeaderWebhookSignature, ours)
	require.NoError(t, wh.Verify([]byte(vectorBody), header))
	header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(vectorTimestamp))
	header.Set(standardwebhooks.HeaderWebhookSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=")
	require.ErrorIs(t, wh.VerifyIgnoringTimestamp([]byte(vectorBody), header), standardwebhooks.ErrNoMatchingSignature)
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
