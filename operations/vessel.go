package operations

import (
	"context"
	"errors"
	"strings"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

// PrimaryEndpointStore is what the Vessel webhook operations need of the
// store, besides endpoints: a Vessel webhook is its connection's (tenant's)
// primary endpoint.
type PrimaryEndpointStore interface {
	CreatePrimaryEndpoint(ctx context.Context, e *models.Endpoint) error
	GetPrimaryEndpoint(ctx context.Context, f models.PrimaryEndpointFilter) (*models.Endpoint, error)
	DeletePrimaryEndpoint(ctx context.Context, f models.PrimaryEndpointFilter) (*models.Endpoint, []models.Delivery, error)
}

// VesselWebhookFilter names a Vessel webhook by its connection, its
// webhookId (the endpoint id), or both, which must then agree.
type VesselWebhookFilter struct {
	ConnectionID string
	WebhookID    string
}

func (f VesselWebhookFilter) primary() models.PrimaryEndpointFilter {
	return models.PrimaryEndpointFilter{TenantID: f.ConnectionID, EndpointID: f.WebhookID}
}

// The Vessel compatibility webhooks: Vessel's rules for managing webhooks,
// as its webhook documentation states them. One webhook per connection,
// created, read and deleted by connection, with a webhookId the caller
// keeps. A webhook is a regular endpoint, its tenant's primary endpoint
// (models.PrimaryEndpoint): tenant = connectionId, profile
// vessel, event types ["*"], default schedule; webhookId is its endpoint id.
// The accessToken, when given, is the secret the signature is computed
// with, so a receiver written for Vessel keeps using the connection's access
// token; otherwise one is generated and answered once.

// VesselWebhookInput is a Vessel webhook to create.
type VesselWebhookInput struct {
	ConnectionID *string `json:"connectionId"`
	AccessToken  *string `json:"accessToken"`
	Webhook      *struct {
		WebhookURL *string `json:"webhookUrl"`
	} `json:"webhook"`
}

// CreateVesselWebhook creates the connection's webhook; a connection that
// has one is a Conflict. The returned endpoint holds the secret.
func (o *Ops) CreateVesselWebhook(ctx context.Context, in VesselWebhookInput) (*models.Endpoint, error) {
	e, err := o.newVesselWebhook(in)
	if err != nil {
		return nil, err
	}
	if err := o.storeVesselWebhook(ctx, e); err != nil {
		return nil, err
	}
	o.startHealth(ctx, e)
	o.log.Info("vessel.webhook_created", "endpoint_id", e.ID, "tenant_id", e.TenantID)
	return e, nil
}

// newVesselWebhook validates in and makes its endpoint.
func (o *Ops) newVesselWebhook(in VesselWebhookInput) (*models.Endpoint, error) {
	switch {
	case in.ConnectionID == nil || *in.ConnectionID == "":
		return nil, invalid("connectionId", "is required")
	case !tenantPattern.MatchString(*in.ConnectionID):
		return nil, invalid("connectionId", tokenRule)
	case in.Webhook == nil || in.Webhook.WebhookURL == nil:
		return nil, invalid("webhook.webhookUrl", "is required")
	}
	if err := validateURL(*in.Webhook.WebhookURL); err != nil {
		return nil, invalid("webhook.webhookUrl", "%s", err)
	}
	vessel, err := profile.Lookup(profile.Vessel{}.Name())
	if err != nil {
		return nil, err
	}
	var secret string
	if in.AccessToken != nil {
		if err := vessel.ValidateSecret(*in.AccessToken); err != nil {
			return nil, invalid("accessToken", "%s", err)
		}
		secret = *in.AccessToken
	} else if secret, err = vessel.NewSecret(); err != nil {
		return nil, err
	}
	e := o.newEndpoint()
	e.TenantID, e.URL = *in.ConnectionID, *in.Webhook.WebhookURL
	e.Description = "Vessel webhook of connection " + *in.ConnectionID
	e.Profile, e.Secret = vessel.Name(), secret
	e.SecretHeaders = nil // as Vessel webhooks have always been stored
	return e, nil
}

// storeVesselWebhook writes a new webhook, one per connection. Under
// HOOKD_ONE_ENDPOINT_PER_TENANT the tenant's other endpoints count too.
func (o *Ops) storeVesselWebhook(ctx context.Context, e *models.Endpoint) error {
	var err error
	if o.oneEndpointPerTenant {
		err = o.store.CreateSoleEndpoint(ctx, e)
		if errors.Is(err, models.ErrTenantHasEndpoint) {
			if _, werr := o.store.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: e.TenantID}); werr != nil {
				return o.tenantHasEndpoint(ctx, e.TenantID, "connectionId")
			}
			err = models.ErrPrimaryEndpointExists
		}
	} else {
		err = o.store.CreatePrimaryEndpoint(ctx, e)
	}
	if errors.Is(err, models.ErrPrimaryEndpointExists) {
		msg := "connection " + e.TenantID + " already has a webhook (one per connection); delete it first"
		if prior, err := o.store.GetPrimaryEndpoint(ctx, models.PrimaryEndpointFilter{TenantID: e.TenantID}); err == nil {
			msg = "connection " + e.TenantID + " already has the webhook " + prior.ID + " (one per connection); delete it first"
		}
		return &Error{Kind: Conflict, Field: "connectionId", Message: msg}
	}
	return err
}

// GetVesselWebhook finds the webhook by connection and/or webhookId.
func (o *Ops) GetVesselWebhook(ctx context.Context, f VesselWebhookFilter) (*models.Endpoint, error) {
	e, err := o.store.GetPrimaryEndpoint(ctx, f.primary())
	if err != nil {
		return nil, vesselStoreError(err, f)
	}
	return e, nil
}

// DeleteVesselWebhook deletes the webhook and its endpoint, cancels the
// endpoint's unfinished deliveries and stops their workflows and the
// endpoint's health workflow (best effort). It answers the deleted webhook.
func (o *Ops) DeleteVesselWebhook(ctx context.Context, f VesselWebhookFilter) (*models.Endpoint, error) {
	e, open, err := o.store.DeletePrimaryEndpoint(ctx, f.primary())
	if err != nil {
		return nil, vesselStoreError(err, f)
	}
	o.stopWorkflows(ctx, e.ID, open)
	o.log.Info("vessel.webhook_deleted", "endpoint_id", e.ID, "tenant_id", e.TenantID, "cancelled_deliveries", len(open))
	return e, nil
}

func vesselStoreError(err error, f VesselWebhookFilter) error {
	if !errors.Is(err, models.ErrNotFound) {
		return err
	}
	var what []string
	if f.ConnectionID != "" {
		what = append(what, "of connection "+f.ConnectionID)
	}
	if f.WebhookID != "" {
		what = append(what, "with webhookId "+f.WebhookID)
	}
	return &Error{Kind: NotFound, Message: "no Vessel webhook " + strings.Join(what, " and ")}
}
