package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// The request carries the endpoint's headers as they are; the copy stored
// with the attempt shows secret ones (marked, or secret by name) redacted.
func TestStoredAttemptHeadersRedactSecretHeaders(t *testing.T) {
	now := time.Now().UTC()
	w := &models.DeliveryWork{
		Delivery: models.Delivery{ID: models.NewID("dlv")},
		Endpoint: models.Endpoint{ID: models.NewID("ep"), URL: "https://example.com/hook", Profile: "standard",
			Secret:        "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
			Headers:       map[string]string{"Authorization": "Bearer s3cr3t", "X-Token": "t0k3n", "X-Team": "blue"},
			SecretHeaders: []string{"X-Token"}},
		Event: models.Event{ID: models.NewID("evt"), Type: "a.b", Payload: `{}`, OccurredAt: now},
	}
	req, stored, err := (&Deliverer{}).buildRequest(context.Background(), w, 1, now)
	require.NoError(t, err)
	require.Equal(t, "Bearer s3cr3t", req.Header.Get("Authorization"), "the receiver gets the value")
	require.Equal(t, "t0k3n", req.Header.Get("X-Token"))
	require.Equal(t, models.RedactedValue, stored["Authorization"])
	require.Equal(t, models.RedactedValue, stored["X-Token"])
	require.Equal(t, "blue", stored["X-Team"])
	require.NotEmpty(t, stored["Webhook-Signature"], "the profile's headers are stored")
}
