package profile

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	addProfileCase("salesos", profileCase{
		eventType:   "lead.created",
		payload:     `{"id":"x1"}`,
		weakSecrets: []string{"", "short"},
	})
}

func TestSalesOSPresetMatchesTheSeed(t *testing.T) {
	t.Parallel()
	var salesos []PresetType
	for _, m := range regexp.MustCompile(`(?m)^([a-z]+\.[a-z]+) \| (.+?) \|$`).FindAllStringSubmatch(seedText(t, "001_salesos.txt"), -1) {
		salesos = append(salesos, PresetType{m[1], m[2]})
	}
	require.Len(t, salesos, 20)
	require.Equal(t, salesos, Presets()["salesos"])
}

const salesosSecret = "salesos-webhook-secret-0123456789"

const salesosLead = `{"id":"lead_9f3","first_name":"Jean","last_name":"Dupré","company":"Acme <EU> & Co","status":"new","score":87.5}`

func TestSalesOSRenderMatchesGolden(t *testing.T) {
	t.Parallel()
	r, err := mustLookup(t, "salesos").Render(fixedMessage("lead.created", "acct_1", salesosLead), Keys{Current: salesosSecret})
	require.NoError(t, err)
	requireGolden(t, "salesos_lead_created", r)

	var body struct {
		ID        string          `json:"id"`
		Event     string          `json:"event"`
		CreatedAt string          `json:"created_at"`
		Data      json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.Equal(t, "evt_01J9Z3Q4K8M2N7P5R6S0T1V2W3", body.ID)
	require.Equal(t, "lead.created", body.Event)
	require.Equal(t, "2021-10-01T03:14:55.419Z", body.CreatedAt)
	require.Equal(t, salesosLead, string(body.Data))
}

func TestSalesOSSignsTheBodyWithHexHMAC(t *testing.T) {
	t.Parallel()
	r, err := mustLookup(t, "salesos").Render(fixedMessage("opportunity.won", "acct_1", `{"id":"opp_1","amount":12000}`), Keys{Current: salesosSecret, Previous: []string{"old-secret-0123456789"}})
	require.NoError(t, err)
	mac := hmac.New(sha256.New, []byte(salesosSecret))
	mac.Write(r.Body)
	require.Equal(t, hex.EncodeToString(mac.Sum(nil)), r.Header.Get("X-Webhook-Signature"))
	require.Len(t, r.Header.Values("X-Webhook-Signature"), 1)
}

func TestSalesOSKeepsTheEventIDAcrossRetries(t *testing.T) {
	t.Parallel()
	p := mustLookup(t, "salesos")
	first := fixedMessage("task.completed", "acct_1", `{"id":"t1"}`)
	retry := first
	retry.Attempt, retry.SentAt = 6, first.SentAt.Add(24*3600e9)
	a, err := p.Render(first, Keys{Current: salesosSecret})
	require.NoError(t, err)
	b, err := p.Render(retry, Keys{Current: salesosSecret})
	require.NoError(t, err)
	require.Equal(t, string(a.Body), string(b.Body), "a retry is the same delivery, byte for byte")
}

func TestSalesOSSignatureVerifiesWithNodeCrypto(t *testing.T) {
	t.Parallel()
	url := startNode(t, "hmac_receiver.js", `SECRETS={"salesos":"`+salesosSecret+`"}`)
	p := mustLookup(t, "salesos")
	for _, preset := range Presets()["salesos"] {
		r, err := p.Render(fixedMessage(preset.Name, "acct_1", salesosLead), Keys{Current: salesosSecret})
		require.NoError(t, err)
		status, text := post(t, url+"/salesos", r)
		require.Equal(t, http.StatusOK, status, "%s: %s", preset.Name, text)
	}
	r, err := p.Render(fixedMessage("lead.created", "acct_1", salesosLead), Keys{Current: "wrong-secret-0123456789"})
	require.NoError(t, err)
	status, _ := post(t, url+"/salesos", r)
	require.Equal(t, http.StatusUnauthorized, status)
}
