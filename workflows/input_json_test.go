package workflows

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/activities"
)

// A delivery's input reads as durations in the Temporal UI, and the
// numeric form of histories recorded before still reads back.
func TestDeliveryInputWritesDurationsAsStrings(t *testing.T) {
	in := input()
	in.Progress = &DeliveryProgress{Next: 2, Attempts: 2, Trigger: "manual"}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.Contains(t, string(b), `"Schedule":["1m","5m","30m","2h","24h"]`)
	require.Contains(t, string(b), `"AttemptTimeout":"30s"`)
	require.NotContains(t, string(b), "60000000000")

	var back DeliveryInput
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, in, back)

	var old DeliveryInput
	require.NoError(t, json.Unmarshal([]byte(`{"DeliveryID":"dlv_1","Schedule":[60000000000,300000000000],"AttemptTimeout":30000000000}`), &old))
	require.Equal(t, []time.Duration{time.Minute, 5 * time.Minute}, old.Schedule)
	require.Equal(t, 30*time.Second, old.AttemptTimeout)

	var none DeliveryInput
	require.NoError(t, json.Unmarshal([]byte(`{"Schedule":null}`), &none))
	require.Nil(t, none.Schedule)
	require.Error(t, json.Unmarshal([]byte(`{"Schedule":["soon"]}`), &none))
}

func TestAttemptInputAndResultWriteDurationsAsStrings(t *testing.T) {
	b, err := json.Marshal(activities.AttemptInput{DeliveryID: "dlv_1", NextDelay: 90 * time.Second})
	require.NoError(t, err)
	require.Contains(t, string(b), `"NextDelay":"90s"`)
	var in activities.AttemptInput
	require.NoError(t, json.Unmarshal(b, &in))
	require.Equal(t, 90*time.Second, in.NextDelay)

	b, err = json.Marshal(activities.AttemptResult{StatusCode: 429, RetryAfter: 10 * time.Minute})
	require.NoError(t, err)
	require.Contains(t, string(b), `"RetryAfter":"10m"`)
	var r activities.AttemptResult
	require.NoError(t, json.Unmarshal(b, &r))
	require.Equal(t, activities.AttemptResult{StatusCode: 429, RetryAfter: 10 * time.Minute}, r)
	require.NoError(t, json.Unmarshal([]byte(`{"StatusCode":503,"RetryAfter":1000000000}`), &r))
	require.Equal(t, time.Second, r.RetryAfter)
}
