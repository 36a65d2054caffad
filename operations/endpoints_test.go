package operations

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
	"github.com/hookd/hookd/workflows"
)

func TestCreateEndpointRequiresURLAndTenant(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		_, err := e.ops.CreateEndpoint(e.ctx, EndpointInput{TenantID: ptr("t")})
		requireKind(t, err, Invalid, "url")
		_, err = e.ops.CreateEndpoint(e.ctx, EndpointInput{URL: ptr("https://example.com")})
		requireKind(t, err, Invalid, "tenant_id")
		_, err = e.ops.CreateEndpoint(e.ctx, EndpointInput{URL: ptr("ftp://example.com"), TenantID: ptr("t")})
		requireKind(t, err, Invalid, "url")
		_, err = e.ops.CreateEndpoint(e.ctx, EndpointInput{URL: ptr("https://example.com"), TenantID: ptr("t"),
			Headers: map[string]string{"Host": "x"}})
		requireKind(t, err, Invalid, "headers")
		eps, err := e.ops.ListEndpoints(e.ctx, models.EndpointFilter{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, eps)
		require.Empty(t, e.engine.endpoints, "no health workflow for a refused endpoint")
	})
}

func TestCreateEndpointTakesDefaultsMakesASecretAndStartsItsHealthWorkflow(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		require.Equal(t, []string{"*"}, ep.EventTypes)
		require.Equal(t, profile.Default, ep.Profile)
		require.Equal(t, models.EndpointActive, ep.State)
		require.Equal(t, models.DefaultPauseThreshold, ep.PauseThreshold)
		require.NotEmpty(t, ep.Secret)
		require.Equal(t, []string{ep.ID}, e.engine.endpoints)
		stored, err := e.ops.GetEndpoint(e.ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, ep.Secret, stored.Secret)
	})
}

func TestCreateEndpointWithOneEndpointPerTenantRefusesASecond(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		first := e.endpoint(tenant)
		_, err := e.ops.CreateEndpoint(e.ctx, EndpointInput{URL: ptr("https://example.com/2"), TenantID: ptr(tenant)})
		requireKind(t, err, Conflict, "tenant_id")
		require.Contains(t, err.Error(), first.ID, "the conflict names the endpoint the tenant has")
	}, func(d *Deps) { d.OneEndpointPerTenant = true })
}

func TestUpdateEndpointWritesOnlyTheFieldsGiven(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		// Another writer changes the description after this update read the endpoint...
		require.NoError(t, e.store.DB().Model(&models.Endpoint{}).Where("id = ?", ep.ID).
			Update("description", "written meanwhile").Error)
		// ...and an update of the URL alone keeps it.
		_, err := e.ops.UpdateEndpoint(e.ctx, ep.ID, EndpointInput{URL: ptr("https://example.com/new")})
		require.NoError(t, err)
		stored, err := e.ops.GetEndpoint(e.ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, "https://example.com/new", stored.URL)
		require.Equal(t, "written meanwhile", stored.Description)
		require.Equal(t, ep.Secret, stored.Secret)
		require.Empty(t, e.engine.signalsSent(), "no pause_threshold given, no signal")
	})
}

func TestUpdateEndpointRefusesAnInvalidFieldAndChangesNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		_, err := e.ops.UpdateEndpoint(e.ctx, ep.ID, EndpointInput{URL: ptr("https://example.com/new"), Timeout: ptr("2m")})
		requireKind(t, err, Invalid, "timeout")
		_, err = e.ops.UpdateEndpoint(e.ctx, ep.ID, EndpointInput{TenantID: ptr("someone-else")})
		requireKind(t, err, Invalid, "tenant_id")
		_, err = e.ops.UpdateEndpoint(e.ctx, ep.ID, EndpointInput{Profile: ptr("no-such-profile")})
		requireKind(t, err, Invalid, "profile")
		stored, err := e.ops.GetEndpoint(e.ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, ep.URL, stored.URL)
		_, err = e.ops.UpdateEndpoint(e.ctx, "ep_missing", EndpointInput{URL: ptr("https://example.com/new")})
		requireKind(t, err, NotFound, "")
	})
}

