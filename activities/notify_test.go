package activities_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
)

// sentNotice is one call of the NoticeSender.
type sentNotice struct {
	Type, Key string
	Payload   map[string]any
	At        time.Time
}

// notify names the Notify activity, as workflows call it.
var notify = (*activities.Notifier)(nil).Notify

type recordingSender struct{ sent []sentNotice }

func (r *recordingSender) Notify(_ context.Context, eventType, key string, payload json.RawMessage, at time.Time) error {
	var p map[string]any
	if err := json.Unmarshal(payload, &p); err != nil {
		return err
	}
	r.sent = append(r.sent, sentNotice{Type: eventType, Key: key, Payload: p, At: at})
	return nil
}

func notifyEnv(t *testing.T, s *models.Store) (*testsuite.TestActivityEnvironment, *recordingSender) {
	t.Helper()
	sender := &recordingSender{}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(&activities.Notifier{Store: s, Sender: sender, Tenant: "ops", Logger: slog.New(slog.DiscardHandler)})
	return env, sender
}

func TestNotifySendsTheEndpointsNoticeWithADeterministicKey(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		env, sender := notifyEnv(t, s)
		at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		in := activities.NoticeInput{Type: activities.NoticeEndpointPaused, EndpointID: f.ep.ID, At: at, Reason: "10 consecutive failed attempts"}
		for range 2 {
			_, err := env.ExecuteActivity(notify, in)
			require.NoError(t, err)
		}
		require.Len(t, sender.sent, 2)
		require.Equal(t, sender.sent[0], sender.sent[1], "a retry sends the same notice with the same key, which ingest accepts once")
		n := sender.sent[0]
		require.Equal(t, "endpoint.paused", n.Type)
		require.Equal(t, "endpoint.paused/"+f.ep.ID+"/1767323045000000006", n.Key)
		require.Equal(t, map[string]any{"endpoint_id": f.ep.ID, "tenant_id": "acme", "url": "https://example.com/hook",
			"reason": "10 consecutive failed attempts", "paused_at": "2026-01-02T03:04:05Z"}, n.Payload,
			"times in microseconds, as the store keeps them")
		require.True(t, at.Truncate(time.Microsecond).Equal(n.At))
	})
}

func TestNotifyOfAnExhaustedDeliveryCarriesItsEventType(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		d := f.delivery(f.ep, time.Now().UTC())
		env, sender := notifyEnv(t, s)
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		_, err := env.ExecuteActivity(notify, activities.NoticeInput{Type: activities.NoticeDeliveryExhausted,
			EndpointID: f.ep.ID, At: at, DeliveryID: d.ID, EventID: d.EventID, Attempts: 6, LastStatusCode: 503, LastError: "HTTP 503"})
		require.NoError(t, err)
		require.Len(t, sender.sent, 1)
		n := sender.sent[0]
		require.Equal(t, "delivery.exhausted/"+d.ID+"/1767323045000000000", n.Key)
		require.Equal(t, map[string]any{"endpoint_id": f.ep.ID, "tenant_id": "acme", "url": "https://example.com/hook",
			"delivery_id": d.ID, "event_id": d.EventID, "event_type": "x", "attempts": float64(6),
			"last_status_code": float64(503), "last_error": "HTTP 503", "exhausted_at": "2026-01-02T03:04:05Z"}, n.Payload)
	})
}

func TestNotifySendsNothingAboutTheOperationalTenantOrAGoneEndpoint(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		ops := f.endpoint()
		require.NoError(t, s.DB().Model(&models.Endpoint{}).Where("id = ?", ops.ID).Update("tenant_id", "ops").Error)
		env, sender := notifyEnv(t, s)
		now := time.Now().UTC()
		for _, id := range []string{ops.ID, models.NewID("ep")} {
			_, err := env.ExecuteActivity(notify,
				activities.NoticeInput{Type: activities.NoticeEndpointDisabled, EndpointID: id, At: now, Reason: activities.GoneReason})
			require.NoError(t, err)
		}
		require.Empty(t, sender.sent, "no notice about the operator's own endpoints (no feedback loop), none about a deleted one")
	})
}
