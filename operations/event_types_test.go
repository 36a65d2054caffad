package operations

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

func TestCreateEventTypeValidatesNameAndSchemaAndRefusesADuplicate(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		_, err := e.ops.CreateEventType(e.ctx, EventTypeInput{})
		requireKind(t, err, Invalid, "name")
		_, err = e.ops.CreateEventType(e.ctx, EventTypeInput{Name: "lead created"})
		requireKind(t, err, Invalid, "name")
		_, err = e.ops.CreateEventType(e.ctx, EventTypeInput{Name: "lead.created", Schema: []byte(`{"type":`)})
		requireKind(t, err, Invalid, "schema")
		_, err = e.ops.CreateEventType(e.ctx, EventTypeInput{Name: "lead.created", Schema: []byte(`{"type":"nothing"}`)})
		requireKind(t, err, Invalid, "schema")

		t1, err := e.ops.CreateEventType(e.ctx, EventTypeInput{Name: "lead.created", Schema: []byte(` { "type" : "object" } `)})
		require.NoError(t, err)
		require.Equal(t, `{"type":"object"}`, t1.Schema, "stored compact")
		_, err = e.ops.CreateEventType(e.ctx, EventTypeInput{Name: "lead.created"})
		requireKind(t, err, Conflict, "name")
		ts, err := e.ops.ListEventTypes(e.ctx, "", 10)
		require.NoError(t, err)
		require.Len(t, ts, 1)
	})
}

func TestLoadPresetAddsTheVendorsCatalogOnce(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		p, err := e.ops.LoadPreset(e.ctx, "vessel")
		require.NoError(t, err)
		require.Positive(t, p.EventTypes)
		require.Equal(t, int64(p.EventTypes), p.Added)
		again, err := e.ops.LoadPreset(e.ctx, "vessel")
		require.NoError(t, err)
		require.Zero(t, again.Added, "types already present are kept")

		_, err = e.ops.LoadPreset(e.ctx, "nope")
		requireKind(t, err, NotFound, "profile")
		require.Contains(t, err.Error(), "vessel", "the error lists the presets")
	})
}

func TestReadyReportsWhichDependencyDoesNotAnswer(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		require.Equal(t, Readiness{Database: true, Engine: true}, e.ops.Ready(e.ctx))
		e.engine.notReady = errors.New("no temporal")
		r := e.ops.Ready(e.ctx)
		require.False(t, r.Ready())
		require.True(t, r.Database)
		require.NoError(t, e.store.Close())
		require.False(t, e.ops.Ready(e.ctx).Database)
	})
}

func TestVesselWebhookIsOnePerConnection(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		conn := models.NewID("conn")
		in := VesselWebhookInput{ConnectionID: &conn, AccessToken: ptr("token-of-the-connection-123")}
		_, err := e.ops.CreateVesselWebhook(e.ctx, in)
		requireKind(t, err, Invalid, "webhook.webhookUrl")
		in.Webhook = &struct {
			WebhookURL *string `json:"webhookUrl"`
		}{WebhookURL: ptr("https://example.com/vessel")}
		w, err := e.ops.CreateVesselWebhook(e.ctx, in)
		require.NoError(t, err)
		require.Equal(t, "vessel", w.Profile)
		require.Equal(t, "token-of-the-connection-123", w.Secret)
		require.Equal(t, []string{w.ID}, e.engine.endpoints, "its health workflow is started")

		_, err = e.ops.CreateVesselWebhook(e.ctx, in)
		requireKind(t, err, Conflict, "connectionId")
		require.Contains(t, err.Error(), w.ID)

		got, err := e.ops.GetVesselWebhook(e.ctx, VesselWebhookFilter{ConnectionID: conn})
		require.NoError(t, err)
		require.Equal(t, w.ID, got.ID)
		deleted, err := e.ops.DeleteVesselWebhook(e.ctx, VesselWebhookFilter{WebhookID: w.ID})
		require.NoError(t, err)
		require.Equal(t, w.ID, deleted.ID)
		require.Contains(t, e.engine.stopped, w.ID)
		_, err = e.ops.GetVesselWebhook(e.ctx, VesselWebhookFilter{ConnectionID: conn})
		requireKind(t, err, NotFound, "")
		require.Contains(t, err.Error(), "of connection "+conn)
	})
}