func TestUpdateEndpointPassesAPauseThresholdToTheHealthWorkflow(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		updated, err := e.ops.UpdateEndpoint(e.ctx, ep.ID, EndpointInput{PauseThreshold: ptr(3)})
		require.NoError(t, err)
		require.Equal(t, 3, updated.PauseThreshold)
		require.Equal(t, []string{ep.ID + " " + workflows.SignalSettings}, e.engine.signalsSent())
	})
}

func TestDeleteEndpointCancelsOpenDeliveriesAndStopsTheirWorkflows(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		tenant := models.NewID("tenant")
		ep := e.endpoint(tenant)
		open, done := e.ingest(tenant).Deliveries[0], e.ingest(tenant).Deliveries[0]
		e.setStatus(done.ID, models.DeliverySucceeded)
		require.NoError(t, e.ops.DeleteEndpoint(e.ctx, ep.ID))
		require.Equal(t, []string{open.ID}, e.engine.stopped[ep.ID])
		d, _, err := e.ops.GetDelivery(e.ctx, open.ID)
		require.NoError(t, err)
		require.Equal(t, models.DeliveryCancelled, d.Status)
		d, _, err = e.ops.GetDelivery(e.ctx, done.ID)
		require.NoError(t, err)
		require.Equal(t, models.DeliverySucceeded, d.Status, "finished deliveries stay as they were")

		requireKind(t, e.ops.DeleteEndpoint(e.ctx, ep.ID), NotFound, "")
		_, err = e.ops.GetEndpoint(e.ctx, ep.ID)
		requireKind(t, err, NotFound, "")
	})
}

func TestGetEndpointOfAnIDHookdNeverIssuedIsNotFound(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		for _, id := range []string{"ep_01M85KMFZ37SC812YH1CEJAVP3", "ep_\x00", "ep_\xff"} {
			_, err := e.ops.GetEndpoint(e.ctx, id)
			requireKind(t, err, NotFound, "")
		}
	})
}

func TestRotateSecretSignsWithTheNewSecretAndKeepsTheOldForTheGracePeriod(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint(models.NewID("tenant"))
		rotated, err := e.ops.RotateSecret(e.ctx, ep.ID, RotateInput{GracePeriod: ptr("1h")})
		require.NoError(t, err)
		require.NotEqual(t, ep.Secret, rotated.Secret)
		s, err := e.ops.RevealSecret(e.ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, rotated.Secret, s.Current)
		require.Equal(t, []string{ep.Secret}, s.Previous)

		given := "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		rotated, err = e.ops.RotateSecret(e.ctx, ep.ID, RotateInput{Secret: &given, GracePeriod: ptr("0s")})
		require.NoError(t, err)
		require.Equal(t, given, rotated.Secret)

		_, err = e.ops.RotateSecret(e.ctx, ep.ID, RotateInput{Secret: ptr("short")})
		requireKind(t, err, Invalid, "secret")
		_, err = e.ops.RotateSecret(e.ctx, ep.ID, RotateInput{GracePeriod: ptr((MaxGrace + time.Hour).String())})
		requireKind(t, err, Invalid, "grace_period")
		_, err = e.ops.RotateSecret(e.ctx, "ep_missing", RotateInput{})
		requireKind(t, err, NotFound, "")
	})
}

func TestRevealSecretOfAMissingEndpointIsNotFound(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		_, err := e.ops.RevealSecret(e.ctx, "ep_missing")
		requireKind(t, err, NotFound, "")
		ep := e.endpoint(models.NewID("tenant"))
		s, err := e.ops.RevealSecret(e.ctx, ep.ID)
		require.NoError(t, err)
		require.NotNil(t, s.Previous, "an empty list, not nil")
	})
}
